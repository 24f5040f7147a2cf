// Package fleet is the domain of shipshape serve: the approved-image registry
// of a platform team. It submits images (observe, judge, store), decides
// approvals through one state machine (pending -> approved -> expiring ->
// retired, or rejected / revoked by a person), keeps exceptions, and
// re-evaluates stored images from their stored facts when time passes, the
// advisory data changes or an exception is added, without reading the image
// again.
//
// Every state change is one store transaction that also appends its audit
// event and enqueues its jobs, so a crash between them cannot happen. The
// River job args and workers live in jobs.go.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/store"
)

// Fleet is the service's domain logic over a store and an engine. It is safe
// for concurrent use.
type Fleet struct {
	st       *store.Store
	pols     *Policies
	now      func() time.Time
	log      *slog.Logger
	onChange func()
	hook     Hook

	eng atomic.Pointer[engineRef]
	// reloadMu serialises engine swaps.
	reloadMu sync.Mutex
}

// engineRef is an engine with its release function and a count of its users,
// so a swapped-out engine's advisory database is closed only when the last
// judgement on it ends.
type engineRef struct {
	e       *engine.Engine
	release func()
	users   atomic.Int64
	retired atomic.Bool
	once    sync.Once
}

func (r *engineRef) done() {
	if r.users.Add(-1) == 0 && r.retired.Load() {
		r.once.Do(r.release)
	}
}

// Option configures a Fleet.
type Option func(*Fleet)

// WithClock sets the clock (time.Now by default); tests move it.
func WithClock(now func() time.Time) Option { return func(f *Fleet) { f.now = now } }

// WithLogger sets the logger (slog.Default() by default).
func WithLogger(l *slog.Logger) Option { return func(f *Fleet) { f.log = l } }

// WithOnChange is called after every committed change of an approval, so
// in-memory views (the allow decision, admission) can refresh at once.
func WithOnChange(fn func()) Option { return func(f *Fleet) { f.onChange = fn } }

// New returns a fleet on st, judging with e under pols. release (may be nil)
// frees e's resources once it is replaced (see SetEngine) and unused.
func New(st *store.Store, e *engine.Engine, release func(), pols *Policies, opts ...Option) (*Fleet, error) {
	if st == nil || e == nil {
		return nil, errors.New("fleet: a store and an engine are required")
	}
	if pols == nil {
		pols = &Policies{}
	}
	f := &Fleet{st: st, pols: pols, now: time.Now, log: slog.Default(), onChange: func() {}}
	for _, o := range opts {
		o(f)
	}
	f.SetEngine(e, release)
	return f, nil
}

// Store returns the fleet's store.
func (f *Fleet) Store() *store.Store { return f.st }

// Policies returns the fleet's policies.
func (f *Fleet) Policies() *Policies { return f.pols }

// Now is the fleet's clock.
func (f *Fleet) Now() time.Time { return f.now().UTC() }

// SetEngine replaces the engine (after an advisory or end-of-life data
// update). Judgements already running finish on the old one, which is then
// released.
func (f *Fleet) SetEngine(e *engine.Engine, release func()) {
	if release == nil {
		release = func() {}
	}
	f.reloadMu.Lock()
	defer f.reloadMu.Unlock()
	ref := &engineRef{e: e, release: release}
	ref.users.Store(1) // the fleet's own hold, dropped when replaced
	if old := f.eng.Swap(ref); old != nil {
		old.retired.Store(true)
		old.done()
	}
}

// engine returns the current engine and the function to call when done with it.
func (f *Fleet) engine() (*engine.Engine, func()) {
	for {
		ref := f.eng.Load()
		ref.users.Add(1)
		if f.eng.Load() == ref || !ref.retired.Load() {
			return ref.e, ref.done
		}
		ref.done() // swapped under us: try the new one
	}
}

// Close releases the current engine.
func (f *Fleet) Close() {
	f.reloadMu.Lock()
	defer f.reloadMu.Unlock()
	if old := f.eng.Load(); old != nil && !old.retired.Swap(true) {
		old.done()
	}
}

// changed notifies the views.
func (f *Fleet) changed() { f.onChange() }

// Error kinds the API maps to status codes.
var (
	// ErrNotFound: no such image, exception or job.
	ErrNotFound = store.ErrNotFound
	// ErrConflict: the transition is not allowed from the current state.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the request is malformed.
	ErrInvalid = errors.New("invalid")
)

func conflictf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConflict, fmt.Sprintf(format, args...))
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// ctxDone is a helper for loops.
func ctxDone(ctx context.Context) bool { return ctx.Err() != nil }
