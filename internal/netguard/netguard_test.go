package netguard

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// --network=none refuses every request before a connection is made.
func TestNoneMakesNoConnection(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	var conns atomic.Int32
	srv.Config.ConnState = func(net.Conn, http.ConnState) { conns.Add(1) }
	g := New(None, func(string, string) { t.Error("notified under none") })
	c := &http.Client{Transport: g.Transport(nil, "test")}
	_, err := c.Get(srv.URL)
	if !errors.Is(err, ErrNone) || !Unreachable(err) {
		t.Fatalf("err %v", err)
	}
	if hits.Load() != 0 || conns.Load() != 0 {
		t.Errorf("%d requests, %d connection states", hits.Load(), conns.Load())
	}
}

// Each host is announced once, with why it is contacted.
func TestNoticeOncePerHost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	var got []string
	g := New(Default, func(host, why string) { got = append(got, host+" "+why) })
	c := &http.Client{Transport: g.Transport(nil, "the forge")}
	for range 3 {
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if len(got) != 1 || got[0] != srv.Listener.Addr().String()+" the forge" {
		t.Errorf("notices %q", got)
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := &http.Client{Timeout: 5 * time.Second}
	_, err = c.Get("http://" + addr + "/")
	if !Unreachable(err) {
		t.Errorf("connection refused: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://does-not-exist.invalid/", nil)
	if _, err := http.DefaultClient.Do(req); !Unreachable(err) {
		t.Errorf("no DNS answer: %v", err)
	}
	if Unreachable(errors.New("500 Internal Server Error")) {
		t.Error("a server's error is not the network")
	}
}
