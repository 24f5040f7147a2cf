package admission

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestMemViewLinksIndexAndPlatforms(t *testing.T) {
	ctx := context.Background()
	idx, amd, arm := dg("f"), dg("1"), dg("2")
	v := NewMemView(
		Approval{Digest: idx, State: StateApproved, PlatformDigests: []string{amd, arm}},
		// arm64 was judged on its own and revoked: its own record wins over the index's.
		Approval{Digest: arm, State: StateRevoked, IndexDigest: idx},
		// a platform image approved on its own answers for its index.
		Approval{Digest: dg("3"), State: StateApproved, IndexDigest: dg("4")},
		// two platforms of one index, one revoked: the index is not admitted.
		Approval{Digest: dg("5"), State: StateApproved, IndexDigest: dg("9")},
		Approval{Digest: dg("6"), State: StateRevoked, IndexDigest: dg("9")},
	)
	for digest, want := range map[string]State{idx: StateApproved, amd: StateApproved, arm: StateRevoked,
		dg("3"): StateApproved, dg("4"): StateApproved, dg("9"): StateRevoked} {
		a, ok, err := v.Lookup(ctx, digest)
		if err != nil || !ok || a.State != want {
			t.Errorf("%s: %v %v %v, want %s", digest[:9], a.State, ok, err, want)
		}
	}
	if a, _, _ := v.Lookup(ctx, amd); a.Digest != idx {
		t.Errorf("a platform digest answers with its index's approval, got %s", a.Digest)
	}
	if _, ok, _ := v.Lookup(ctx, dg("0")); ok {
		t.Error("unknown digest found")
	}
}

func TestMemViewReadiness(t *testing.T) {
	ctx := context.Background()
	now := testNow
	v := NewEmptyMemView()
	v.MaxAge = time.Minute
	v.Now = func() time.Time { return now }
	if _, _, err := v.Lookup(ctx, dg("a")); !errors.Is(err, ErrViewNotReady) {
		t.Errorf("empty view: %v", err)
	}
	v.Replace(testApprovals())
	if _, ok, err := v.Lookup(ctx, dg("a")); !ok || err != nil {
		t.Errorf("loaded view: %v %v", ok, err)
	}
	now = now.Add(2 * time.Minute)
	if _, _, err := v.Lookup(ctx, dg("a")); !errors.Is(err, ErrViewStale) {
		t.Errorf("stale view: %v", err)
	}
	v.MarkFresh()
	if _, _, err := v.Lookup(ctx, dg("a")); err != nil {
		t.Errorf("fresh again: %v", err)
	}
	in := testApprovals()
	v.Replace(in)
	in[0].State = StateRevoked // the caller's slice is not shared
	if a, _, _ := v.Lookup(ctx, dg("a")); a.State != StateApproved {
		t.Error("Replace must copy")
	}
	if len(v.Snapshot()) != len(in) {
		t.Error("Snapshot")
	}
}

func TestMemViewRun(t *testing.T) {
	v := NewEmptyMemView()
	ctx, cancel := context.WithCancel(context.Background())
	var calls int
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		v.Run(ctx, time.Millisecond, func(context.Context) ([]Approval, error) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if calls == 2 {
				return nil, errors.New("store down")
			}
			return testApprovals(), nil
		}, func(error) {})
		close(done)
	}()
	for {
		mu.Lock()
		n := calls
		mu.Unlock()
		if n >= 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if _, ok, err := v.Lookup(context.Background(), dg("a")); !ok || err != nil {
		t.Errorf("%v %v", ok, err)
	}
}

func TestMemViewConcurrent(t *testing.T) {
	v := NewMemView(testApprovals()...)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if _, _, err := v.Lookup(context.Background(), dg("a")); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				a := testApprovals()[i%3]
				v.Upsert(a)
				v.Replace(testApprovals())
			}
		}()
	}
	wg.Wait()
}

func TestParseModeRule(t *testing.T) {
	r, err := ParseModeRule("staging, team-*=warn")
	if err != nil || r.Mode != ModeWarn || len(r.Namespaces) != 2 || r.Namespaces[1] != "team-*" {
		t.Fatalf("%+v %v", r, err)
	}
	for _, bad := range []string{"staging", "=warn", "staging=block", "[=audit"} {
		if _, err := ParseModeRule(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
