package vulndb

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// mirror serves real OSV exports like OSV's bucket, with ETag and
// Last-Modified, and can be told to break the next download.
type mirror struct {
	files    map[string][]byte // "/Go/all.zip" -> bytes
	etag     string
	gets     atomic.Int32
	notMod   atomic.Int32
	truncate atomic.Bool // send half the body with the full Content-Length
	hangup   atomic.Bool // close the connection after half the body
}

func (m *mirror) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, ok := m.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	m.gets.Add(1)
	if r.Header.Get("If-None-Match") == m.etag {
		m.notMod.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", m.etag)
	w.Header().Set("Last-Modified", "Wed, 12 Feb 2025 18:06:00 GMT")
	w.Header().Set("Content-Type", "application/zip")
	switch {
	case m.truncate.Load():
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b[:len(b)/2])
	case m.hangup.Load():
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b[:len(b)/2])
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
			}
		}
	default:
		w.Write(b)
	}
}

func newMirror(t *testing.T, ecos ...string) (*mirror, string) {
	t.Helper()
	m := &mirror{files: map[string][]byte{}, etag: `"v1"`}
	for _, e := range ecos {
		b, err := os.ReadFile(osvZip(t, e))
		if err != nil {
			t.Fatal(err)
		}
		m.files["/"+e+"/all.zip"] = b
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(m)
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return m, srv.URL + "/"
}

// `db update` end to end: download, a conditional request answered 304,
// then a truncated and an interrupted download that keep the installed data.
func TestUpdateFromMirror(t *testing.T) {
	m, url := newMirror(t, "Go")
	dir := t.TempDir()
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	res, err := Update(ctx, dir, UpdateOptions{BaseURL: url, Ecosystems: []string{"Go"}, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].NotModified || res[0].Import == nil || res[0].Bytes != int64(len(m.files["/Go/all.zip"])) {
		t.Fatalf("first update: %+v", res)
	}
	installed := res[0].Import.Info
	if installed.Origin != strings.TrimSuffix(url, "/")+"/Go/all.zip" || installed.ETag != `"v1"` {
		t.Errorf("origin %q etag %q", installed.Origin, installed.ETag)
	}

	// Second run: the installed sources are the default ecosystems, and the
	// server says nothing changed; the check time moves, the data does not.
	t1 := t0.Add(96 * time.Hour)
	res, err = Update(ctx, dir, UpdateOptions{BaseURL: url, Now: t1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || !res[0].NotModified || m.notMod.Load() != 1 {
		t.Fatalf("second update: %+v (304s: %d)", res, m.notMod.Load())
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := db.Sources()[0]
	db.Close()
	if !s.ImportedAt.Equal(installed.ImportedAt) || !s.Refreshed().Equal(t1) {
		t.Errorf("after 304: imported %v refreshed %v, want %v and %v", s.ImportedAt, s.Refreshed(), installed.ImportedAt, t1)
	}

	// A new version on the server, delivered broken: the old data stays.
	m.etag = `"v2"`
	for name, brk := range map[string]*atomic.Bool{"truncated": &m.truncate, "interrupted": &m.hangup} {
		brk.Store(true)
		_, err := Update(ctx, dir, UpdateOptions{BaseURL: url, Ecosystems: []string{"Go"}, Now: t1.Add(time.Hour)})
		brk.Store(false)
		if err == nil {
			t.Fatalf("%s download: no error", name)
		}
		if !strings.Contains(err.Error(), "unchanged") && !strings.Contains(err.Error(), "unexpected EOF") {
			t.Errorf("%s download: %v", name, err)
		}
		sameSource(t, dir, s)
	}

	// Unknown ecosystems are a clear error; the others still update.
	_, err = Update(ctx, dir, UpdateOptions{BaseURL: url, Ecosystems: []string{"NoSuch", "Go"}})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("unknown ecosystem: %v", err)
	}
	db, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := db.Sources()[0].ETag; got != `"v2"` {
		t.Errorf("Go not updated next to a failing ecosystem: etag %s", got)
	}
}

func TestUpdateBadURL(t *testing.T) {
	for _, u := range []string{"ftp://example.com", "not a url", "file:///tmp"} {
		if _, err := Update(context.Background(), t.TempDir(), UpdateOptions{BaseURL: u}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}
