// Package serve benchmarks the real `shipshape serve` binary: the allow
// decision's latency under load, re-judging stored images after an advisory
// update, and the memory of a server holding many images. It is a test
// package so that it can build images (internal/imagetest) and fresh
// databases (internal/store/storetest); it runs only when asked:
//
//	SHIPSHAPE_BENCH_SERVE=1 go test ./bench/serve -run . -v -timeout 60m
//
// with PostgreSQL too when SHIPSHAPE_TEST_POSTGRES is set
// (eval "$(tools/ci/postgres.sh)"). Numbers go to the test log; see
// docs/performance.md, section "shipshape serve".
package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/fleet"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/server"
	"github.com/shipshape-dev/shipshape/internal/store"
	"github.com/shipshape-dev/shipshape/internal/store/storetest"
	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

var bin string

func TestMain(m *testing.M) {
	if os.Getenv("SHIPSHAPE_BENCH_SERVE") == "" {
		fmt.Println("skipped: set SHIPSHAPE_BENCH_SERVE=1 to run the serve benchmarks")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "shipshape-bench-serve")
	if err != nil {
		log.Fatal(err)
	}
	bin = filepath.Join(dir, "shipshape")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/shipshape").CombinedOutput()
	if err != nil {
		log.Fatalf("building shipshape: %v\n%s", err, out)
	}
	os.Setenv("SHIPSHAPE_OFFLINE", "1")
	os.Setenv("SHIPSHAPE_CACHE_DIR", filepath.Join(dir, "facts-cache"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// appSpec is a Debian 12 image running as a user, with libssl3
// 3.0.11-1~deb12u1 (CVE-2023-5363, fixed in deb12u2, CVSS 7.5).
func appSpec() imagetest.Spec {
	base := imagetest.Debian()
	for i, f := range base {
		if f.Path == "/var/lib/dpkg/status" {
			base[i].Content += "Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.11-1~deb12u1\nArchitecture: amd64\n\n"
		}
	}
	return imagetest.Spec{Layers: [][]imagetest.File{base, {imagetest.Text("/app/README", "app")}},
		Config: v1.Config{Entrypoint: []string{"/usr/bin/dash"}, User: "app", Labels: map[string]string{
			"org.opencontainers.image.source": "https://github.com/example/app", "org.opencontainers.image.version": "1.0"}}}
}

// osvDB imports real records of the shared Debian OSV export into dir.
func osvDB(t testing.TB, dir string, ids ...string) {
	t.Helper()
	if _, err := vulndb.Import(context.Background(), dir, imagetest.OSVRecords(t, "Debian", ids...), vulndb.ImportOptions{Source: "Debian"}); err != nil {
		t.Fatal(err)
	}
}

// digestOf is the synthetic digest of seeded image i.
func digestOf(i int) string { return fmt.Sprintf("sha256:%064x", i+1) }

const repo = "registry.example.com/bench/app"

// seed stores n images through fleet.Record: one observed image's facts
// under n synthetic digests (tag v<i>), each judged with vulnDir's data
// ("" skips vulnerabilities), evaluated and approved as a submission would
// be. It returns a viewer token.
func seed(t testing.TB, dsn string, n int, vulnDir string) string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d := engine.Deps{SkipVulns: vulnDir == ""}
	if vulnDir != "" {
		db, err := vulndb.Open(vulnDir)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		d.Vulns = db
	}
	eng, err := engine.New(d)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fleet.New(st, eng, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	input := imagetest.WriteLayout(t, t.TempDir(), imagetest.Image(t, appSpec()), repo+":v0")
	fs, err := eng.Observe(ctx, input, engine.ObserveOptions{Ref: repo + ":v0", NoCache: true, SkipSupply: true})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range n {
		c := *fs
		c.Image.Digest, c.Image.Tag, c.Image.Reference = digestOf(i), fmt.Sprintf("v%d", i), fmt.Sprintf("%s:v%d", repo, i)
		ev, err := f.Record(ctx, &c, "bench", fleet.ReasonSubmit)
		if err != nil {
			t.Fatal(err)
		}
		if ev.State != store.StateApproved {
			t.Fatalf("seeded image %d: %+v", i, ev)
		}
	}
	t.Logf("seeded %d images in %s (%.1f ms each)", n, time.Since(start).Round(time.Millisecond), float64(time.Since(start).Milliseconds())/float64(max(n, 1)))
	if err := st.Analyze(ctx); err != nil {
		t.Fatal(err)
	}
	tok, _, err := server.CreateToken(ctx, st, "bench", store.RoleViewer, "bench")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type proc struct {
	cmd  *exec.Cmd
	url  string
	log  string
	done chan struct{}
}

// serve starts the binary on dsn and waits until it is ready.
func serve(t testing.TB, env []string, args ...string) *proc {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	logf, err := os.CreateTemp(t.TempDir(), "serve-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"serve", "--listen", addr, "--offline"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, url: "http://" + addr, log: logf.Name(), done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	for deadline := time.Now().Add(2 * time.Minute); ; {
		if resp, err := http.Get(p.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.done:
			b, _ := os.ReadFile(p.log)
			t.Fatalf("serve exited:\n%s", b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("serve not ready in 2 min")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// memory returns the process's VmHWM and VmRSS in MiB.
func (p *proc) memory(t testing.TB) (hwm, rss float64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmHWM" && k != "VmRSS") {
			continue
		}
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if k == "VmHWM" {
			hwm = kb / 1024
		} else {
			rss = kb / 1024
		}
	}
	return hwm, rss
}

// attackAllowed sends GET /api/v1/allowed for random seeded images (by
// digest, and one in four by tag) at rate per second for dur.
func attackAllowed(t testing.TB, p *proc, token string, n, rate int, dur time.Duration) *vegeta.Metrics {
	return attackAllowedUntil(t, p, token, n, rate, dur, nil)
}

// attackAllowedUntil is attackAllowed that also ends when stop is closed.
func attackAllowedUntil(t testing.TB, p *proc, token string, n, rate int, dur time.Duration, stop chan struct{}) *vegeta.Metrics {
	t.Helper()
	hdr := http.Header{"Authorization": {"Bearer " + token}}
	r := rand.New(rand.NewPCG(1, 2))
	targeter := func(tg *vegeta.Target) error {
		i := r.IntN(n)
		ref := repo + "@" + digestOf(i)
		if i%4 == 0 {
			ref = fmt.Sprintf("%s:v%d", repo, i)
		}
		tg.Method, tg.URL, tg.Header = "GET", p.url+"/api/v1/allowed?image="+ref, hdr
		return nil
	}
	atk := vegeta.NewAttacker(vegeta.KeepAlive(true), vegeta.Connections(64), vegeta.Workers(16), vegeta.Timeout(10*time.Second))
	if stop != nil {
		go func() { <-stop; atk.Stop() }()
	}
	var m vegeta.Metrics
	bad := 0
	t0 := time.Now()
	slow := map[int]int{}
	for res := range atk.Attack(targeter, vegeta.Rate{Freq: rate, Per: time.Second}, dur, "allowed") {
		m.Add(res)
		if os.Getenv("BENCH_SLOW") != "" && res.Latency > 20*time.Millisecond {
			slow[int(res.Timestamp.Sub(t0)/(100*time.Millisecond))]++
		}
		if res.Code == 200 && !bytes.Contains(res.Body, []byte(`"allowed": true`)) {
			bad++
		}
	}
	m.Close()
	if len(slow) > 0 {
		t.Logf("requests over 20 ms by 100-ms slot of their start: %v", slow)
	}
	if bad > 0 {
		t.Errorf("%d answers did not allow a seeded, approved image", bad)
	}
	return &m
}

// loadavg is the machine's load average (1, 5, 15 min): other work on
// the machine shows in the latencies.
func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// handlerShare scrapes the server's own histogram of GET /api/v1/allowed
// (time in the handler, after authentication) and returns the count of
// answers and how many took at most 1 ms and 5 ms.
func handlerShare(t testing.TB, p *proc) (n, le1ms, le5ms float64) {
	t.Helper()
	resp, err := http.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		var v float64
		switch {
		case strings.HasPrefix(line, `shipshape_allowed_duration_seconds_bucket{le="0.001"} `):
			v, _ = strconv.ParseFloat(strings.Fields(line)[1], 64)
			le1ms = v
		case strings.HasPrefix(line, `shipshape_allowed_duration_seconds_bucket{le="0.005"} `):
			v, _ = strconv.ParseFloat(strings.Fields(line)[1], 64)
			le5ms = v
		case strings.HasPrefix(line, `shipshape_allowed_duration_seconds_count `):
			v, _ = strconv.ParseFloat(strings.Fields(line)[1], 64)
			n = v
		}
	}
	return n, le1ms, le5ms
}

func logMetrics(t testing.TB, what string, m *vegeta.Metrics) {
	t.Helper()
	t.Logf("load average %s", loadavg())
	t.Logf("%s: %d requests at %.0f/s, success %.2f%%, latency p50 %s p90 %s p99 %s max %s, codes %v",
		what, m.Requests, m.Rate, m.Success*100, m.Latencies.P50.Round(time.Microsecond), m.Latencies.P90.Round(time.Microsecond),
		m.Latencies.P99.Round(time.Microsecond), m.Latencies.Max.Round(time.Microsecond), m.StatusCodes)
}

// backends are the storetest backends, only BENCH_BACKEND when it is set.
func backends() []storetest.Backend {
	var out []storetest.Backend
	for _, b := range storetest.Backends() {
		if v := os.Getenv("BENCH_BACKEND"); v == "" || v == b.Name {
			out = append(out, b)
		}
	}
	return out
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// GET /api/v1/allowed at 1,000 requests/s for 30 s on loopback, with 1,000
// stored images, on both backends (target: p99 under 5 ms).
func TestAllowedLatency(t *testing.T) {
	n := envInt("BENCH_IMAGES", 1000)
	dur := time.Duration(envInt("BENCH_SECONDS", 30)) * time.Second
	for _, b := range backends() {
		t.Run(b.Name, func(t *testing.T) {
			dsn := b.DSN(t)
			tok := seed(t, dsn, n, "")
			p := serve(t, nil, "--db", dsn, "--skip-vulns")
			attackAllowed(t, p, tok, n, 200, 3*time.Second) // warm up
			n0, a0, b0 := handlerShare(t, p)
			m := attackAllowed(t, p, tok, n, 1000, dur)
			n1, a1, b1 := handlerShare(t, p)
			t.Logf("%s: in the handler: %.2f%% of answers within 1 ms, %.3f%% within 5 ms", b.Name, 100*(a1-a0)/(n1-n0), 100*(b1-b0)/(n1-n0))
			logMetrics(t, fmt.Sprintf("%s: GET /api/v1/allowed, %d images", b.Name, n), m)
			if os.Getenv("BENCH_LOG") != "" {
				out, _ := os.ReadFile(p.log)
				t.Logf("serve log:\n%s", out)
			}
			hwm, rss := p.memory(t)
			t.Logf("%s: serve VmHWM %.0f MiB, VmRSS %.0f MiB", b.Name, hwm, rss)
			if m.Success < 0.999 {
				t.Errorf("success %.4f", m.Success)
			}
			if m.Latencies.P99 > 5*time.Millisecond {
				t.Logf("TARGET MISSED: p99 %s > 5 ms", m.Latencies.P99)
			}
		})
	}
}

type listResp struct {
	Total int `json:"total"`
}

func count(t testing.TB, p *proc, token, state string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", p.url+"/api/v1/images?limit=1&state="+state, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l listResp
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		t.Fatal(err)
	}
	return l.Total
}

// Re-judging 1,000 stored images after an advisory update on SQLite
// (target: under a minute), with /api/v1/allowed under load meanwhile.
func TestRejudgeAfterAdvisoryUpdate(t *testing.T) {
	n := envInt("BENCH_IMAGES", 1000)
	rate := envInt("BENCH_RATE", 1000)
	bs := backends()
	if os.Getenv("BENCH_BACKEND") == "" {
		bs = bs[:1] // the target is SQLite's
	}
	for _, b := range bs {
		t.Run(b.Name, func(t *testing.T) {
			dsn := b.DSN(t)
			vdir := t.TempDir()
			osvDB(t, vdir, "DSA-5000-1") // names no package of the image
			tok := seed(t, dsn, n, vdir)
			p := serve(t, []string{"SHIPSHAPE_VULNDB_DIR=" + vdir}, "--db", dsn, "--data-check", "500ms")
			if got := count(t, p, tok, "approved"); got != n {
				t.Fatalf("%d approved images before the update, want %d", got, n)
			}
			stop := make(chan struct{})
			atk := make(chan *vegeta.Metrics, 1)
			go func() { atk <- attackAllowedUntil(t, p, tok, n, rate, 30*time.Minute, stop) }()
			time.Sleep(2 * time.Second)
			start := time.Now()
			osvDB(t, vdir, "DSA-5000-1", "CVE-2023-5363", "DSA-5532-1")
			imported := time.Now()
			for {
				if got := count(t, p, tok, "expiring"); got == n {
					break
				}
				if time.Since(start) > 10*time.Minute {
					b, _ := os.ReadFile(p.log)
					t.Fatalf("not re-judged in 10 min: %d expiring\n%s", count(t, p, tok, "expiring"), b)
				}
				time.Sleep(200 * time.Millisecond)
			}
			took := time.Since(imported)
			close(stop)
			m := <-atk
			t.Logf("%s: %d images re-judged (approved -> expiring, CVE-2023-5363) in %s after the import (import itself %s, data check every 500 ms)",
				b.Name, n, took.Round(100*time.Millisecond), imported.Sub(start).Round(time.Millisecond))
			logMetrics(t, fmt.Sprintf("%s: during it (and 2 s before), GET /api/v1/allowed", b.Name), m)
			hwm, rss := p.memory(t)
			t.Logf("%s: serve VmHWM %.0f MiB, VmRSS %.0f MiB", b.Name, hwm, rss)
			if took > time.Minute {
				t.Logf("TARGET MISSED: %s > 1 min", took)
			}
		})
	}
}

// The memory of serve holding 10,000 stored images, after API traffic
// (target: under 300 MiB).
func TestMemory10k(t *testing.T) {
	n := envInt("BENCH_IMAGES_RSS", 10000)
	for _, b := range backends() {
		t.Run(b.Name, func(t *testing.T) {
			dsn := b.DSN(t)
			tok := seed(t, dsn, n, "")
			p := serve(t, nil, "--db", dsn, "--skip-vulns")
			hwm0, rss0 := p.memory(t)
			m := attackAllowed(t, p, tok, n, 1000, 10*time.Second)
			logMetrics(t, fmt.Sprintf("%s: GET /api/v1/allowed, %d images", b.Name, n), m)
			// Lists and details, as a dashboard would.
			client := &http.Client{}
			for i := 0; i < 200; i++ {
				path := fmt.Sprintf("/api/v1/images?limit=100&offset=%d", (i*100)%n)
				if i%2 == 1 {
					path = "/api/v1/images/" + digestOf((i*37)%n)
				}
				req, _ := http.NewRequest("GET", p.url+path, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("%s: %d", path, resp.StatusCode)
				}
			}
			hwm, rss := p.memory(t)
			t.Logf("%s: serve with %d images: VmRSS %.0f MiB after start; after traffic VmHWM %.0f MiB, VmRSS %.0f MiB (start HWM %.0f)", b.Name, n, rss0, hwm, rss, hwm0)
			if hwm > 300 {
				t.Logf("TARGET MISSED: VmHWM %.0f MiB > 300 MiB", hwm)
			}
		})
	}
}
