package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/riverqueue/river"

	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/store"
	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

// SubmitArgs is a job that observes an image from its registry, judges it
// and records it (the CI queue).
type SubmitArgs struct {
	Ref   string `json:"ref"`
	Actor string `json:"actor"`
}

// Kind names the job.
func (SubmitArgs) Kind() string { return "shipshape.submit" }

// EvaluateArgs is a job that judges an image's stored facts again. It is
// unique per (image, reason, period): a sweep or an advisory update enqueues
// each image once.
type EvaluateArgs struct {
	Digest string `json:"digest" river:"unique"`
	Reason string `json:"reason" river:"unique"`
	// Period scopes the uniqueness: the day of an interval sweep, the
	// advisory data's version, the exception's ID.
	Period string `json:"period" river:"unique"`
	Actor  string `json:"actor"`
}

// Kind names the job.
func (EvaluateArgs) Kind() string { return "shipshape.evaluate" }

// SweepArgs is the daily sweep: it enqueues the re-evaluation of every
// approved image whose last evaluation is older than its policy's interval,
// and of every expiring image whose grace has ended.
type SweepArgs struct {
	Day string `json:"day" river:"unique"`
}

// Kind names the job.
func (SweepArgs) Kind() string { return "shipshape.sweep" }

// AdvisoriesArgs re-judges the images an advisory data update can change:
// those holding a package that a record modified after Since names.
type AdvisoriesArgs struct {
	// Version identifies the new data (unique per version).
	Version string               `json:"version" river:"unique"`
	Since   map[string]time.Time `json:"since"`
	// All: the previous engine had no advisory data; the images that failed
	// for want of it (SEC-020 "not evaluated") are judged again too.
	All bool `json:"all,omitempty"`
}

// Kind names the job.
func (AdvisoriesArgs) Kind() string { return "shipshape.advisories" }

// Jobs are the fleet's workers, registered in a queue configuration before
// the store opens (the store runs the queue) and bound to the fleet, which
// needs the store, before the queue starts.
type Jobs struct{ f atomic.Pointer[Fleet] }

// Bind gives the workers their fleet.
func (j *Jobs) Bind(f *Fleet) { j.f.Store(f) }

func (j *Jobs) fleet() (*Fleet, error) {
	if f := j.f.Load(); f != nil {
		return f, nil
	}
	return nil, errors.New("fleet: job workers not bound to a fleet yet")
}

// RegisterJobs registers the fleet's workers and its daily sweep in c.
func RegisterJobs(c *store.QueueConfig) *Jobs {
	j := &Jobs{}
	store.AddWorker(c, &submitWorker{j: j})
	store.AddWorker(c, &evaluateWorker{j: j})
	store.AddWorker(c, &sweepWorker{j: j})
	store.AddWorker(c, &advisoriesWorker{j: j})
	c.PeriodicJobs = append(c.PeriodicJobs, store.Daily("shipshape.sweep", 3, 0, func() (river.JobArgs, *river.InsertOpts) {
		return SweepArgs{Day: time.Now().UTC().Format(time.DateOnly)}, store.OnBulk(24 * time.Hour)
	}, true))
	return j
}

type submitWorker struct {
	river.WorkerDefaults[SubmitArgs]
	j *Jobs
}

func (w *submitWorker) Work(ctx context.Context, job *river.Job[SubmitArgs]) error {
	f, err := w.j.fleet()
	if err != nil {
		return err
	}
	_, err = f.Submit(ctx, job.Args.Ref, job.Args.Actor, completeIn(ctx, job))
	return err
}

// completeIn records the evaluation as the job's output and completes the
// job in the transaction that records the evaluation: a job's evaluation is
// recorded exactly once, even when the process dies right after the commit.
func completeIn[T river.JobArgs](ctx context.Context, job *river.Job[T]) InTx {
	return func(tx *store.Tx, ev *Evaluation) error {
		if err := river.RecordOutput(ctx, ev); err != nil {
			return err
		}
		return store.CompleteJob(tx, job)
	}
}

// Submit observes ref from its registry, judges it and records it; then
// runs last in the recording transaction (see Record).
func (f *Fleet) Submit(ctx context.Context, ref, actor string, then ...InTx) (*Evaluation, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, invalidf("image reference %q: %v", ref, err)
	}
	pol := f.pols.For(r.Context().Name())
	eng, done := f.engine()
	fs, err := eng.Observe(ctx, "registry:"+ref, engine.ObserveOptions{Ref: ref, Trust: pol.Trust, Sources: pol.UpstreamSources})
	done()
	if err != nil {
		return nil, fmt.Errorf("observing %s: %w", ref, err)
	}
	return f.Record(ctx, fs, actor, ReasonSubmit, then...)
}

type evaluateWorker struct {
	river.WorkerDefaults[EvaluateArgs]
	j *Jobs
}

func (w *evaluateWorker) Work(ctx context.Context, job *river.Job[EvaluateArgs]) error {
	actor := job.Args.Actor
	if actor == "" {
		actor = "system"
	}
	f, err := w.j.fleet()
	if err != nil {
		return err
	}
	_, err = f.Reevaluate(ctx, job.Args.Digest, actor, job.Args.Reason, completeIn(ctx, job))
	return err
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	j *Jobs
}

func (w *sweepWorker) Work(ctx context.Context, job *river.Job[SweepArgs]) error {
	f, err := w.j.fleet()
	if err != nil {
		return err
	}
	n, err := f.Sweep(ctx)
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, map[string]int{"enqueued": n})
}

// Sweep enqueues the re-evaluation of every approved or expiring image whose
// last evaluation is older than its policy's interval, and of every expiring
// image whose grace has ended. It returns how many jobs it enqueued.
func (f *Fleet) Sweep(ctx context.Context) (int, error) {
	now := f.Now()
	day := now.Format(time.DateOnly)
	shortest := f.pols.For("").Service.Reevaluate
	for _, b := range f.pols.Bindings {
		if r := b.Policy.Service.Reevaluate; r > 0 && (shortest == 0 || r < shortest) {
			shortest = r
		}
	}
	if shortest <= 0 {
		shortest = 90 * 24 * time.Hour
	}
	stale, err := f.st.StaleApprovals(ctx, now.Add(-shortest), store.StateApproved, store.StateExpiring)
	if err != nil {
		return 0, err
	}
	due, err := f.st.ExpiringApprovals(ctx, now, store.StateExpiring)
	if err != nil {
		return 0, err
	}
	want := map[string]bool{}
	for _, a := range due {
		want[a.ImageDigest] = true
	}
	for _, a := range stale {
		im, err := f.st.Image(ctx, a.ImageDigest)
		if err != nil {
			continue
		}
		ev, err := f.st.LatestEvaluation(ctx, a.ImageDigest)
		if err == nil && now.Sub(ev.EvaluatedAt) < f.pols.For(im.Repository).Service.Reevaluate {
			continue
		}
		want[a.ImageDigest] = true
	}
	n := 0
	err = f.st.Tx(ctx, func(tx *store.Tx) error {
		n = 0
		for d := range want {
			res, err := tx.Enqueue(EvaluateArgs{Digest: d, Reason: ReasonInterval, Period: day, Actor: "system"}, store.OnBulk(24*time.Hour))
			if err != nil {
				return err
			}
			if !res.Duplicate {
				n++
			}
		}
		return nil
	})
	return n, err
}

type advisoriesWorker struct {
	river.WorkerDefaults[AdvisoriesArgs]
	j *Jobs
}

func (w *advisoriesWorker) Work(ctx context.Context, job *river.Job[AdvisoriesArgs]) error {
	f, err := w.j.fleet()
	if err != nil {
		return err
	}
	var n int
	if job.Args.All {
		n, err = f.AdvisoriesArrived(ctx, job.Args.Version)
	} else {
		n, err = f.AdvisoriesChanged(ctx, job.Args.Version, job.Args.Since)
	}
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, map[string]int{"enqueued": n})
}

// AdvisoriesChanged enqueues the re-evaluation of every stored image that
// holds a package named by an advisory record modified after since (by
// source), with the engine's current database. It returns how many jobs
// it enqueued.
func (f *Fleet) AdvisoriesChanged(ctx context.Context, version string, since map[string]time.Time) (int, error) {
	eng, done := f.engine()
	db := eng.Vulns()
	var pkgs []string
	var err error
	if db != nil {
		pkgs, err = db.ChangedPackages(since)
	}
	done()
	if err != nil {
		return 0, err
	}
	digests, err := f.st.ImagesByPackages(ctx, pkgs)
	if err != nil {
		return 0, err
	}
	return f.enqueueEvaluations(ctx, digests, ReasonAdvisories, version)
}

// AdvisoriesArrived is AdvisoriesChanged for the first advisory data the
// service has: it also enqueues the re-evaluation of every image whose latest
// evaluation has a SEC-020 finding, the images that failed because the
// vulnerabilities could not be evaluated without data, whatever packages
// the data names. It returns how many jobs it enqueued.
func (f *Fleet) AdvisoriesArrived(ctx context.Context, version string) (int, error) {
	n, err := f.AdvisoriesChanged(ctx, version, nil)
	if err != nil {
		return n, err
	}
	var digests []string
	for offset := 0; ; offset += 1000 {
		page, total, err := f.st.ListImages(ctx, store.ImageFilter{Check: "SEC-020", Limit: 1000, Offset: offset, Sort: "repository"})
		if err != nil {
			return n, err
		}
		for _, im := range page {
			if im.Kind != "index" {
				digests = append(digests, im.Digest)
			}
		}
		if offset+len(page) >= total || len(page) == 0 {
			break
		}
	}
	m, err := f.enqueueEvaluations(ctx, digests, ReasonAdvisories, version)
	return n + m, err
}

func (f *Fleet) enqueueEvaluations(ctx context.Context, digests []string, reason, period string) (int, error) {
	n := 0
	for start := 0; start < len(digests); start += 500 {
		batch := digests[start:min(start+500, len(digests))]
		err := f.st.Tx(ctx, func(tx *store.Tx) error {
			for _, d := range batch {
				res, err := tx.Enqueue(EvaluateArgs{Digest: d, Reason: reason, Period: period, Actor: "system"}, store.OnBulk(24*time.Hour))
				if err != nil {
					return err
				}
				if !res.Duplicate {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// DataVersion identifies advisory data for AdvisoriesArgs: each source's
// name and newest record.
func DataVersion(db *vulndb.DB) string {
	if db == nil {
		return "none"
	}
	s := ""
	for _, src := range db.Sources() {
		s += fmt.Sprintf("%s@%s/%d;", src.Name, src.Refreshed().UTC().Format(time.RFC3339), src.Records)
	}
	return s
}
