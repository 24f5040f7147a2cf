package admission

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestCachingResolver(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: testNow}
	var calls atomic.Int32
	var current atomic.Value
	current.Store(dg("a"))
	refreshed := make(chan struct{}, 10)
	head := func(_ context.Context, tag name.Tag) (string, error) {
		calls.Add(1)
		defer func() { refreshed <- struct{}{} }()
		if strings.Contains(tag.String(), "missing") {
			return "", errors.New("MANIFEST_UNKNOWN")
		}
		return current.Load().(string), nil
	}
	r := NewCachingResolver(head, CacheOptions{TTL: 30 * time.Second, Now: clock.Now})

	if d, err := r.Resolve(ctx, "registry.example/app@"+dg("c")); err != nil || d != dg("c") || calls.Load() != 0 {
		t.Fatalf("a digest reference needs no lookup: %s %v %d", d, err, calls.Load())
	}
	if d, err := r.Resolve(ctx, "registry.example/app:1"); err != nil || d != dg("a") {
		t.Fatal(d, err)
	}
	<-refreshed
	if d, _ := r.Resolve(ctx, "registry.example/app:1"); d != dg("a") || calls.Load() != 1 {
		t.Fatalf("a hit asks nothing: %d calls", calls.Load())
	}
	// The tag moves; after RefreshAfter (TTL/2) a hit returns the cached digest and refreshes in the background.
	current.Store(dg("b"))
	clock.Add(20 * time.Second)
	if d, _ := r.Resolve(ctx, "registry.example/app:1"); d != dg("a") {
		t.Fatalf("still cached: %s", d)
	}
	<-refreshed
	deadline := time.Now().Add(5 * time.Second)
	for {
		if d, _ := r.Resolve(ctx, "registry.example/app:1"); d == dg("b") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("background refresh did not land")
		}
		time.Sleep(time.Millisecond)
	}
	// Past the TTL without refresh, the request path resolves again.
	current.Store(dg("c"))
	clock.Add(31 * time.Second)
	if d, _ := r.Resolve(ctx, "registry.example/app:1"); d != dg("c") {
		t.Fatalf("expired entry served: %s", d)
	}
	<-refreshed
	// Errors are remembered for ErrorTTL.
	n := calls.Load()
	for i := 0; i < 3; i++ {
		if _, err := r.Resolve(ctx, "registry.example/missing:1"); err == nil {
			t.Fatal("no error")
		}
	}
	if calls.Load() != n+1 {
		t.Errorf("errors not cached: %d calls", calls.Load()-n)
	}
	<-refreshed
	if _, err := r.Resolve(ctx, "Not A Ref"); err == nil {
		t.Error("invalid reference accepted")
	}
}

func TestCachingResolverSingleflight(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	head := func(ctx context.Context, tag name.Tag) (string, error) {
		calls.Add(1)
		<-release
		return dg("a"), nil
	}
	r := NewCachingResolver(head, CacheOptions{})
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d, err := r.Resolve(context.Background(), "nginx:1.27"); err != nil || d != dg("a") {
				t.Error(d, err)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("%d registry requests for one tag", calls.Load())
	}
	// A caller whose deadline passes gives up without waiting for the registry.
	block := make(chan struct{})
	defer close(block)
	slow := NewCachingResolver(func(ctx context.Context, tag name.Tag) (string, error) { <-block; return "", nil }, CacheOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := slow.Resolve(ctx, "nginx:1.27"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("want the deadline, got %v", err)
	}
}

// TestRemoteHead resolves a tag against go-containerregistry's in-memory registry on 127.0.0.1.
func TestRemoteHead(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag(host + "/team/app:1.0")
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	r := NewCachingResolver(RemoteHead(), CacheOptions{})
	got, err := r.Resolve(context.Background(), host+"/team/app:1.0")
	if err != nil || got != want.String() {
		t.Fatalf("%s %v, want %s", got, err, want)
	}
	if _, err := r.Resolve(context.Background(), host+"/team/app:nope"); err == nil {
		t.Error("unknown tag resolved")
	}
}
