package engine_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/facts"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// debianImage is a Debian 12 image with openssl 3.0.11 (vulnerable to real
// advisories), a root password hash, an AWS key and a setuid binary: enough
// for vulnerabilities, accounts, secrets and files to show in the facts.
func debianImage(t *testing.T, tag string) string {
	t.Helper()
	status := "Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.11-1~deb12u1\nArchitecture: amd64\n\n" +
		"Package: openssl\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u1\nArchitecture: amd64\n\n"
	layers := [][]imagetest.File{
		imagetest.Debian(),
		{
			imagetest.Text("/var/lib/dpkg/status", status),
			imagetest.Text("/etc/shadow", "root:$6$salt$abcdefghijklmnop:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n"),
			imagetest.Text("/app/.env", "AWS_ACCESS_KEY_ID=AKIAZ7Q3VN4XHM2LPW6R\nAWS_SECRET_ACCESS_KEY=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\n"),
			{Path: "/usr/bin/sudoish", Content: "#!/bin/sh\n", Mode: 0o4755},
		},
	}
	img := imagetest.Image(t, imagetest.Spec{Layers: layers, Config: v1.Config{Entrypoint: []string{"/usr/bin/dash"}, User: "root"}, Created: now.Add(-24 * time.Hour)})
	return imagetest.WriteLayout(t, t.TempDir(), img, "registry.example/team/app:"+tag)
}

// openssl opens a small real advisory database: the Debian records of
// openssl CVEs fixed after 3.0.11-1~deb12u1.
func openssl(t *testing.T) *vulndb.DB {
	return imagetest.OSVDB(t, "Debian", "CVE-2023-5363", "CVE-2023-5678", "DSA-5532-1")
}

func newEngine(t *testing.T, d engine.Deps) *engine.Engine {
	t.Helper()
	d.Version = "test"
	e, err := engine.New(d)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// stable renders a report without what legitimately differs between two
// judgements of the same facts: durations.
func stable(t *testing.T, r *report.Report) string {
	t.Helper()
	c := *r
	c.Duration = 0
	var b bytes.Buffer
	if err := report.WriteJSON(&b, &c); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Facts written to a file and read back judge to the same report as the
// facts just observed: nothing Judge needs is lost in serialisation, and no
// password hash is written.
func TestFactsRoundTripJudgesTheSame(t *testing.T) {
	e := newEngine(t, engine.Deps{Vulns: openssl(t)})
	ctx := context.Background()
	f, err := e.Observe(ctx, debianImage(t, "1.0"), engine.ObserveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := e.Judge(ctx, f, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := facts.Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "abcdefghijklmnop") {
		t.Fatal("the facts hold the root password hash")
	}
	back, err := facts.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.Judge(ctx, back, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := stable(t, direct), stable(t, again); a != b {
		t.Fatalf("judging read-back facts differs:\n%s", firstDiff(a, b))
	}
	// The facts really carry what the checks decided on.
	for _, id := range []string{"SEC-020", "SEC-003", "CMP-004", "CMP-007", "SEC-001"} {
		if !failed(direct, id) {
			t.Errorf("%s did not fail on the test image; the round trip proves nothing for it", id)
		}
	}
}

func failed(r *report.Report, id string) bool {
	for _, res := range r.Results {
		if res.Check.ID == id {
			return res.Status == "fail"
		}
	}
	return false
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return "line " + strconv.Itoa(i+1) + ":\n- " + al[i] + "\n+ " + bl[i]
		}
	}
	return "lengths differ"
}

// Many Judge calls on one engine at once give the same report as one call,
// under the race detector.
func TestConcurrentJudge(t *testing.T) {
	e := newEngine(t, engine.Deps{Vulns: openssl(t)})
	ctx := context.Background()
	f, err := e.Observe(ctx, debianImage(t, "1.0"), engine.ObserveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.Judge(ctx, f, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	want := stable(t, first)
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.Judge(ctx, f, nil, now)
			if err != nil {
				errs <- err.Error()
				return
			}
			if got := stable(t, r); got != want {
				errs <- firstDiff(want, got)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Fatal(msg)
	}
}

// The second observation of an image comes from the cache; a corrupt,
// truncated or foreign entry is detected, removed and rebuilt.
func TestCacheHitAndCorruption(t *testing.T) {
	dir := t.TempDir()
	e := newEngine(t, engine.Deps{Cache: &facts.Cache{Dir: dir}})
	ctx := context.Background()
	in := debianImage(t, "1.0")
	f1, err := e.Observe(ctx, in, engine.ObserveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f1.Cached {
		t.Fatal("first observation came from an empty cache")
	}
	f2, err := e.Observe(ctx, in, engine.ObserveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !f2.Cached {
		t.Fatal("second observation did not come from the cache")
	}
	r1, _ := e.Judge(ctx, f1, nil, now)
	r2, _ := e.Judge(ctx, f2, nil, now)
	if a, b := stable(t, r1), stable(t, r2); a != b {
		t.Fatalf("cached facts judge differently:\n%s", firstDiff(a, b))
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "*", "*.facts"))
	if len(entries) != 1 {
		t.Fatalf("want one cache entry, got %v", entries)
	}
	good, _ := os.ReadFile(entries[0])
	for name, bad := range map[string][]byte{
		"truncated":   good[:len(good)/2],
		"bit flipped": flip(good, len(good)-10),
		"garbage":     []byte("not a cache entry"),
		"empty":       {},
		"old version": flip(good, len("SHIPSHAPE-FACTS\x00")+3),
	} {
		if err := os.WriteFile(entries[0], bad, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := e.Observe(ctx, in, engine.ObserveOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f.Cached {
			t.Fatalf("%s: a bad entry was trusted", name)
		}
		r, _ := e.Judge(ctx, f, nil, now)
		if stable(t, r) != stable(t, r1) {
			t.Fatalf("%s: rebuilt facts judge differently", name)
		}
		if rebuilt, _ := os.ReadFile(entries[0]); !bytes.Equal(rebuilt, good) {
			t.Fatalf("%s: the entry was not rebuilt", name)
		}
	}
	// --no-cache reads the layers.
	f3, err := e.Observe(ctx, in, engine.ObserveOptions{NoCache: true})
	if err != nil || f3.Cached {
		t.Fatalf("NoCache: cached=%v err=%v", f3 != nil && f3.Cached, err)
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0xff
	return c
}

// The cache evicts the least recently used entries over its bound.
func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var sizes []int64
	ins := []string{debianImage(t, "1"), layoutWith(t, "b"), layoutWith(t, "c")}
	e := newEngine(t, engine.Deps{Cache: &facts.Cache{Dir: dir}})
	for _, in := range ins {
		if _, err := e.Observe(ctx, in, engine.ObserveOptions{}); err != nil {
			t.Fatal(err)
		}
		st, _ := (&facts.Cache{Dir: dir}).Status()
		sizes = append(sizes, st.Bytes)
	}
	// Use the first again, so the second is the least recently used.
	time.Sleep(10 * time.Millisecond)
	if f, _ := e.Observe(ctx, ins[0], engine.ObserveOptions{}); !f.Cached {
		t.Fatal("not cached")
	}
	c := &facts.Cache{Dir: dir}
	if _, err := c.Prune(sizes[2] - 1); err != nil {
		t.Fatal(err)
	}
	e2 := newEngine(t, engine.Deps{Cache: c})
	want := map[int]bool{0: true, 1: false, 2: true}
	for i, in := range ins {
		f, err := e2.Observe(ctx, in, engine.ObserveOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if f.Cached != want[i] {
			t.Errorf("image %d: cached=%v, want %v", i, f.Cached, want[i])
		}
	}
}

func layoutWith(t *testing.T, content string) string {
	img := imagetest.Image(t, imagetest.Spec{Layers: [][]imagetest.File{imagetest.Debian(), {imagetest.Text("/x", content)}}, Created: now})
	return imagetest.WriteLayout(t, t.TempDir(), img, "registry.example/x:1")
}

// A facts document of a newer version, or a malformed one, is refused with
// a clear error.
func TestBadFacts(t *testing.T) {
	for name, doc := range map[string]string{
		"newer":     `{"schema":"` + facts.Schema + `","version":99}`,
		"not json":  `{"schema":`,
		"no fs":     `{"schema":"` + facts.Schema + `","version":1,"inventory":{}}`,
		"bad path":  `{"schema":"` + facts.Schema + `","version":1,"inventory":{},"filesystem":{"root":{},"nodes":[{"p":"../etc/x","t":0}],"layers":[]}}`,
		"no parent": `{"schema":"` + facts.Schema + `","version":1,"inventory":{},"filesystem":{"root":{},"nodes":[{"p":"/a/b","t":0}],"layers":[]}}`,
		"other":     `{"schema":"https://example.com/x","version":1}`,
	} {
		_, err := facts.Read(strings.NewReader(doc))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if name == "newer" && !strings.Contains(err.Error(), "newer shipshape") {
			t.Errorf("newer: %v", err)
		}
	}
}

// The report lists every SEC-020 match in structured form (issue 15, item
// 10): id, aliases, package, installed and fixed versions, CVSS vector and
// score, source, and the fingerprint of its finding, so that a consumer
// never parses evidence strings; a waived one says so.
func TestReportVulnerabilities(t *testing.T) {
	e := newEngine(t, engine.Deps{Vulns: openssl(t)})
	ctx := context.Background()
	f, err := e.Observe(ctx, debianImage(t, "1.0"), engine.ObserveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Judge(ctx, f, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	fps := map[string]string{}
	for _, res := range r.Results {
		for _, fd := range res.Findings {
			if fd.CheckID == "SEC-020" && fd.Vulnerability != "" {
				fps[fd.Fingerprint] = fd.Vulnerability
			}
		}
	}
	if len(fps) == 0 || len(r.Vulnerabilities) != len(fps) {
		t.Fatalf("%d SEC-020 findings, %d vulnerabilities[]", len(fps), len(r.Vulnerabilities))
	}
	aliased := false
	for _, v := range r.Vulnerabilities {
		aliased = aliased || len(v.Aliases) > 0
		if fps[v.Fingerprint] != v.ID {
			t.Errorf("%s: fingerprint %s names finding %q", v.ID, v.Fingerprint, fps[v.Fingerprint])
		}
		if !strings.HasPrefix(v.ID, "CVE-") || v.Package != "deb/openssl" || v.Installed == "" || v.Fixed == "" || len(v.Sources) == 0 {
			t.Errorf("incomplete: %+v", v)
		}
		if v.CVSS == nil || v.CVSS.Score == 0 || !strings.HasPrefix(v.CVSS.Vector, "CVSS:3") {
			t.Errorf("%s: no CVSS: %+v", v.ID, v.CVSS)
		}
	}
	if !aliased {
		t.Error("no vulnerability lists its aliases (DSA-5532-1 names CVE-2023-5363)")
	}
	var b bytes.Buffer
	if err := report.WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"vulnerabilities": [`, `"id": "CVE-`, `"aliases": [`, `"installed": "`, `"fixed": "`, `"vector": "CVSS:3`, `"sources": [`, `"fingerprint": "`} {
		if !strings.Contains(b.String(), k) {
			t.Errorf("JSON lacks %s", k)
		}
	}
	// An exception waives the finding; the entry stays, marked waived.
	pol := policy.Default()
	if err := pol.AddExceptions("test", []policy.Exception{{Vulnerability: r.Vulnerabilities[0].ID, Reason: "test"}}); err != nil {
		t.Fatal(err)
	}
	w, err := e.Judge(ctx, f, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Vulnerabilities) != len(r.Vulnerabilities) || !w.Vulnerabilities[0].Waived || (len(w.Vulnerabilities) > 1 && w.Vulnerabilities[1].Waived && w.Vulnerabilities[1].ID != w.Vulnerabilities[0].ID) {
		t.Errorf("waived: %+v", w.Vulnerabilities)
	}
}

// The report's vulnerabilities[] repeats every field of vulndb.Vulnerability
// (plus the finding's fingerprint and waived): a field added there must be
// copied by reportVulns.
func TestReportVulnerabilityHasEveryField(t *testing.T) {
	have := map[string]bool{}
	rt := reflect.TypeOf(report.Vulnerability{})
	for i := range rt.NumField() {
		have[rt.Field(i).Tag.Get("json")] = true
	}
	vt := reflect.TypeOf(vulndb.Vulnerability{})
	for i := range vt.NumField() {
		if tag := vt.Field(i).Tag.Get("json"); !have[tag] {
			t.Errorf("vulndb.Vulnerability.%s (%s) is not in report.Vulnerability", vt.Field(i).Name, tag)
		}
	}
}
