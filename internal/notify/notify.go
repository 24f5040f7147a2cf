package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/shipshape-dev/shipshape/internal/fleet"
	"github.com/shipshape-dev/shipshape/internal/store"
)

// Queue is the queue deliveries run on, with its own workers.
const Queue = "notify"

var matchRepository = fleet.MatchRepository

// DeliverArgs is one delivery of one event to one webhook. The secret is not
// in it: the worker signs with the webhook's configured secret, and sends
// to its configured URL only.
type DeliverArgs struct {
	Webhook string  `json:"webhook"`
	Payload Payload `json:"payload"`
}

// Kind names the job.
func (DeliverArgs) Kind() string { return "shipshape.notify" }

// ExceptionsArgs is the daily job that announces exceptions about to expire.
type ExceptionsArgs struct {
	Day string `json:"day" river:"unique"`
}

// Kind names the job.
func (ExceptionsArgs) Kind() string { return "shipshape.notify.exceptions" }

// Options tune a Notifier; zero fields take the defaults.
type Options struct {
	// Workers bounds concurrent deliveries in this process (default 4).
	Workers int
	// Backoff is the retry policy (default 30s doubling up to 1h).
	Backoff store.Backoff
	// DashboardURL is used when the file sets none.
	DashboardURL string
	// Log receives delivery failures (slog.Default() when nil).
	Log *slog.Logger
	// Transport sends the requests (default: a clone of
	// http.DefaultTransport). Redirects are never followed.
	Transport http.RoundTripper
}

// perWebhook bounds the attempts in flight to one webhook in this process:
// a receiver that never answers holds at most this many workers; its other
// deliveries wait (snoozed) while the other webhooks' go on.
const perWebhook = 2

// Notifier is the fleet.Hook that enqueues deliveries, and their worker.
type Notifier struct {
	cfg    *Config
	hooks  map[string]*Webhook
	opts   Options
	client *http.Client
	log    *slog.Logger

	f        atomic.Pointer[fleet.Fleet]
	mu       sync.Mutex
	inFlight map[string]int
}

// Register registers the delivery worker, its queue and the daily exception
// job in c (before the store opens), and returns the Notifier to pass to
// fleet.WithHook and to Bind once the fleet exists.
func Register(c *store.QueueConfig, cfg *Config, opts Options) *Notifier {
	n := New(cfg, opts)
	store.AddWorker(c, &deliverWorker{n: n})
	store.AddWorker(c, &exceptionsWorker{n: n})
	if c.Queues == nil {
		c.Queues = map[string]int{}
	}
	c.Queues[Queue] = cmpOr(opts.Workers, 4)
	c.PeriodicJobs = append(c.PeriodicJobs, store.Daily("shipshape.notify.exceptions", 7, 0, func() (river.JobArgs, *river.InsertOpts) {
		return ExceptionsArgs{Day: time.Now().UTC().Format(time.DateOnly)}, &river.InsertOpts{Queue: Queue,
			UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: 24 * time.Hour}}
	}, true))
	return n
}

// New returns a Notifier that enqueues deliveries (its worker is registered
// by Register).
func New(cfg *Config, opts Options) *Notifier {
	if opts.Backoff.Base <= 0 {
		opts.Backoff = store.Backoff{Base: 30 * time.Second, Max: time.Hour}
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	tr := opts.Transport
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	n := &Notifier{cfg: cfg, hooks: map[string]*Webhook{}, opts: opts, log: opts.Log, inFlight: map[string]int{},
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	for i := range cfg.Webhooks {
		n.hooks[cfg.Webhooks[i].Name] = &cfg.Webhooks[i]
	}
	return n
}

// Bind gives the workers their fleet (its store and clock).
func (n *Notifier) Bind(f *fleet.Fleet) { n.f.Store(f) }

func (n *Notifier) dashboard() string {
	if n.cfg.DashboardURL != "" {
		return n.cfg.DashboardURL
	}
	return strings.TrimSuffix(n.opts.DashboardURL, "/")
}

func (n *Notifier) insertOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: Queue, MaxAttempts: n.cfg.MaxAttempts, Priority: 2}
}

// Change implements fleet.Hook: one delivery per event the change fires and
// webhook that wants it, enqueued in the change's transaction.
func (n *Notifier) Change(tx *store.Tx, c fleet.Change) error {
	for _, ev := range eventsOf(c) {
		p := Payload{Schema: Schema, Event: ev, Time: c.At.UTC(), Image: &Image{Digest: c.Digest, Repository: c.Repository, Tag: c.Tag},
			State: c.State, PreviousState: c.Previous, Reason: c.Reason, Actor: c.Actor, Failing: c.Failing, EvaluationID: c.EvaluationID}
		if p.Failing == nil {
			p.Failing = []string{}
		}
		if ev == EventVeto {
			p.NewVetoes = c.NewVetoes
		}
		if d := n.dashboard(); d != "" {
			p.Link = d + "/images/" + url.PathEscape(c.Digest)
		}
		if err := n.enqueue(tx, p, c.Repository); err != nil {
			return err
		}
	}
	return nil
}

func (n *Notifier) enqueue(tx *store.Tx, p Payload, repositories ...string) error {
	for i := range n.cfg.Webhooks {
		w := &n.cfg.Webhooks[i]
		if !w.wants(p.Event, repositories...) {
			continue
		}
		p.Delivery = newDeliveryID()
		if _, err := tx.Enqueue(DeliverArgs{Webhook: w.Name, Payload: p}, n.insertOpts()); err != nil {
			return err
		}
	}
	return nil
}

// attemptError is a failed attempt, as River records it: "HTTP 500: body"
// or "no answer: ...".
type attemptError struct {
	status int
	msg    string
}

func (e *attemptError) Error() string {
	if e.status != 0 {
		return fmt.Sprintf("HTTP %d: %s", e.status, e.msg)
	}
	return e.msg
}

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	n *Notifier
}

// NextRetry is the notifier's backoff, not the queue's.
func (w *deliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	return w.n.opts.Backoff.NextRetry(job.JobRow)
}

// Timeout bounds the job a little above the attempt's own timeout.
func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration {
	return time.Duration(w.n.cfg.Timeout) + 5*time.Second
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	n := w.n
	hook := n.hooks[job.Args.Webhook]
	if hook == nil {
		return river.JobCancel(fmt.Errorf("%w: %q", errNoWebhook, job.Args.Webhook))
	}
	if !n.acquire(hook.Name) {
		return river.JobSnooze(2 * time.Second)
	}
	defer n.release(hook.Name)
	status, took, err := n.send(ctx, hook, job.Args.Payload)
	if err != nil {
		n.log.Warn("webhook delivery failed", "webhook", hook.Name, "event", job.Args.Payload.Event, "delivery", job.Args.Payload.Delivery,
			"attempt", job.Attempt, "err", err)
		return err
	}
	return river.RecordOutput(ctx, attemptOutput{StatusCode: status, DurationMS: took.Milliseconds()})
}

type attemptOutput struct {
	StatusCode int   `json:"status_code"`
	DurationMS int64 `json:"duration_ms"`
}

func (n *Notifier) acquire(name string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.inFlight[name] >= perWebhook {
		return false
	}
	n.inFlight[name]++
	return true
}

func (n *Notifier) release(name string) {
	n.mu.Lock()
	n.inFlight[name]--
	n.mu.Unlock()
}

// send makes one attempt: POST to the webhook's URL, signed, within the
// configured timeout. A 2xx answer is success; anything else an error.
func (n *Notifier) send(ctx context.Context, w *Webhook, p Payload) (int, time.Duration, error) {
	b, err := body(w.Format, p)
	if err != nil {
		return 0, 0, river.JobCancel(err)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(n.cfg.Timeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, strings.NewReader(string(b)))
	if err != nil {
		return 0, 0, river.JobCancel(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "shipshape-webhook/1")
	req.Header.Set(HeaderEvent, p.Event)
	req.Header.Set(HeaderDelivery, p.Delivery)
	if len(w.key) > 0 {
		req.Header.Set(HeaderSignature, Sign(w.key, b))
	}
	start := time.Now()
	resp, err := n.client.Do(req)
	took := time.Since(start)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, took, &attemptError{msg: fmt.Sprintf("no answer within %s", time.Duration(n.cfg.Timeout))}
		}
		// The URL may hold a secret (Slack's do): name the webhook, not the URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, took, &attemptError{msg: "sending: " + err.Error()}
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, took, &attemptError{status: resp.StatusCode, msg: oneLine(string(excerpt))}
	}
	return resp.StatusCode, took, nil
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "(empty body)"
	}
	return s
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

type exceptionsWorker struct {
	river.WorkerDefaults[ExceptionsArgs]
	n *Notifier
}

func (w *exceptionsWorker) Work(ctx context.Context, job *river.Job[ExceptionsArgs]) error {
	n, err := w.n.ExpiringExceptions(ctx)
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, map[string]int{"announced": n})
}

// ExpiringExceptions announces, once per exception and expiry date, every
// exception that expires within the configured days: an
// "exception.expiring" event in the audit log and a delivery to each
// webhook that wants exception-expiring for a repository the exception
// applies to. It returns how many exceptions it announced.
func (n *Notifier) ExpiringExceptions(ctx context.Context) (int, error) {
	f := n.f.Load()
	if f == nil {
		return 0, errors.New("notify: not bound to a fleet yet")
	}
	st := f.Store()
	now := f.Now()
	exs, err := st.Exceptions(ctx, store.ExceptionFilter{ActiveAt: now})
	if err != nil {
		return 0, err
	}
	horizon := now.AddDate(0, 0, n.cfg.ExceptionDays)
	var due []store.Exception
	for _, e := range exs {
		if !e.ExpiresAt.IsZero() && !e.ExpiresAt.After(horizon) {
			due = append(due, e)
		}
	}
	if len(due) == 0 {
		return 0, nil
	}
	rows, err := st.ViewRows(ctx)
	if err != nil {
		return 0, err
	}
	announced := 0
	for _, e := range due {
		subject := fmt.Sprintf("exception/%d", e.ID)
		expires := e.ExpiresAt.UTC().Format(time.RFC3339)
		prior, err := st.Events(ctx, store.EventFilter{Subject: subject, Action: "exception.expiring", Limit: 1000})
		if err != nil {
			return announced, err
		}
		if slices.ContainsFunc(prior, func(ev store.Event) bool {
			var d struct {
				ExpiresAt string `json:"expires_at"`
			}
			return json.Unmarshal(ev.Details, &d) == nil && d.ExpiresAt == expires
		}) {
			continue
		}
		var repos []string
		for _, r := range rows {
			if inScope(e, r.Image) && !slices.Contains(repos, r.Repository) {
				repos = append(repos, r.Repository)
			}
		}
		slices.Sort(repos)
		scope := repos
		if len(scope) == 0 {
			// Nothing stored is in its scope: match webhooks on the pattern itself.
			scope = []string{strings.TrimSuffix(cmpOr(e.RepositoryPattern, e.ImagePattern), "/**")}
		}
		p := Payload{Schema: Schema, Event: EventExceptionExpiring, Time: now, Reason: e.Reason, Actor: e.CreatedBy, Failing: []string{},
			Exception: &Exception{ID: e.ID, Check: e.Check, Advisory: e.Advisory, ImagePattern: e.ImagePattern, RepositoryPattern: e.RepositoryPattern,
				Owner: e.Owner, CreatedBy: e.CreatedBy, ExpiresAt: e.ExpiresAt.UTC(), Repositories: repos}}
		if d := n.dashboard(); d != "" {
			p.Link = d + "/upcoming"
		}
		details, _ := json.Marshal(map[string]any{"expires_at": expires, "days": n.cfg.ExceptionDays, "repositories": repos})
		err = st.Tx(ctx, func(tx *store.Tx) error {
			if _, err := tx.AppendEvent(store.Event{At: now, Actor: "system", Action: "exception.expiring", Subject: subject, Details: details}); err != nil {
				return err
			}
			return n.enqueue(tx, p, scope...)
		})
		if err != nil {
			return announced, err
		}
		announced++
	}
	return announced, nil
}

// inScope: the exception applies to the image (the fleet's matching).
func inScope(e store.Exception, im store.Image) bool {
	if e.ImagePattern != "" {
		ok := false
		for _, c := range []string{im.Digest, im.Repository + ":" + im.Tag, im.IndexDigest} {
			ok = ok || c != "" && c != ":" && (e.ImagePattern == c || matchRepository(e.ImagePattern, c))
		}
		if !ok {
			return false
		}
	}
	return e.RepositoryPattern == "" || matchRepository(e.RepositoryPattern, im.Repository)
}
