package admission

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// State is the approval state of an image digest, as the service's approval
// state machine names it (pending -> approved -> expiring -> retired / revoked).
type State string

// The approval states. Only StateApproved and StateExpiring admit an image.
const (
	StatePending  State = "pending"
	StateApproved State = "approved"
	StateExpiring State = "expiring"
	StateRejected State = "rejected"
	StateRetired  State = "retired"
	StateRevoked  State = "revoked"
)

// Admits reports whether an image in this state may run.
func (s State) Admits() bool { return s == StateApproved || s == StateExpiring }

// Approval is what the admission decision needs to know about one image digest.
type Approval struct {
	// Digest is the digest the approval was given for (an image manifest or an index).
	Digest string `json:"digest"`
	// Ref is the image reference it was judged under, for messages.
	Ref string `json:"ref,omitempty"`
	// State is the approval state.
	State State `json:"state"`
	// IndexDigest is the digest of the index this image belongs to, when Digest is a
	// platform image of a multi-platform index.
	IndexDigest string `json:"indexDigest,omitempty"`
	// PlatformDigests are the digests of the platform images when Digest is an index.
	PlatformDigests []string `json:"platformDigests,omitempty"`
	// FailingChecks summarises the checks that failed, e.g. "SEC-001 USER is not set".
	FailingChecks []string `json:"failingChecks,omitempty"`
	// ValidUntil is when the approval expires; zero means it does not.
	ValidUntil time.Time `json:"validUntil,omitzero"`
	// Signer names who or what approved it.
	Signer string `json:"signer,omitempty"`
	// Reason is a free-text note (why it was revoked or rejected).
	Reason string `json:"reason,omitempty"`
}

// AdmitsAt reports whether the approval admits the image at time now: its state
// admits it and it has not expired (the view may lag behind the expiry sweep).
func (a Approval) AdmitsAt(now time.Time) bool {
	return a.State.Admits() && (a.ValidUntil.IsZero() || now.Before(a.ValidUntil))
}

// View answers, from memory, what is known about an image digest. Lookup returns
// the approval that governs digest (which may be the approval of its index or of
// one of its platform images: Approval.Digest says which), false when there is
// none, or an error when the view cannot answer (not loaded yet, stale, store
// unreachable). Implementations must be safe for concurrent use and fast: Lookup
// is on the admission request path.
type View interface {
	Lookup(ctx context.Context, digest string) (Approval, bool, error)
}

// ViewFunc adapts a function to View.
type ViewFunc func(ctx context.Context, digest string) (Approval, bool, error)

// Lookup calls f.
func (f ViewFunc) Lookup(ctx context.Context, digest string) (Approval, bool, error) {
	return f(ctx, digest)
}

// ErrViewNotReady is returned by MemView.Lookup before the first snapshot is loaded.
var ErrViewNotReady = errors.New("approval view not loaded yet")

// ErrViewStale is returned by MemView.Lookup when the snapshot is older than its MaxAge.
var ErrViewStale = errors.New("approval view is stale")

// MemView is an in-memory View: an immutable snapshot swapped atomically
// (copy-on-write), so Lookup never takes a lock. It links index and platform
// digests: an approval of an index also answers for its platform digests, and an
// approval of a platform image also answers for its index, unless that digest
// has an approval of its own. Among several linked approvals for one digest the
// one that does not admit wins, so a revoked platform image cannot be masked by
// an approved sibling.
type MemView struct {
	// MaxAge, when positive, makes Lookup fail with ErrViewStale when the last
	// Replace (or MarkFresh) is older than this, so that a view whose refresh
	// loop has died stops answering instead of answering with old data.
	MaxAge time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[memSnapshot]
}

type memSnapshot struct {
	loaded    time.Time
	approvals []Approval          // by Digest, as given
	byDigest  map[string]Approval // direct and linked entries
}

// NewMemView returns a view loaded with approvals (none: a loaded, empty view).
func NewMemView(approvals ...Approval) *MemView {
	v := &MemView{}
	v.Replace(approvals)
	return v
}

// NewEmptyMemView returns a view that answers ErrViewNotReady until its first Replace.
func NewEmptyMemView() *MemView { return &MemView{} }

func (v *MemView) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// Replace swaps in a new snapshot of all approvals. The slice is copied.
func (v *MemView) Replace(approvals []Approval) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.snap.Store(buildSnapshot(approvals, v.now()))
}

// Upsert adds or replaces the approvals of the given digests (copy-on-write of the
// whole snapshot: meant for notifications between full refreshes, not bulk loads).
func (v *MemView) Upsert(approvals ...Approval) {
	v.mu.Lock()
	defer v.mu.Unlock()
	old := v.snap.Load()
	idx := map[string]int{}
	var all []Approval
	loaded := v.now()
	if old != nil {
		all = append(all, old.approvals...)
		loaded = old.loaded
	}
	for i, a := range all {
		idx[a.Digest] = i
	}
	for _, a := range approvals {
		if i, ok := idx[a.Digest]; ok {
			all[i] = a
		} else {
			idx[a.Digest] = len(all)
			all = append(all, a)
		}
	}
	v.snap.Store(buildSnapshot(all, loaded))
}

// MarkFresh records that the snapshot was confirmed current at the view's clock
// time (a refresh found nothing new) without rebuilding it.
func (v *MemView) MarkFresh() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if old := v.snap.Load(); old != nil {
		s := *old
		s.loaded = v.now()
		v.snap.Store(&s)
	}
}

// Snapshot returns a copy of the approvals in the current snapshot.
func (v *MemView) Snapshot() []Approval {
	s := v.snap.Load()
	if s == nil {
		return nil
	}
	return append([]Approval(nil), s.approvals...)
}

func buildSnapshot(approvals []Approval, loaded time.Time) *memSnapshot {
	s := &memSnapshot{loaded: loaded, approvals: make([]Approval, 0, len(approvals)), byDigest: make(map[string]Approval, len(approvals)*2)}
	direct := map[string]bool{}
	for _, a := range approvals {
		a.PlatformDigests = append([]string(nil), a.PlatformDigests...)
		a.FailingChecks = append([]string(nil), a.FailingChecks...)
		s.approvals = append(s.approvals, a)
		s.byDigest[a.Digest] = a
		direct[a.Digest] = true
	}
	link := func(d string, a Approval) {
		if d == "" || direct[d] {
			return
		}
		if cur, ok := s.byDigest[d]; ok && !cur.State.Admits() {
			return // a linked denial is never masked by a linked approval
		}
		s.byDigest[d] = a
	}
	for _, a := range s.approvals {
		for _, p := range a.PlatformDigests {
			link(p, a)
		}
		link(a.IndexDigest, a)
	}
	return s
}

// Lookup implements View.
func (v *MemView) Lookup(ctx context.Context, digest string) (Approval, bool, error) {
	s := v.snap.Load()
	if s == nil {
		return Approval{}, false, ErrViewNotReady
	}
	if v.MaxAge > 0 && v.now().Sub(s.loaded) > v.MaxAge {
		return Approval{}, false, ErrViewStale
	}
	a, ok := s.byDigest[digest]
	return a, ok, nil
}

// Run refreshes the view every interval from load until ctx is done, starting
// with an immediate load. A failed load keeps the previous snapshot (which goes
// stale after MaxAge) and is reported to onErr when it is not nil.
func (v *MemView) Run(ctx context.Context, interval time.Duration, load func(context.Context) ([]Approval, error), onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if approvals, err := load(ctx); err != nil {
			if onErr != nil {
				onErr(err)
			}
		} else {
			v.Replace(approvals)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
