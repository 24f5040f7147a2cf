package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Queue names. Each has its own workers, so a bulk sweep never holds up CI
// submissions; CI jobs also carry River's highest priority.
const (
	QueueCI   = "ci"
	QueueBulk = "bulk"
)

// QueueConfig configures the job queue of a Store (see WithQueue). Zero
// fields take the defaults shown.
type QueueConfig struct {
	// Workers are the job workers (river.AddWorker or store.AddWorker).
	// Nil: an insert-only queue that cannot Start.
	Workers *river.Workers
	// CIWorkers and BulkWorkers bound the concurrent jobs per queue in this
	// process (defaults 4 and 2).
	CIWorkers, BulkWorkers int
	// Queues are more queues with their own workers (name -> concurrent
	// jobs in this process), e.g. webhook deliveries, so that a slow
	// receiver never holds up CI or bulk jobs.
	Queues map[string]int
	// PeriodicJobs are enqueued by the elected leader only (see Daily), so
	// one process runs them however many serve the same database.
	PeriodicJobs []*river.PeriodicJob
	// JobTimeout cancels a job's context after this long (default 10 min).
	JobTimeout time.Duration
	// RescueAfter is the lease: a job running longer (its worker died) is
	// put back for retry by the leader (default JobTimeout + 5 min; must
	// exceed JobTimeout).
	RescueAfter time.Duration
	// Retry decides when a failed job runs again (default Backoff{10s, 1h}).
	Retry river.ClientRetryPolicy
	// MaxAttempts before a job is discarded and kept visible with its errors
	// (default 10).
	MaxAttempts int
	// KeepFailed is how long discarded (failed for good) jobs stay listed
	// with their errors (default 30 days).
	KeepFailed time.Duration
	// PollInterval is how often idle workers look for jobs (default 1 s;
	// PostgreSQL through database/sql has no LISTEN/NOTIFY).
	PollInterval time.Duration
	// LeaderElectionDisabled makes this process a worker that never leads:
	// it runs no periodic jobs, rescues and retries no jobs itself.
	LeaderElectionDisabled bool
	// ID names this process among River clients (default random).
	ID string
}

// AddWorker registers a worker in c, creating c.Workers when needed.
func AddWorker[T river.JobArgs](c *QueueConfig, w river.Worker[T]) {
	if c.Workers == nil {
		c.Workers = river.NewWorkers()
	}
	river.AddWorker(c.Workers, w)
}

// Backoff is an exponential retry policy: Base, 2*Base, 4*Base... capped at
// Max, with ±10% jitter.
type Backoff struct{ Base, Max time.Duration }

// NextRetry implements river.ClientRetryPolicy.
func (b Backoff) NextRetry(job *rivertype.JobRow) time.Time {
	n := len(job.Errors) + 1 // job.Errors does not hold the failure being handled yet
	d := b.Base
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	d += time.Duration((rand.Float64()*0.2 - 0.1) * float64(d))
	return time.Now().Add(d)
}

// Queue is River on the store's database. Jobs are enqueued with Tx.Enqueue,
// inside the transaction of the state change that causes them.
type Queue struct {
	client *river.Client[*sql.Tx]
	db     *sql.DB
	d      *dialect
	canRun bool
}

func newQueue(s *Store, c QueueConfig, logger *slog.Logger) (*Queue, error) {
	driver := s.riverDriver
	cfg := &river.Config{
		ID:                     c.ID,
		Logger:                 logger,
		Workers:                c.Workers,
		PeriodicJobs:           c.PeriodicJobs,
		JobTimeout:             cmpOr(c.JobTimeout, 10*time.Minute),
		MaxAttempts:            cmpOr(c.MaxAttempts, 10),
		RetryPolicy:            c.Retry,
		FetchPollInterval:      cmpOr(c.PollInterval, time.Second),
		FetchCooldown:          min(100*time.Millisecond, cmpOr(c.PollInterval, time.Second)),
		LeaderElectionDisabled: c.LeaderElectionDisabled,
		// A failed job stays visible, with its errors, for a month.
		DiscardedJobRetentionPeriod: cmpOr(c.KeepFailed, 30*24*time.Hour),
		// PostgreSQL through database/sql cannot LISTEN; poll on both.
		PollOnly: true,
	}
	cfg.RescueStuckJobsAfter = cmpOr(c.RescueAfter, cfg.JobTimeout+5*time.Minute)
	if cfg.RetryPolicy == nil {
		cfg.RetryPolicy = Backoff{Base: 10 * time.Second, Max: time.Hour}
	}
	if c.Workers != nil {
		cfg.Queues = map[string]river.QueueConfig{
			QueueCI:   {MaxWorkers: cmpOr(c.CIWorkers, 4)},
			QueueBulk: {MaxWorkers: cmpOr(c.BulkWorkers, 2)},
		}
		for name, n := range c.Queues {
			if _, ok := cfg.Queues[name]; !ok {
				cfg.Queues[name] = river.QueueConfig{MaxWorkers: max(n, 1)}
			}
		}
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: river client: %w", err)
	}
	return &Queue{client: client, db: s.db, d: s.d, canRun: c.Workers != nil}, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Client is the underlying River client, for what this wrapper does not
// cover (subscriptions, cancelling, queue pause).
func (q *Queue) Client() *river.Client[*sql.Tx] { return q.client }

// Start starts working jobs (and, on the elected leader, periodic jobs,
// retries and rescues). It needs QueueConfig.Workers.
func (q *Queue) Start(ctx context.Context) error {
	if !q.canRun {
		return errors.New("store: the queue has no workers (WithQueue)")
	}
	return q.client.Start(ctx)
}

// Stop waits for running jobs to finish, until ctx ends.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.canRun {
		return nil
	}
	return q.client.Stop(ctx)
}

// OnCI returns insert options for a job on the CI queue, unique per its
// args (fields tagged `river:"unique"`, e.g. image and reason) within period
// (0: not unique).
func OnCI(period time.Duration) *river.InsertOpts { return insertOpts(QueueCI, 1, period) }

// OnBulk is OnCI for the bulk queue (re-evaluation sweeps), lowest priority.
func OnBulk(period time.Duration) *river.InsertOpts { return insertOpts(QueueBulk, 4, period) }

func insertOpts(queue string, priority int, period time.Duration) *river.InsertOpts {
	o := &river.InsertOpts{Queue: queue, Priority: priority}
	if period > 0 {
		o.UniqueOpts = river.UniqueOpts{ByArgs: true, ByPeriod: period}
	}
	return o
}

// Enqueued is the result of Tx.Enqueue.
type Enqueued struct {
	JobID int64
	// Duplicate: a job unique with this one already existed; nothing new was
	// inserted and JobID is the existing job.
	Duplicate bool
}

// Enqueue inserts a job in this transaction: it exists if and only if the
// transaction commits.
func (tx *Tx) Enqueue(args river.JobArgs, opts *river.InsertOpts) (Enqueued, error) {
	res, err := tx.s.queue.client.InsertTx(tx.ctx, tx.tx, args, opts)
	if err != nil {
		return Enqueued{}, fmt.Errorf("store: enqueue %s: %w", args.Kind(), err)
	}
	return Enqueued{JobID: res.Job.ID, Duplicate: res.UniqueSkippedAsDuplicate}, nil
}

// Job is a job as the API shows it.
type Job struct {
	ID          int64
	Kind        string
	Queue       string
	State       string // available, scheduled, running, retryable, completed, cancelled, discarded, pending
	Attempt     int
	MaxAttempts int
	Errors      []string // one per failed attempt, oldest first
	Args        json.RawMessage
	// Output is what the worker recorded (river.RecordOutput), when completed.
	Output      json.RawMessage
	CreatedAt   time.Time
	ScheduledAt time.Time
	AttemptedAt time.Time
	FinalizedAt time.Time
}

// JobFilter selects Jobs; empty fields do not filter.
type JobFilter struct {
	States []string
	Queue  string
	Kind   string
	Limit  int // default 100
}

// Jobs lists jobs, newest first.
func (q *Queue) Jobs(ctx context.Context, f JobFilter) ([]Job, error) {
	p := river.NewJobListParams().First(cmpOr(f.Limit, 100)).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	if len(f.States) > 0 {
		st := make([]rivertype.JobState, len(f.States))
		for i, s := range f.States {
			st[i] = rivertype.JobState(s)
		}
		p = p.States(st...)
	}
	if f.Queue != "" {
		p = p.Queues(f.Queue)
	}
	if f.Kind != "" {
		p = p.Kinds(f.Kind)
	}
	res, err := q.client.JobList(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("store: list jobs: %w", err)
	}
	out := make([]Job, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		out = append(out, jobOf(j))
	}
	return out, nil
}

// Job returns one job by ID.
func (q *Queue) Job(ctx context.Context, id int64) (Job, error) {
	j, err := q.client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return Job{}, fmt.Errorf("job %d: %w", id, ErrNotFound)
	} else if err != nil {
		return Job{}, err
	}
	return jobOf(j), nil
}

func jobOf(j *rivertype.JobRow) Job {
	out := Job{ID: j.ID, Kind: j.Kind, Queue: j.Queue, State: string(j.State), Attempt: j.Attempt,
		MaxAttempts: j.MaxAttempts, Args: json.RawMessage(j.EncodedArgs),
		CreatedAt: j.CreatedAt.UTC(), ScheduledAt: j.ScheduledAt.UTC()}
	if j.AttemptedAt != nil {
		out.AttemptedAt = j.AttemptedAt.UTC()
	}
	if j.FinalizedAt != nil {
		out.FinalizedAt = j.FinalizedAt.UTC()
	}
	for _, e := range j.Errors {
		out.Errors = append(out.Errors, e.Error)
	}
	if o := j.Output(); len(o) > 0 {
		out.Output = json.RawMessage(o)
	}
	return out
}

// QueueStats summarises one queue for the API and /metrics.
type QueueStats struct {
	Queue  string
	Counts map[string]int // by job state
	// OldestAvailable is the age of the oldest job waiting to run (0: none).
	OldestAvailable time.Duration
}

// Stats counts jobs by queue and state, and measures the oldest waiting job.
func (q *Queue) Stats(ctx context.Context) ([]QueueStats, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT queue, state, COUNT(*) FROM river_job GROUP BY queue, state ORDER BY queue`)
	if err != nil {
		return nil, fmt.Errorf("store: job stats: %w", err)
	}
	byQueue := map[string]*QueueStats{QueueCI: {Queue: QueueCI, Counts: map[string]int{}}, QueueBulk: {Queue: QueueBulk, Counts: map[string]int{}}}
	for rows.Next() {
		var queue, state string
		var n int
		if err := rows.Scan(&queue, &state, &n); err != nil {
			rows.Close()
			return nil, err
		}
		if byQueue[queue] == nil {
			byQueue[queue] = &QueueStats{Queue: queue, Counts: map[string]int{}}
		}
		byQueue[queue].Counts[state] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []QueueStats
	for _, name := range slices.Sorted(maps.Keys(byQueue)) {
		st := byQueue[name]
		if st.Counts[string(rivertype.JobStateAvailable)] > 0 {
			res, err := q.client.JobList(ctx, river.NewJobListParams().Queues(name).
				States(rivertype.JobStateAvailable).OrderBy(river.JobListOrderByScheduledAt, river.SortOrderAsc).First(1))
			if err != nil {
				return nil, err
			}
			if len(res.Jobs) == 1 {
				st.OldestAvailable = time.Since(res.Jobs[0].ScheduledAt)
			}
		}
		out = append(out, *st)
	}
	return out, nil
}

// dailyAt is a PeriodicSchedule: every day at hour:minute UTC.
type dailyAt struct{ hour, minute int }

func (d dailyAt) Next(t time.Time) time.Time {
	t = t.UTC()
	next := time.Date(t.Year(), t.Month(), t.Day(), d.hour, d.minute, 0, 0, time.UTC)
	if !next.After(t) {
		next = next.AddDate(0, 0, 1)
	}
	return next
}

// Daily returns a periodic job enqueued every day at hour:minute UTC by the
// leader only. runOnStart also enqueues one when a leader starts (a missed
// day is caught up; make the job unique per day to keep it to one).
func Daily(id string, hour, minute int, construct func() (river.JobArgs, *river.InsertOpts), runOnStart bool) *river.PeriodicJob {
	return river.NewPeriodicJob(dailyAt{hour, minute}, construct, &river.PeriodicJobOpts{ID: id, RunOnStart: runOnStart})
}

// RetryJob makes a failed (or any non-running) job available to run again
// now, keeping its errors.
func (q *Queue) RetryJob(ctx context.Context, id int64) error {
	if _, err := q.client.JobRetry(ctx, id); err != nil {
		if errors.Is(err, river.ErrNotFound) {
			return fmt.Errorf("job %d: %w", id, ErrNotFound)
		}
		return fmt.Errorf("store: retry job %d: %w", id, err)
	}
	return nil
}

// CancelJob cancels a job that has not finished; a running one is cancelled
// through its context.
func (q *Queue) CancelJob(ctx context.Context, id int64) error {
	if _, err := q.client.JobCancel(ctx, id); err != nil {
		if errors.Is(err, river.ErrNotFound) {
			return fmt.Errorf("job %d: %w", id, ErrNotFound)
		}
		return fmt.Errorf("store: cancel job %d: %w", id, err)
	}
	return nil
}
