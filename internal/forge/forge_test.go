package forge_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/forge"
	"github.com/shipshape-dev/shipshape/internal/forge/forgetest"
)

var now = forgetest.Recorded

func client(t *testing.T, srv *forgetest.Server, mod func(*forge.Options)) *forge.Client {
	t.Helper()
	o := forge.Options{BaseURL: srv.URL, CacheDir: t.TempDir(), Now: func() time.Time { return now }}
	if mod != nil {
		mod(&o)
	}
	c, err := forge.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func repo(t *testing.T, s string) forge.Repo {
	t.Helper()
	r, err := forge.ParseRepo(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestHealth(t *testing.T) {
	srv := forgetest.New(t, now)
	c := client(t, srv, func(o *forge.Options) { o.Token = "test-token" })
	ctx := context.Background()

	fresh, err := c.Health(ctx, repo(t, "https://github.com/shipshape-dev/webapp"))
	if err != nil {
		t.Fatal(err)
	}
	if !fresh.Found || fresh.Archived || fresh.DefaultBranch != "main" || fresh.LastCommitSHA != "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b" {
		t.Errorf("fresh: %+v", fresh)
	}
	if age := now.Sub(fresh.LastCommit); age < 5*24*time.Hour || age > 7*24*time.Hour {
		t.Errorf("fresh last commit %s is %s old, want about 6 days", fresh.LastCommit, age)
	}
	if fresh.LastRelease == nil || fresh.LastRelease.Tag != "v1.4.2" {
		t.Errorf("release %+v", fresh.LastRelease)
	}
	// #214 is too young, #213 is a pull request: four issues, all answered.
	if fresh.Issues == nil || fresh.Issues.Sampled != 4 || fresh.Issues.Answered != 4 {
		t.Errorf("issues %+v", fresh.Issues)
	}

	stale, err := c.Health(ctx, repo(t, "git@github.com:shipshape-dev/legacy-tool.git"))
	if err != nil {
		t.Fatal(err)
	}
	if !stale.Found || stale.DefaultBranch != "master" || now.Sub(stale.LastCommit) < 365*24*time.Hour || stale.LastRelease.Tag != "v0.9.1" {
		t.Errorf("stale: %+v", stale)
	}
	// Three issues of the last year got no answer (#128 is a pull request).
	if stale.Issues.Sampled != 3 || stale.Issues.Answered != 0 {
		t.Errorf("stale issues %+v", stale.Issues)
	}

	archived, err := c.Health(ctx, repo(t, "github.com/shipshape-dev/oldlib"))
	if err != nil {
		t.Fatal(err)
	}
	if !archived.Found || !archived.Archived || archived.LastRelease != nil || archived.Issues == nil || archived.Issues.Sampled != 0 {
		t.Errorf("archived: %+v", archived)
	}

	missing, err := c.Health(ctx, repo(t, "https://github.com/shipshape-dev/gone"))
	if err != nil || missing.Found {
		t.Errorf("missing: %+v %v", missing, err)
	}
	for _, r := range srv.Requests() {
		if r.Auth != "Bearer test-token" {
			t.Errorf("%s sent without the token: %q", r.Path, r.Auth)
		}
	}
}

func TestHealthErrors(t *testing.T) {
	srv := forgetest.New(t, now)
	ctx := context.Background()
	cases := []struct {
		repo string
		rate bool
		has  string
	}{
		{"github.com/ratelimited/app", true, "rate limit exceeded"},
		{"github.com/throttled/app", true, "secondary rate limit"},
		{"github.com/broken/app", false, "500"},
		{"github.com/garbage/app", false, "not the JSON GitHub sends"},
	}
	for _, tc := range cases {
		c := client(t, srv, nil)
		h, err := c.Health(ctx, repo(t, tc.repo))
		if err == nil || h != nil {
			t.Fatalf("%s: want an error, got %+v", tc.repo, h)
		}
		var rl *forge.RateLimitError
		if errors.As(err, &rl) != tc.rate || !strings.Contains(err.Error(), tc.has) {
			t.Errorf("%s: %v", tc.repo, err)
		}
		if tc.rate && !rl.Reset.After(now) {
			t.Errorf("%s: reset %s is not in the future", tc.repo, rl.Reset)
		}
	}
}

// A rate limit is remembered in the cache directory: until it lifts, no
// request is made, for any repository of that host.
func TestRateLimitIsRespected(t *testing.T) {
	srv := forgetest.New(t, now)
	dir := t.TempDir()
	c := client(t, srv, func(o *forge.Options) { o.CacheDir = dir })
	if _, err := c.Health(context.Background(), repo(t, "github.com/ratelimited/app")); err == nil {
		t.Fatal("want a rate limit")
	}
	before := len(srv.Requests())
	c2 := client(t, srv, func(o *forge.Options) { o.CacheDir = dir })
	_, err := c2.Health(context.Background(), repo(t, "github.com/shipshape-dev/webapp"))
	var rl *forge.RateLimitError
	if !errors.As(err, &rl) || len(srv.Requests()) != before {
		t.Errorf("while limited: err %v, %d new requests", err, len(srv.Requests())-before)
	}
	later := client(t, srv, func(o *forge.Options) {
		o.CacheDir = dir
		o.Now = func() time.Time { return now.Add(2 * time.Hour) }
	})
	if h, err := later.Health(context.Background(), repo(t, "github.com/shipshape-dev/webapp")); err != nil || !h.Found {
		t.Errorf("after the reset: %+v %v", h, err)
	}
}

func TestCache(t *testing.T) {
	srv := forgetest.New(t, now)
	dir := t.TempDir()
	at := now
	c := client(t, srv, func(o *forge.Options) {
		o.CacheDir = dir
		o.Now = func() time.Time { return at }
	})
	r := repo(t, "https://github.com/shipshape-dev/webapp")
	first, err := c.Health(context.Background(), r)
	if err != nil || first.FromCache {
		t.Fatal(first, err)
	}
	n := len(srv.Requests())
	if n != 4 {
		t.Errorf("a lookup is 4 requests (repository, commits, latest release, issues), got %d", n)
	}
	again, err := c.Health(context.Background(), r)
	if err != nil || !again.FromCache || again.Stale || len(srv.Requests()) != n || !again.LastCommit.Equal(first.LastCommit) {
		t.Errorf("within the TTL the cache answers: %+v %v (%d requests)", again, err, len(srv.Requests()))
	}
	// Offline: the cached answer however old, marked stale once past the TTL.
	at = now.Add(48 * time.Hour)
	off := client(t, srv, func(o *forge.Options) {
		o.CacheDir, o.Offline = dir, true
		o.Now = func() time.Time { return at }
	})
	h, err := off.Health(context.Background(), r)
	if err != nil || !h.Stale || !strings.Contains(h.StaleReason, "offline") || len(srv.Requests()) != n {
		t.Errorf("offline with a stale cache: %+v %v", h, err)
	}
	if _, err := off.Health(context.Background(), repo(t, "github.com/shipshape-dev/legacy-tool")); !errors.Is(err, forge.ErrOffline) {
		t.Errorf("offline without a cache: %v", err)
	}
	// Past the TTL online, the forge is asked again.
	if h, err := c.Health(context.Background(), r); err != nil || h.FromCache || len(srv.Requests()) != 2*n {
		t.Errorf("past the TTL: %+v %v", h, err)
	}
}

func TestUnsupportedAndOversized(t *testing.T) {
	srv := forgetest.New(t, now)
	c := client(t, srv, nil)
	var ue *forge.UnsupportedError
	if _, err := c.Health(context.Background(), repo(t, "https://gitlab.com/group/sub/project")); !errors.As(err, &ue) {
		t.Errorf("gitlab: %v", err)
	}
	big := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"name":"`))
		chunk := []byte(strings.Repeat("a", 1<<20))
		for i := 0; i < 16; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	big.Listener = l
	big.Start()
	defer big.Close()
	bc, _ := forge.New(forge.Options{BaseURL: big.URL + "/"})
	if _, err := bc.Health(context.Background(), repo(t, "github.com/o/r")); err == nil || !strings.Contains(err.Error(), "size limit") {
		t.Errorf("a 16 MiB answer must be refused: %v", err)
	}
}

func TestParseRepo(t *testing.T) {
	good := map[string]string{
		"https://github.com/shipshape-dev/webapp":                     "github.com/shipshape-dev/webapp",
		"https://github.com/shipshape-dev/webapp.git":                 "github.com/shipshape-dev/webapp",
		"https://github.com/shipshape-dev/webapp/tree/main/cmd":       "github.com/shipshape-dev/webapp",
		"git+https://github.com/shipshape-dev/webapp@refs/heads/main": "github.com/shipshape-dev/webapp",
		"git@github.com:shipshape-dev/webapp.git":                     "github.com/shipshape-dev/webapp",
		"ssh://git@github.com/shipshape-dev/webapp":                   "github.com/shipshape-dev/webapp",
		"github.com/shipshape-dev/webapp":                             "github.com/shipshape-dev/webapp",
		"https://www.github.com/Shipshape-Dev/WebApp#readme":          "github.com/Shipshape-Dev/WebApp",
		"https://gitlab.com/group/sub/project/-/tree/main":            "gitlab.com/group/sub/project",
	}
	for in, want := range good {
		r, err := forge.ParseRepo(in)
		if err != nil || r.String() != want {
			t.Errorf("ParseRepo(%q) = %v, %v; want %s", in, r, err, want)
		}
	}
	for _, bad := range []string{"", "https://github.com/onlyowner", "webapp", "ftp://github.com/o/r", "https://github.com/../etc", "https://github.com/o/r%00", "file:///etc/passwd"} {
		if r, err := forge.ParseRepo(bad); err == nil {
			t.Errorf("ParseRepo(%q) = %v, want an error", bad, r)
		}
	}
}
