// Package netguard is the one gate of shipshape's own network use: every
// HTTP client that leaves the machine (registries, the source forge) goes
// through a Guard's transport. With --network=none it refuses every
// request before a connection is made; otherwise it says once, on one
// line, which host is contacted and why, so that a CI log shows where a
// judgement reached out to.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
)

// Modes of --network.
const (
	// Default allows the connections a judgement needs (the registry of a
	// registry reference, the forge for MNT-007 unless --offline).
	Default = "default"
	// None allows no connection at all.
	None = "none"
)

// ParseMode reads --network.
func ParseMode(s string) (string, error) {
	switch s {
	case "", Default:
		return Default, nil
	case None:
		return None, nil
	}
	return "", fmt.Errorf("want %s or %s, got %q", Default, None, s)
}

// ErrNone is the error of every request refused under --network=none.
var ErrNone = errors.New("--network=none allows no connection")

// Guard is the gate of one run.
type Guard struct {
	mode string
	// notify is called once per host contacted (nil: silent).
	notify func(host, why string)
	mu     sync.Mutex
	seen   map[string]bool
}

// New returns a guard in mode (Default or None) that calls notify the
// first time each host is contacted.
func New(mode string, notify func(host, why string)) *Guard {
	if mode == "" {
		mode = Default
	}
	return &Guard{mode: mode, notify: notify, seen: map[string]bool{}}
}

// None says no connection is allowed.
func (g *Guard) None() bool { return g != nil && g.mode == None }

// Hosts lists the hosts contacted so far, in order of first contact.
func (g *Guard) Hosts() []string {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for h := range g.seen {
		out = append(out, h)
	}
	return out
}

// Transport wraps next (nil: http.DefaultTransport): in None mode every
// request fails with ErrNone and no connection is made; otherwise the
// first request to each host is announced, saying why (what).
func (g *Guard) Transport(next http.RoundTripper, why string) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if g == nil {
		return next
	}
	return &transport{g: g, next: next, why: why}
}

type transport struct {
	g    *Guard
	next http.RoundTripper
	why  string
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.g.mode == None {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, fmt.Errorf("%w (%s, %s)", ErrNone, r.URL.Host, t.why)
	}
	t.g.contact(r.URL.Host, t.why)
	return t.next.RoundTrip(r)
}

func (g *Guard) contact(host, why string) {
	g.mu.Lock()
	first := !g.seen[host]
	g.seen[host] = true
	g.mu.Unlock()
	if first && g.notify != nil {
		g.notify(host, why)
	}
}

// Unreachable says err is the network failing to reach a host (no route,
// no DNS answer, connection refused or timed out, --network=none), as in
// an air-gapped CI, rather than the host answering with an error.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrNone) {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	for _, e := range []error{syscall.ECONNREFUSED, syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.ECONNRESET, syscall.ETIMEDOUT} {
		if errors.Is(err, e) {
			return true
		}
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return true
	}
	return strings.Contains(err.Error(), "Client.Timeout exceeded")
}

type ctxKey struct{}

// With returns ctx carrying g.
func With(ctx context.Context, g *Guard) context.Context {
	return context.WithValue(ctx, ctxKey{}, g)
}

// From returns the guard ctx carries, or nil (a nil Guard allows every
// connection and announces none).
func From(ctx context.Context) *Guard {
	g, _ := ctx.Value(ctxKey{}).(*Guard)
	return g
}
