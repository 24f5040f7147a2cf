// Package forgetest serves recorded GitHub REST API answers on 127.0.0.1 for
// tests: the same go-github client as in production talks to it. The
// answers (testdata/) were shaped on real api.github.com responses; every
// timestamp in them is moved by the time between Recorded and the server's
// "now", so a repository that was fresh when recorded stays fresh.
//
// Repositories: shipshape-dev/webapp (fresh), shipshape-dev/legacy-tool
// (no commit for two years), shipshape-dev/oldlib (archived); any other
// repository is missing (404). Owners with special answers: ratelimited
// (403, primary rate limit exhausted), throttled (429, secondary rate
// limit), broken (500), garbage (200 with an HTML page).
package forgetest

import (
	"embed"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

//go:embed testdata
var data embed.FS

// Recorded is the time the answers are relative to.
var Recorded = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// Request is one request the server received.
type Request struct {
	Path  string
	Query string
	// Auth is the Authorization header.
	Auth string
}

// Server is a fake GitHub API.
type Server struct {
	// URL is the API root, with a trailing slash, for forge.Options.BaseURL or --forge-url.
	URL string
	now time.Time
	mu  sync.Mutex
	log []Request
}

// New starts a server on 127.0.0.1 whose answers are shifted to now.
func New(t testing.TB, now time.Time) *Server {
	t.Helper()
	s := &Server{now: now}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/"
	return s
}

// Requests returns what the server was asked, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

var timestamp = regexp.MustCompile(`"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"`)

// shift moves every RFC 3339 timestamp by now - Recorded.
func (s *Server) shift(b []byte) []byte {
	d := s.now.Sub(Recorded)
	return timestamp.ReplaceAllFunc(b, func(m []byte) []byte {
		t, err := time.Parse(time.RFC3339, string(m[1:len(m)-1]))
		if err != nil {
			return m
		}
		return []byte(`"` + t.Add(d).UTC().Format(time.RFC3339) + `"`)
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.log = append(s.log, Request{Path: r.URL.Path, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization")})
	n := len(s.log)
	s.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-RateLimit-Limit", "60")
	h.Set("X-RateLimit-Resource", "core")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.now.Add(time.Hour).Unix(), 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(n))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(60-n, 1)))
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 3 || parts[0] != "repos" || r.Method != http.MethodGet {
		s.file(w, http.StatusNotFound, "errors/not-found.json")
		return
	}
	owner, name, rest := parts[1], parts[2], strings.Join(parts[3:], "/")
	switch owner {
	case "ratelimited":
		h.Set("X-RateLimit-Remaining", "0")
		s.file(w, http.StatusForbidden, "errors/rate-limit.json")
		return
	case "throttled":
		h.Set("Retry-After", "60")
		s.file(w, http.StatusTooManyRequests, "errors/secondary-rate-limit.json")
		return
	case "broken":
		s.file(w, http.StatusInternalServerError, "errors/server-error.json")
		return
	case "garbage":
		h.Set("Content-Type", "text/html; charset=utf-8")
		s.file(w, http.StatusOK, "errors/garbage.html")
		return
	}
	base := "repos/" + owner + "/" + name
	if _, err := fs.Stat(data, "testdata/"+base+".json"); err != nil {
		s.file(w, http.StatusNotFound, "errors/not-found.json")
		return
	}
	switch rest {
	case "":
		s.file(w, http.StatusOK, base+".json")
	case "commits", "releases/latest", "issues":
		if _, err := fs.Stat(data, "testdata/"+base+"/"+rest+".json"); err != nil && rest == "issues" {
			w.Write([]byte("[]\n"))
			return
		}
		s.file(w, http.StatusOK, base+"/"+rest+".json")
	default:
		s.file(w, http.StatusNotFound, "errors/not-found.json")
	}
}

func (s *Server) file(w http.ResponseWriter, status int, name string) {
	b, err := data.ReadFile("testdata/" + name)
	if err != nil {
		b, _ = data.ReadFile("testdata/errors/not-found.json")
		status = http.StatusNotFound
	}
	w.WriteHeader(status)
	w.Write(s.shift(b))
}
