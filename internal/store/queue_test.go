package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// judgeArgs is a test job: unique by image and reason.
type judgeArgs struct {
	Image  string `json:"image" river:"unique"`
	Reason string `json:"reason" river:"unique"`
	Note   string `json:"note"`
}

func (judgeArgs) Kind() string { return "test_judge" }

// fastQueue is a queue config with test timings.
func fastQueue() QueueConfig {
	return QueueConfig{
		PollInterval: 50 * time.Millisecond,
		Retry:        Backoff{Base: 100 * time.Millisecond, Max: time.Second},
		JobTimeout:   10 * time.Second,
		RescueAfter:  20 * time.Second,
	}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestOutbox(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		ctx := ctxT(t)
		boom := errors.New("boom")
		err := s.Tx(ctx, func(tx *Tx) error {
			if err := tx.UpsertImage(Image{Digest: "sha256:x", Repository: "r"}); err != nil {
				return err
			}
			if _, err := tx.AppendEvent(Event{Actor: "alice", Action: "image.submitted", Subject: "sha256:x"}); err != nil {
				return err
			}
			if _, err := tx.Enqueue(judgeArgs{Image: "sha256:x", Reason: "submit"}, OnCI(time.Hour)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx: %v", err)
		}
		if _, err := s.Image(ctx, "sha256:x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("rolled back image exists: %v", err)
		}
		if evs, _ := s.Events(ctx, EventFilter{}); len(evs) != 0 {
			t.Errorf("rolled back events: %+v", evs)
		}
		if jobs, _ := s.Queue().Jobs(ctx, JobFilter{}); len(jobs) != 0 {
			t.Errorf("rolled back jobs: %+v", jobs)
		}
		// A panic rolls back too.
		func() {
			defer func() { _ = recover() }()
			_ = s.Tx(ctx, func(tx *Tx) error {
				_, _ = tx.Enqueue(judgeArgs{Image: "sha256:p", Reason: "submit"}, OnCI(0))
				panic("worker bug")
			})
		}()
		// The same Tx committed: all three exist.
		var jobID int64
		mustTx(t, s, func(tx *Tx) error {
			if err := tx.UpsertImage(Image{Digest: "sha256:x", Repository: "r"}); err != nil {
				return err
			}
			if _, err := tx.AppendEvent(Event{Actor: "alice", Action: "image.submitted", Subject: "sha256:x"}); err != nil {
				return err
			}
			res, err := tx.Enqueue(judgeArgs{Image: "sha256:x", Reason: "submit"}, OnCI(time.Hour))
			jobID = res.JobID
			return err
		})
		jobs, err := s.Queue().Jobs(ctx, JobFilter{})
		if err != nil || len(jobs) != 1 || jobs[0].ID != jobID || jobs[0].Queue != QueueCI || jobs[0].State != "available" || jobs[0].Kind != "test_judge" {
			t.Fatalf("jobs: %+v, %v", jobs, err)
		}
		if evs, _ := s.Events(ctx, EventFilter{Subject: "sha256:x"}); len(evs) != 1 {
			t.Errorf("events: %+v", evs)
		}
		// Enqueue alone also needs a Tx: a queue without workers still inserts.
		if err := s.Queue().Start(ctx); err == nil {
			t.Error("a queue without workers started")
		}
	})
}

func TestUniqueJobs(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		ctx := ctxT(t)
		enqueue := func(a judgeArgs, opts *river.InsertOpts) Enqueued {
			t.Helper()
			var res Enqueued
			mustTx(t, s, func(tx *Tx) error {
				var err error
				res, err = tx.Enqueue(a, opts)
				return err
			})
			return res
		}
		first := enqueue(judgeArgs{Image: "sha256:a", Reason: "advisory", Note: "one"}, OnBulk(24*time.Hour))
		dup := enqueue(judgeArgs{Image: "sha256:a", Reason: "advisory", Note: "other note"}, OnBulk(24*time.Hour))
		otherReason := enqueue(judgeArgs{Image: "sha256:a", Reason: "policy"}, OnBulk(24*time.Hour))
		otherImage := enqueue(judgeArgs{Image: "sha256:b", Reason: "advisory"}, OnBulk(24*time.Hour))
		notUnique1 := enqueue(judgeArgs{Image: "sha256:c", Reason: "submit"}, OnCI(0))
		notUnique2 := enqueue(judgeArgs{Image: "sha256:c", Reason: "submit"}, OnCI(0))
		if first.Duplicate || !dup.Duplicate || dup.JobID != first.JobID {
			t.Errorf("same (image, reason, period): %+v %+v", first, dup)
		}
		if otherReason.Duplicate || otherImage.Duplicate || otherReason.JobID == first.JobID {
			t.Errorf("different reason or image deduplicated: %+v %+v", otherReason, otherImage)
		}
		if notUnique1.Duplicate || notUnique2.Duplicate {
			t.Errorf("non-unique jobs deduplicated")
		}
		if jobs, _ := s.Queue().Jobs(ctx, JobFilter{}); len(jobs) != 5 {
			t.Errorf("jobs: %d, want 5", len(jobs))
		}
		if jobs, _ := s.Queue().Jobs(ctx, JobFilter{Queue: QueueBulk}); len(jobs) != 3 {
			t.Errorf("bulk jobs: %d, want 3", len(jobs))
		}
	})
}

// TestQueuePriority: a CI job submitted behind a backlog of bulk jobs runs
// before the backlog drains.
func TestQueuePriority(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		var mu sync.Mutex
		var order []string
		cfg := fastQueue()
		cfg.CIWorkers, cfg.BulkWorkers = 1, 1
		AddWorker(&cfg, river.WorkFunc(func(ctx context.Context, job *river.Job[judgeArgs]) error {
			if job.Args.Reason == "sweep" {
				time.Sleep(50 * time.Millisecond)
			}
			mu.Lock()
			order = append(order, job.Args.Reason+":"+job.Args.Image)
			mu.Unlock()
			return nil
		}))
		s := openStore(t, dsn, WithQueue(cfg))
		ctx := ctxT(t)
		const backlog = 60
		mustTx(t, s, func(tx *Tx) error {
			for i := 0; i < backlog; i++ {
				if _, err := tx.Enqueue(judgeArgs{Image: fmt.Sprint("sha256:bulk", i), Reason: "sweep"}, OnBulk(time.Hour)); err != nil {
					return err
				}
			}
			return nil
		})
		if err := s.Queue().Start(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the sweep to start", func() bool { mu.Lock(); defer mu.Unlock(); return len(order) > 0 })
		mustTx(t, s, func(tx *Tx) error {
			_, err := tx.Enqueue(judgeArgs{Image: "sha256:ci", Reason: "submit"}, OnCI(time.Hour))
			return err
		})
		pos := -1
		waitFor(t, 30*time.Second, "the CI job", func() bool {
			mu.Lock()
			defer mu.Unlock()
			for i, o := range order {
				if o == "submit:sha256:ci" {
					pos = i
					return true
				}
			}
			return false
		})
		if pos > backlog/2 {
			t.Errorf("the CI job ran after %d of %d bulk jobs", pos, backlog)
		}
		t.Logf("CI job ran after %d bulk jobs of %d", pos, backlog)
		var stats []QueueStats
		var err error
		waitFor(t, 10*time.Second, "the CI job's completion", func() bool {
			stats, err = s.Queue().Stats(ctx)
			return err == nil && len(stats) == 2 && stats[1].Counts["completed"] == 1
		})
		if stats[0].Queue != QueueBulk || stats[1].Queue != QueueCI {
			t.Errorf("stats: %+v, %v", stats, err)
		}
		if stats[0].Counts["available"] > 0 && stats[0].OldestAvailable <= 0 {
			t.Errorf("oldest available age not measured: %+v", stats[0])
		}
	})
}

// TestRetriesThenVisibleFailure: a failing job is retried with growing
// delays, then discarded and kept with its errors.
func TestRetriesThenVisibleFailure(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		var attempts atomic.Int32
		cfg := fastQueue()
		AddWorker(&cfg, river.WorkFunc(func(ctx context.Context, job *river.Job[judgeArgs]) error {
			n := attempts.Add(1)
			return fmt.Errorf("registry unreachable (attempt %d)", n)
		}))
		s := openStore(t, dsn, WithQueue(cfg))
		ctx := ctxT(t)
		var id int64
		mustTx(t, s, func(tx *Tx) error {
			opts := OnCI(0)
			opts.MaxAttempts = 3
			res, err := tx.Enqueue(judgeArgs{Image: "sha256:f", Reason: "submit"}, opts)
			id = res.JobID
			return err
		})
		if err := s.Queue().Start(ctx); err != nil {
			t.Fatal(err)
		}
		var job Job
		waitFor(t, 60*time.Second, "the job to be discarded", func() bool {
			var err error
			job, err = s.Queue().Job(ctx, id)
			return err == nil && job.State == "discarded"
		})
		if attempts.Load() != 3 || job.Attempt != 3 || len(job.Errors) != 3 || job.Errors[2] != "registry unreachable (attempt 3)" {
			t.Fatalf("discarded job: %+v (worker ran %d times)", job, attempts.Load())
		}
		row, err := s.Queue().Client().JobGet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		gap1 := row.Errors[1].At.Sub(row.Errors[0].At)
		gap2 := row.Errors[2].At.Sub(row.Errors[1].At)
		if gap1 < 90*time.Millisecond || gap2 < 180*time.Millisecond {
			t.Errorf("no backoff between attempts: %s, %s", gap1, gap2)
		}
		failed, err := s.Queue().Jobs(ctx, JobFilter{States: []string{"discarded"}})
		if err != nil || len(failed) != 1 || failed[0].ID != id || len(failed[0].Errors) != 3 {
			t.Errorf("failed jobs listing: %+v, %v", failed, err)
		}
	})
}

func TestBackoff(t *testing.T) {
	b := Backoff{Base: time.Second, Max: 10 * time.Second}
	for errs, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
		job := &rivertype.JobRow{Errors: make([]rivertype.AttemptError, errs)}
		got := time.Until(b.NextRetry(job))
		if got < want*89/100 || got > want*111/100 {
			t.Errorf("after %d earlier errors: %s, want %s ±10%%", errs, got, want)
		}
	}
}

type sweepArgs struct{}

func (sweepArgs) Kind() string { return "test_sweep" }

// TestPeriodicDaily: the daily sweep hook enqueues on the elected leader only
// (RunOnStart here): with two clients serving one database, and the job not
// made unique, it runs once.
func TestPeriodicDaily(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		var runs atomic.Int32
		var stores []*Store
		for i := 0; i < 2; i++ {
			cfg := fastQueue()
			AddWorker(&cfg, river.WorkFunc(func(ctx context.Context, job *river.Job[sweepArgs]) error {
				runs.Add(1)
				return nil
			}))
			cfg.PeriodicJobs = []*river.PeriodicJob{Daily("daily-sweep", 3, 0, func() (river.JobArgs, *river.InsertOpts) {
				return sweepArgs{}, OnBulk(0)
			}, true)}
			stores = append(stores, openStore(t, dsn, WithQueue(cfg)))
		}
		for _, s := range stores {
			if err := s.Queue().Start(ctxT(t)); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, 30*time.Second, "the periodic job", func() bool { return runs.Load() >= 1 })
		time.Sleep(2 * time.Second) // a second leader would have enqueued by now
		if runs.Load() != 1 {
			t.Errorf("ran %d times", runs.Load())
		}
		jobs, err := stores[0].Queue().Jobs(ctxT(t), JobFilter{Kind: "test_sweep"})
		if err != nil || len(jobs) != 1 {
			t.Errorf("sweep jobs: %+v, %v", jobs, err)
		}
	})
	next := dailyAt{3, 0}.Next(time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC))
	if !next.Equal(time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)) {
		t.Errorf("next: %s", next)
	}
	next = dailyAt{3, 0}.Next(time.Date(2026, 1, 1, 2, 59, 0, 0, time.UTC))
	if !next.Equal(time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)) {
		t.Errorf("next: %s", next)
	}
}

// TestCompleteJobInTx: a worker's change and its job's completion commit
// together; a failed Tx completes nothing and the job is retried. Retry and
// cancel work from the API side.
func TestCompleteJobInTx(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		var s *Store
		var calls atomic.Int32
		cfg := fastQueue()
		AddWorker(&cfg, river.WorkFunc(func(ctx context.Context, job *river.Job[judgeArgs]) error {
			n := calls.Add(1)
			return s.Tx(ctx, func(tx *Tx) error {
				if _, err := tx.AppendEvent(Event{Actor: "worker", Action: "image.judged", Subject: job.Args.Image,
					Details: []byte(fmt.Sprintf(`{"call":%d}`, n))}); err != nil {
					return err
				}
				if err := CompleteJob(tx, job); err != nil {
					return err
				}
				if job.Args.Reason == "flaky" && n == 1 {
					return errors.New("lost the registry mid-way")
				}
				return nil
			})
		}))
		s = openStore(t, dsn, WithQueue(cfg))
		ctx := ctxT(t)
		var id int64
		mustTx(t, s, func(tx *Tx) error {
			res, err := tx.Enqueue(judgeArgs{Image: "sha256:j", Reason: "flaky"}, OnCI(0))
			id = res.JobID
			return err
		})
		if err := s.Queue().Start(ctx); err != nil {
			t.Fatal(err)
		}
		var job Job
		waitFor(t, 30*time.Second, "the job to complete", func() bool {
			job, _ = s.Queue().Job(ctx, id)
			return job.State == "completed"
		})
		evs, _ := s.Events(ctx, EventFilter{Subject: "sha256:j"})
		if job.Attempt != 2 || len(job.Errors) != 1 || len(evs) != 1 || string(evs[0].Details) != `{"call":2}` {
			t.Errorf("job %+v, events %+v", job, evs)
		}

		// Retry a finished job, cancel a scheduled one.
		if err := s.Queue().RetryJob(ctx, id); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the retried job", func() bool { return calls.Load() == 3 })
		var later int64
		mustTx(t, s, func(tx *Tx) error {
			opts := OnBulk(0)
			opts.ScheduledAt = time.Now().Add(time.Hour)
			res, err := tx.Enqueue(judgeArgs{Image: "sha256:k", Reason: "later"}, opts)
			later = res.JobID
			return err
		})
		if err := s.Queue().CancelJob(ctx, later); err != nil {
			t.Fatal(err)
		}
		if j, _ := s.Queue().Job(ctx, later); j.State != "cancelled" {
			t.Errorf("cancelled job: %+v", j)
		}
		if err := s.Queue().CancelJob(ctx, 999999); !errors.Is(err, ErrNotFound) {
			t.Errorf("cancel unknown job: %v", err)
		}
	})
}
