package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/admission"
	"github.com/shipshape-dev/shipshape/internal/admission/admissiontest"
	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/fleet"
	"github.com/shipshape-dev/shipshape/internal/server"
	"github.com/shipshape-dev/shipshape/internal/store"
)

// TestAdmissionUnderConcurrentLoad sends 2,000 reviews of 50-container pods
// from 50 goroutines at once to the webhook of a server on SQLite over TLS,
// half to an enforce namespace and half to a warn namespace, a quarter of
// them with unapproved images. Every review must get a 200 with a valid
// AdmissionReview echoing its uid, and the decision its namespace's mode
// asks for: never a 5xx, a timeout, or a mixed-up answer. Not timed: the
// latencies are bench/admission.sh's business.
func TestAdmissionUnderConcurrentLoad(t *testing.T) {
	const (
		approved, rejected = 500, 50
		goroutines, each   = 50, 40
		nsEnforce, nsWarn  = "prod", "staging"
	)
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "shipshape.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	t.Cleanup(cancel) // before the store closes
	ref := func(i int) string { return fmt.Sprintf("registry.example.com/load/svc-%04d", i) }
	digest := func(i int) string { return fmt.Sprintf("sha256:%064x", i+1) }
	err = st.Tx(ctx, func(tx *store.Tx) error {
		for i := range approved + rejected {
			if err := tx.UpsertImage(store.Image{Digest: digest(i), Repository: ref(i), Tag: "1.0"}); err != nil {
				return err
			}
			a := store.Approval{ImageDigest: digest(i), State: store.StateApproved, Actor: "policy", Reason: "passes the policy",
				ValidUntil: time.Now().AddDate(0, 3, 0)}
			if i >= approved {
				a.State, a.Reason = store.StateRejected, "fails: SEC-001 USER is not set"
			}
			if err := tx.SetApproval(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Deps{SkipVulns: true})
	if err != nil {
		t.Fatal(err)
	}
	fl, err := fleet.New(st, eng, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rule, err := admission.ParseModeRule(nsWarn + "=warn")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Fleet: fl, Refresh: 100 * time.Millisecond,
		Admission: &admission.Config{DefaultMode: admission.ModeEnforce, Rules: []admission.ModeRule{rule},
			DashboardURL: "https://shipshape.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	// The view refreshes from the store ten times a second during the load,
	// and denials are written to the event log: the load meets both.
	go srv.Run(ctx)
	hs := httptest.NewTLSServer(srv.Handler())
	t.Cleanup(hs.Close)
	client := hs.Client()
	client.Timeout = 30 * time.Second

	// Four pods: clean (50 approved images, by tag and by digest) or dirty
	// (45 approved, 3 rejected, 2 never submitted), in each namespace.
	images := func(r int, dirty bool) []string {
		var out []string
		for c := range 50 {
			i := (r*50 + c) % approved
			switch {
			case dirty && c < 3:
				out = append(out, ref(approved+(r+c)%rejected)+":1.0")
			case dirty && c < 5:
				out = append(out, fmt.Sprintf("registry.example.com/load/unknown-%d@%s", c, digest(100000+r*10+c)))
			case c%2 == 0:
				out = append(out, ref(i)+":1.0")
			default:
				out = append(out, ref(i)+"@"+digest(i))
			}
		}
		return out
	}
	type kind struct {
		ns    string
		dirty bool
	}
	kinds := []kind{{nsEnforce, false}, {nsEnforce, true}, {nsWarn, false}, {nsWarn, true}}

	var served, denied, warned atomic.Int64
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 20 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for n := range each {
				k := kinds[(g+n)%len(kinds)]
				if (g*each+n)%2 == 0 { // a quarter dirty: every other review of the dirty kinds is made clean
					k.dirty = false
				}
				tpl, err := admissiontest.NewTemplate(admissiontest.Pod(fmt.Sprintf("load-%d-%d", g, n), k.ns, images(g*each+n, k.dirty)))
				if err != nil {
					fail("template: %v", err)
					return
				}
				uid := fmt.Sprintf("load-%d-%d", g, n)
				resp, err := client.Post(hs.URL+admission.ValidatePath, "application/json", bytes.NewReader(tpl.Body(uid)))
				if err != nil {
					fail("%s: %v", uid, err)
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					fail("%s: status %d, err %v: %s", uid, resp.StatusCode, err, body)
					continue
				}
				ans, err := admissiontest.Answer(body, uid)
				if err != nil {
					fail("%s: %v: %s", uid, err, body)
					continue
				}
				served.Add(1)
				switch {
				case k.ns == nsEnforce && k.dirty:
					if n == 1 && g == 0 {
						t.Logf("a denial: %s", ans.Result.Message)
					}
					if ans.Allowed || ans.Result == nil || !strings.Contains(ans.Result.Message, "is rejected") || !strings.Contains(ans.Result.Message, "is not approved") {
						fail("%s (enforce, unapproved images): want a denial naming them, got allowed=%v %+v", uid, ans.Allowed, ans.Result)
					}
					denied.Add(1)
				case k.ns == nsWarn && k.dirty:
					if !ans.Allowed || len(ans.Warnings) == 0 {
						fail("%s (warn, unapproved images): want allowed with warnings, got allowed=%v warnings=%q", uid, ans.Allowed, ans.Warnings)
					}
					warned.Add(1)
				default:
					if !ans.Allowed || len(ans.Warnings) != 0 {
						fail("%s (%s, approved images): want allowed without warnings, got allowed=%v warnings=%q %+v", uid, k.ns, ans.Allowed, ans.Warnings, ans.Result)
					}
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	if got := served.Load(); got != goroutines*each {
		t.Errorf("%d of %d reviews answered correctly", got, goroutines*each)
	}
	if denied.Load() == 0 || warned.Load() == 0 {
		t.Errorf("the load had %d denials and %d warned reviews: want some of each", denied.Load(), warned.Load())
	}
	t.Logf("%d reviews from %d goroutines: %d denied (enforce), %d allowed with warnings (warn)", served.Load(), goroutines, denied.Load(), warned.Load())
}
