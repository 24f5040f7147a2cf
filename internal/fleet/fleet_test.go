package fleet_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/facts"
	"github.com/shipshape-dev/shipshape/internal/fleet"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/store"
	"github.com/shipshape-dev/shipshape/internal/store/storetest"
	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

// clock is a movable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type harness struct {
	t     *testing.T
	st    *store.Store
	f     *fleet.Fleet
	clock *clock
	eng   *engine.Engine
}

// newHarness opens a store on dsn with the fleet's workers, and a fleet
// judging with eng under pols.
func newHarness(t *testing.T, dsn string, eng *engine.Engine, pols *fleet.Policies) *harness {
	t.Helper()
	qc := store.QueueConfig{PollInterval: 50 * time.Millisecond}
	jobs := fleet.RegisterJobs(&qc)
	st, err := store.Open(context.Background(), dsn, store.WithQueue(qc))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Now().UTC()}
	f, err := fleet.New(st, eng, nil, pols, fleet.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	jobs.Bind(f)
	return &harness{t: t, st: st, f: f, clock: c, eng: eng}
}

// runJobs runs the queue until no job is left to run.
func (h *harness) runJobs() []store.Job {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	q := h.st.Queue()
	if err := q.Start(ctx); err != nil {
		h.t.Fatal(err)
	}
	defer q.Stop(context.Background())
	for {
		jobs, err := q.Jobs(ctx, store.JobFilter{States: []string{"available", "running", "retryable", "scheduled", "pending"}})
		if err != nil {
			h.t.Fatal(err)
		}
		if len(jobs) == 0 {
			break
		}
		if ctx.Err() != nil {
			h.t.Fatalf("jobs left: %+v", jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	all, err := q.Jobs(ctx, store.JobFilter{Limit: 1000})
	if err != nil {
		h.t.Fatal(err)
	}
	return all
}

func (h *harness) state(digest string) store.Approval {
	h.t.Helper()
	a, err := h.st.Approval(context.Background(), digest)
	if err != nil {
		h.t.Fatalf("approval of %s: %v", digest, err)
	}
	return a
}

// newEngine returns an engine with the advisory database in dir (none: "").
func newEngine(t *testing.T, vulnDir string) *engine.Engine {
	t.Helper()
	d := engine.Deps{SkipVulns: vulnDir == ""}
	if vulnDir != "" {
		db, err := vulndb.Open(vulnDir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		d.Vulns = db
	}
	e, err := engine.New(d)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// osvDB imports real records of the shared Debian OSV export into a new
// database directory.
func osvDB(t *testing.T, ids ...string) string { return imagetest.OSVDir(t, "Debian", ids...) }

// appImage is a Debian 12 image running as a user, with libssl3
// 3.0.11-1~deb12u1 (fixed in deb12u2 for CVE-2023-5363, CVSS 7.5).
func appImage(user string, extra ...imagetest.File) imagetest.Spec {
	status := "Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.11-1~deb12u1\nArchitecture: amd64\n\n"
	base := imagetest.Debian()
	for i, f := range base {
		if f.Path == "/var/lib/dpkg/status" {
			base[i].Content += status
		}
	}
	return imagetest.Spec{Layers: [][]imagetest.File{base, append([]imagetest.File{imagetest.Text("/app/README", "app")}, extra...)},
		Config: v1.Config{Entrypoint: []string{"/usr/bin/dash"}, User: user, Labels: map[string]string{
			"org.opencontainers.image.source": "https://github.com/example/app", "org.opencontainers.image.version": "1.0"}}}
}

// observe builds spec and observes it as ref.
func observe(t *testing.T, eng *engine.Engine, spec imagetest.Spec, ref string) *facts.Facts {
	t.Helper()
	img := imagetest.Image(t, spec)
	input := imagetest.WriteLayout(t, t.TempDir(), img, ref)
	fs, err := eng.Observe(context.Background(), input, engine.ObserveOptions{Ref: ref, NoCache: true, SkipSupply: true})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func ctx() context.Context { return context.Background() }

// A passing image is approved by the policy; a person revokes it; approving
// a revoked image needs force; a failing image is rejected with its vetoes.
func TestSubmitApproveRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		eng := newEngine(t, "")
		h := newHarness(t, dsn, eng, nil)
		ev, err := h.f.Record(ctx(), observe(t, eng, appImage("app"), "registry.example.com/team/app:1.0"), "ci", fleet.ReasonSubmit)
		if err != nil {
			t.Fatal(err)
		}
		if !ev.Pass || ev.State != store.StateApproved || ev.Previous != "" {
			t.Fatalf("submission: %+v", ev)
		}
		if a := h.state(ev.Digest); a.Actor != "policy" || a.EvaluationID != ev.EvaluationID {
			t.Errorf("approval %+v", a)
		}
		if _, err := h.f.Decide(ctx(), ev.Digest, fleet.Revoke, "alice", "", false); err == nil {
			t.Error("revoke without a reason accepted")
		}
		if _, err := h.f.Decide(ctx(), ev.Digest, fleet.Revoke, "alice", "leaked key", false); err != nil {
			t.Fatal(err)
		}
		if a := h.state(ev.Digest); a.State != store.StateRevoked || a.Actor != "alice" || a.Reason != "leaked key" {
			t.Errorf("after revoke: %+v", a)
		}
		if _, err := h.f.Decide(ctx(), ev.Digest, fleet.Approve, "bob", "", false); err == nil {
			t.Error("approving a revoked image without force accepted")
		}
		// A re-evaluation does not bring a revoked image back.
		if ev2, err := h.f.Reevaluate(ctx(), ev.Digest, "system", fleet.ReasonManual); err != nil || ev2.State != store.StateRevoked {
			t.Errorf("re-evaluation of a revoked image: %+v, %v", ev2, err)
		}

		root, err := h.f.Record(ctx(), observe(t, eng, appImage(""), "registry.example.com/team/root:1.0"), "ci", fleet.ReasonSubmit)
		if err != nil {
			t.Fatal(err)
		}
		if root.Pass || root.State != store.StateRejected || !slices.ContainsFunc(root.Failing, func(s string) bool { return strings.HasPrefix(s, "SEC-001") }) {
			t.Fatalf("root image: %+v", root)
		}
		if _, err := h.f.Decide(ctx(), root.Digest, fleet.Approve, "bob", "", false); err == nil {
			t.Error("approving a failing image without force accepted")
		}
		a, err := h.f.Decide(ctx(), root.Digest, fleet.Approve, "bob", "vendor image, runs in a sandbox", true)
		if err != nil || a.State != store.StateApproved || !strings.HasPrefix(a.Reason, "forced: ") {
			t.Fatalf("forced approval: %+v, %v", a, err)
		}
		evs, err := h.st.Events(ctx(), store.EventFilter{Subject: root.Digest})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range evs {
			actions = append(actions, e.Actor+" "+e.Action)
		}
		if want := []string{"ci image.evaluated", "policy approval.rejected", "bob approval.approved"}; !slices.Equal(actions, want) {
			t.Errorf("audit log %q, want %q", actions, want)
		}
	})
}

// New advisory data re-judges, from stored facts, exactly the images whose
// packages it names: the approved image that now has a fixable CVSS 7.5
// vulnerability moves to expiring with the policy's grace, then the daily
// sweep retires it once the grace is over; an image without the package is
// not judged again.
func TestAdvisoryUpdateRetires(t *testing.T) {
	dbDir := osvDB(t, "CVE-2023-5363", "DSA-5532-1")
	storetest.Each(t, func(t *testing.T, dsn string) {
		old := newEngine(t, "")
		h := newHarness(t, dsn, old, nil)
		vuln, err := h.f.Record(ctx(), observe(t, old, appImage("app"), "registry.example.com/team/app:1.0"), "ci", fleet.ReasonSubmit)
		if err != nil {
			t.Fatal(err)
		}
		clean := appImage("app")
		clean.Layers[0] = imagetest.Debian()
		other, err := h.f.Record(ctx(), observe(t, old, clean, "registry.example.com/team/other:1.0"), "ci", fleet.ReasonSubmit)
		if err != nil {
			t.Fatal(err)
		}
		if vuln.State != store.StateApproved || other.State != store.StateApproved {
			t.Fatalf("before the update: %s %s", vuln.State, other.State)
		}
		changed, err := h.f.ReloadData(ctx(), func() (*engine.Engine, func(), error) { return newEngine(t, dbDir), nil, nil })
		if err != nil || !changed {
			t.Fatalf("ReloadData: %v, %v", changed, err)
		}
		jobs := h.runJobs()
		evaluated := map[string]int{}
		for _, j := range jobs {
			if j.State != "completed" {
				t.Errorf("job %d %s: %s %v", j.ID, j.Kind, j.State, j.Errors)
			}
			if j.Kind == (fleet.EvaluateArgs{}).Kind() {
				for _, d := range []string{vuln.Digest, other.Digest} {
					if strings.Contains(string(j.Args), d) {
						evaluated[d]++
					}
				}
			}
		}
		if evaluated[vuln.Digest] != 1 || evaluated[other.Digest] != 0 {
			t.Errorf("re-evaluations %v: want the vulnerable image once and the other never", evaluated)
		}
		a := h.state(vuln.Digest)
		if a.State != store.StateExpiring || !strings.Contains(a.Reason, "SEC-020") {
			t.Fatalf("after the update: %+v", a)
		}
		if grace := a.ValidUntil.Sub(h.clock.Now()); grace < 13*24*time.Hour || grace > 14*24*time.Hour {
			t.Errorf("grace %v, want the default 14 days", grace)
		}
		latest, err := h.st.LatestEvaluation(ctx(), vuln.Digest)
		if err != nil || latest.Verdict != "FAIL" {
			t.Fatalf("latest evaluation %+v %v", latest, err)
		}
		keys, err := h.st.Findings(ctx(), latest.ID)
		if err != nil || !slices.ContainsFunc(keys, func(k store.FindingKey) bool { return k.Advisory == "CVE-2023-5363" }) {
			t.Errorf("finding keys %+v", keys)
		}
		// The same update again enqueues nothing new.
		if changed, _ := h.f.ReloadData(ctx(), func() (*engine.Engine, func(), error) { return newEngine(t, dbDir), nil, nil }); changed {
			t.Error("the same data counted as a change")
		}

		h.clock.Add(15 * 24 * time.Hour)
		if n, err := h.f.Sweep(ctx()); err != nil || n != 1 {
			t.Fatalf("sweep enqueued %d, %v; want the expiring image", n, err)
		}
		h.runJobs()
		if a := h.state(vuln.Digest); a.State != store.StateRetired {
			t.Fatalf("after the grace: %+v", a)
		}
		if a := h.state(other.Digest); a.State != store.StateApproved {
			t.Errorf("the clean image: %+v", a)
		}
	})
}

// A policy with no grace retires at once; a repository binding picks it.
func TestGraceZeroRetiresAtOnce(t *testing.T) {
	dbDir := osvDB(t, "CVE-2023-5363", "DSA-5532-1")
	strict, err := policy.Parse("strict.yaml", []byte("service:\n  graceDays: 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	pols := &fleet.Policies{Bindings: []fleet.Binding{{Pattern: "registry.example.com/payments/**", Policy: strict}}}
	h := newHarness(t, storetest.SQLite(t), newEngine(t, ""), pols)
	pay, err := h.f.Record(ctx(), observe(t, h.eng, appImage("app"), "registry.example.com/payments/api/v2:1.0"), "ci", fleet.ReasonSubmit)
	if err != nil {
		t.Fatal(err)
	}
	h.f.SetEngine(newEngine(t, dbDir), nil)
	ev, err := h.f.Reevaluate(ctx(), pay.Digest, "system", fleet.ReasonAdvisories)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Previous != store.StateApproved || ev.State != store.StateRetired {
		t.Fatalf("strict policy: %s -> %s", ev.Previous, ev.State)
	}
}

// An OS past its end of life retires an approved image on the next
// evaluation, whatever the grace.
func TestEndOfLifeRetires(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), newEngine(t, ""), nil)
	ev, err := h.f.Record(ctx(), observe(t, h.eng, appImage("app"), "registry.example.com/team/app:1.0"), "ci", fleet.ReasonSubmit)
	if err != nil || ev.State != store.StateApproved {
		t.Fatalf("%+v %v", ev, err)
	}
	h.clock.Add(5 * 365 * 24 * time.Hour) // Debian 12 reaches its end of life in 2028
	ev, err = h.f.Reevaluate(ctx(), ev.Digest, "system", fleet.ReasonInterval)
	if err != nil {
		t.Fatal(err)
	}
	a := h.state(ev.Digest)
	if a.State != store.StateRetired || !strings.Contains(a.Reason, "past end of life") {
		t.Fatalf("after end of life: %+v", a)
	}
}

// An exception created through the fleet re-judges the images it may
// waive: the rejected root image passes with SEC-001 waived and is
// approved; once the exception is deleted, the image fails again and, being
// approved, goes to expiring.
func TestExceptionRejudges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn, newEngine(t, ""), nil)
		root, err := h.f.Record(ctx(), observe(t, h.eng, appImage(""), "registry.example.com/vendor/tool:3.1"), "ci", fleet.ReasonSubmit)
		if err != nil || root.State != store.StateRejected {
			t.Fatalf("%+v %v", root, err)
		}
		if _, err := h.f.CreateException(ctx(), fleet.Exception{Check: "SEC-001", RepositoryPattern: "registry.example.com/vendor/*", Owner: "platform", Reason: "x"}, "alice"); err != nil {
			t.Fatal(err)
		}
		h.runJobs()
		a := h.state(root.Digest)
		if a.State != store.StateApproved {
			t.Fatalf("after the exception: %+v", a)
		}
		ev, err := h.st.LatestEvaluation(ctx(), root.Digest)
		if err != nil || ev.Verdict != "PASS" || !strings.Contains(string(ev.Report), "exception 1 (platform)") {
			t.Fatalf("evaluation with the exception: %s %v", ev.Verdict, err)
		}
		for _, bad := range []fleet.Exception{
			{Check: "SEC-001", Owner: "platform", Reason: "x"},                                                            // no scope
			{RepositoryPattern: "*", Owner: "platform", Reason: "x"},                                                      // nothing waived
			{Check: "SEC-001", RepositoryPattern: "*", Reason: "x"},                                                       // no owner
			{Check: "SEC-001", RepositoryPattern: "*", Owner: "p", Reason: "x", ExpiresAt: h.clock.Now().Add(-time.Hour)}, // past
			{Check: "SEC-001", RepositoryPattern: "[", Owner: "p", Reason: "x"},                                           // bad pattern
		} {
			if _, err := h.f.CreateException(ctx(), bad, "alice"); err == nil {
				t.Errorf("exception %+v accepted", bad)
			}
		}
		if err := h.f.DeleteException(ctx(), 1, "alice"); err != nil {
			t.Fatal(err)
		}
		h.runJobs()
		if a := h.state(root.Digest); a.State != store.StateExpiring {
			t.Fatalf("after deleting the exception: %+v", a)
		}
	})
}

// The snapshot links an index and its platform image, and maps tags to the
// digest last submitted under them.
func TestSnapshot(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), newEngine(t, ""), nil)
	fs := observe(t, h.eng, appImage("app"), "registry.example.com/team/app:1.0")
	fs.Image.IndexDigest = "sha256:" + strings.Repeat("ab", 32)
	ev, err := h.f.Record(ctx(), fs, "ci", fleet.ReasonSubmit)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := h.f.Snapshot(ctx())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Approvals) != 1 || snap.Approvals[0].Digest != ev.Digest || snap.Approvals[0].IndexDigest != fs.Image.IndexDigest {
		t.Fatalf("approvals %+v", snap.Approvals)
	}
	if got := snap.Tags["registry.example.com/team/app:1.0"]; got != fs.Image.IndexDigest {
		t.Errorf("tag resolves to %q, want the index %s", got, fs.Image.IndexDigest)
	}
}

// A service started before any advisory data was installed judged every
// image without it (SEC-020 fails them: "not evaluated"). When the first
// data arrives, every stored image is judged again, not only those whose
// packages the data names.
func TestFirstAdvisoryDataRejudgesAll(t *testing.T) {
	dbDir := osvDB(t, "DSA-5000-1") // openjdk-11 only: names no package of the image
	storetest.Each(t, func(t *testing.T, dsn string) {
		none, err := engine.New(engine.Deps{VulnsUnavailable: "no vulnerability database in /nowhere"})
		if err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, dsn, none, nil)
		ev, err := h.f.Record(ctx(), observe(t, none, appImage("app"), "registry.example.com/team/app:1.0"), "ci", fleet.ReasonSubmit)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Pass || ev.State != store.StateRejected || !slices.ContainsFunc(ev.Failing, func(s string) bool { return strings.HasPrefix(s, "SEC-020") }) {
			t.Fatalf("without advisory data: %+v", ev)
		}
		changed, err := h.f.ReloadData(ctx(), func() (*engine.Engine, func(), error) { return newEngine(t, dbDir), nil, nil })
		if err != nil || !changed {
			t.Fatalf("ReloadData: %v, %v", changed, err)
		}
		for _, j := range h.runJobs() {
			if j.State != "completed" {
				t.Errorf("job %d %s: %s %v", j.ID, j.Kind, j.State, j.Errors)
			}
		}
		if a := h.state(ev.Digest); a.State != store.StateApproved {
			t.Fatalf("after the first advisory data: %+v", a)
		}
	})
}
