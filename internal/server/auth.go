package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/shipshape-dev/shipshape/internal/store"
)

// Roles, weakest first: each role may do what the ones before it may.
var roleRank = map[string]int{store.RoleViewer: 1, store.RoleSubmitter: 2, store.RoleApprover: 3, store.RoleAdmin: 4}

// ValidRole reports whether role is one of viewer, submitter, approver, admin.
func ValidRole(role string) bool { return roleRank[role] > 0 }

// tokenPrefix marks shipshape tokens so that secret scanners can find leaked ones.
const tokenPrefix = "ssp_"

// NewToken returns a new random bearer token and the hash the store keeps.
func NewToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken is the stored form of a token: its SHA-256, hex.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateToken creates a token with role in st, audits it, and returns the
// token (shown once; only its hash is stored).
func CreateToken(ctx context.Context, st *store.Store, name, role, actor string) (string, int64, error) {
	if !ValidRole(role) {
		return "", 0, fmt.Errorf("unknown role %q: use viewer, submitter, approver or admin", role)
	}
	if strings.TrimSpace(name) == "" {
		return "", 0, errors.New("a token needs a name (--name), e.g. the CI job or the person it is for")
	}
	token, hash, err := NewToken()
	if err != nil {
		return "", 0, err
	}
	var id int64
	err = st.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if id, err = tx.CreateToken(store.Token{Name: name, Hash: hash, Role: role}); err != nil {
			return err
		}
		_, err = tx.AppendEvent(store.Event{Actor: actor, Action: "token.created", Subject: fmt.Sprintf("token/%d", id),
			Details: []byte(fmt.Sprintf(`{"name":%q,"role":%q}`, name, role))})
		return err
	})
	return token, id, err
}

// principal is who a request is from.
type principal struct {
	id   int64
	name string
	role string
}

type principalKey struct{}

func principalOf(r *http.Request) principal {
	p, _ := r.Context().Value(principalKey{}).(principal)
	return p
}

// failureLimiter counts failed authentications per client address and
// refuses a client with too many in the window.
type failureLimiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	now    func() time.Time
	seen   map[string]*failures
}

type failures struct {
	n     int
	start time.Time
}

func newFailureLimiter(max int, window time.Duration) *failureLimiter {
	return &failureLimiter{max: max, window: window, now: time.Now, seen: map[string]*failures{}}
}

// blocked reports whether addr has failed too often within the window.
func (l *failureLimiter) blocked(addr string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.seen[addr]
	if !ok {
		return false, 0
	}
	if el := l.now().Sub(f.start); el > l.window {
		delete(l.seen, addr)
		return false, 0
	} else if f.n >= l.max {
		return true, l.window - el
	}
	return false, 0
}

func (l *failureLimiter) fail(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.seen) > 100000 { // bounded memory under a spray of addresses
		for k, f := range l.seen {
			if now.Sub(f.start) > l.window {
				delete(l.seen, k)
			}
		}
		if len(l.seen) > 100000 {
			l.seen = map[string]*failures{}
		}
	}
	f, ok := l.seen[addr]
	if !ok || now.Sub(f.start) > l.window {
		f = &failures{start: now}
		l.seen[addr] = f
	}
	f.n++
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authenticate resolves the bearer token of r and checks it has role at
// least; it writes the error response and returns false otherwise.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, role string) (*http.Request, bool) {
	addr := clientAddr(r)
	if blocked, wait := s.limiter.blocked(addr); blocked {
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		s.writeError(w, r, http.StatusTooManyRequests, "too many failed authentications from %s: wait %s", addr, wait.Round(time.Second))
		return r, false
	}
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		s.limiter.fail(addr)
		w.Header().Set("WWW-Authenticate", `Bearer realm="shipshape"`)
		s.writeError(w, r, http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer TOKEN (create one with shipshape serve token create)")
		return r, false
	}
	hash := HashToken(strings.TrimSpace(token))
	t, err := s.lookupToken(r.Context(), hash)
	if err != nil || subtle.ConstantTimeCompare([]byte(t.Hash), []byte(hash)) != 1 || !t.RevokedAt.IsZero() {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Error("token lookup", "err", err)
			s.writeError(w, r, http.StatusServiceUnavailable, "cannot check the token now: the store does not answer")
			return r, false
		}
		s.limiter.fail(addr)
		w.Header().Set("WWW-Authenticate", `Bearer realm="shipshape", error="invalid_token"`)
		s.writeError(w, r, http.StatusUnauthorized, "invalid or revoked token")
		return r, false
	}
	if roleRank[t.Role] < roleRank[role] {
		s.writeError(w, r, http.StatusForbidden, "token %q has role %s; this needs %s or above", t.Name, t.Role, role)
		return r, false
	}
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, principal{id: t.ID, name: t.Name, role: t.Role})), true
}

// tokenTTL is how long a token lookup is cached: a revoked token stops
// working within it on every process.
const tokenTTL = 15 * time.Second

type cachedToken struct {
	t   store.Token
	err error
	at  time.Time
}

// lookupToken reads a token by hash through a short cache, so the request
// path does not wait on the store (SQLite has one connection, held by
// writes).
//
// When an entry expires, one request reads the token again while the
// others go on with the entry for up to tokenTTL more, so that a busy
// client does not queue every request behind the store (on SQLite, behind
// whatever holds its one connection) each time the entry expires.
func (s *Server) lookupToken(ctx context.Context, hash string) (store.Token, error) {
	if v, ok := s.tokens.Load(hash); ok {
		c := v.(cachedToken)
		age := time.Since(c.at)
		if age < tokenTTL {
			return c.t, c.err
		}
		if age < 2*tokenTTL {
			if _, busy := s.tokenRefresh.LoadOrStore(hash, true); busy {
				return c.t, c.err
			}
			defer s.tokenRefresh.Delete(hash)
		}
	}
	t, err := s.fleet.Store().LookupToken(ctx, hash)
	if err == nil || errors.Is(err, store.ErrNotFound) {
		if s.tokenCount.Add(1) > 10000 { // bounded under a spray of bad tokens
			s.tokens.Clear()
			s.tokenCount.Store(0)
		}
		s.tokens.Store(hash, cachedToken{t: t, err: err, at: time.Now()})
	}
	return t, err
}
