// Command admissionload is the Go side of bench/admission.sh: it seeds a
// shipshape database with approvals, makes the webhook's TLS files, and
// sends AdmissionReview requests at a fixed rate (vegeta) to a running
// `shipshape serve --admission`, checking every answer and sampling the
// server's memory.
//
//	admissionload tls -dir DIR                  # DIR/ca.pem, tls.crt, tls.key for 127.0.0.1
//	admissionload seed -db sqlite:PATH          # 1,000 approved images, 100 rejected
//	admissionload attack -url https://127.0.0.1:PORT -ca DIR/ca.pem -pid PID -rate 500 -duration 60s
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/shipshape-dev/shipshape/internal/admission"
	"github.com/shipshape-dev/shipshape/internal/admission/admissiontest"
	"github.com/shipshape-dev/shipshape/internal/deploy"
	"github.com/shipshape-dev/shipshape/internal/store"
)

const repoPrefix = "registry.example.com/bench/svc-"

func ref(i int) string    { return fmt.Sprintf("%s%04d", repoPrefix, i) }
func digest(i int) string { return fmt.Sprintf("sha256:%064x", i+1) }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: admissionload tls|seed|attack [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "tls":
		err = makeTLS(os.Args[2:])
	case "seed":
		err = seed(os.Args[2:])
	case "attack":
		err = attack(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "admissionload:", err)
		os.Exit(1)
	}
}

func makeTLS(args []string) error {
	fs := flag.NewFlagSet("tls", flag.ExitOnError)
	dir := fs.String("dir", ".", "where to write ca.pem, tls.crt and tls.key")
	_ = fs.Parse(args)
	b, err := deploy.NewTLSBundle([]string{"127.0.0.1", "localhost"}, 24*time.Hour, time.Now())
	if err != nil {
		return err
	}
	for f, data := range map[string][]byte{"ca.pem": b.CA, "tls.crt": b.Cert, "tls.key": b.Key} {
		if err := os.WriteFile(filepath.Join(*dir, f), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// seed writes images and their approvals with the store's API, as the
// service's own decisions would: n approved (a tenth of them expiring within
// the webhook's warning window), rejected more that fail SEC-001.
func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	dsn := fs.String("db", "", "database (sqlite:PATH)")
	n := fs.Int("approved", 1000, "approved images")
	rej := fs.Int("rejected", 100, "rejected images")
	_ = fs.Parse(args)
	ctx := context.Background()
	st, err := store.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now()
	err = st.Tx(ctx, func(tx *store.Tx) error {
		for i := range *n + *rej {
			if err := tx.UpsertImage(store.Image{Digest: digest(i), Repository: ref(i), Tag: "1.0", UpdatedAt: now}); err != nil {
				return err
			}
			id, err := tx.AddEvaluation(store.Evaluation{ImageDigest: digest(i), Verdict: "PASS", Grade: "A", Score: 95, EvaluatedAt: now,
				Report: []byte(`{}`)})
			if err != nil {
				return err
			}
			a := store.Approval{ImageDigest: digest(i), State: store.StateApproved, Actor: "policy", Reason: "passes the policy",
				DecidedAt: now, ValidUntil: now.AddDate(0, 3, 0), EvaluationID: id}
			if i%10 == 9 {
				a.ValidUntil = now.AddDate(0, 0, 3)
			}
			if i >= *n {
				a.State, a.Reason = store.StateRejected, "fails: SEC-001 USER is not set"
			}
			if err := tx.SetApproval(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("seeded %s: %d approved images (%d expiring within 7 days), %d rejected\n", *dsn, *n, *n/10, *rej)
	return nil
}

// variant is one pod the load sends, and the answer it must get.
type variant struct {
	tpl      admissiontest.Template
	name     string
	allowed  bool
	warnings bool
}

// variants are the pods of the load, cycled through in order: of every 10
// reviews, 6 are of approved images only, 1 has two whose approval expires
// soon (allowed with warnings), and 3 have 5 unapproved images among the
// 50 (2 rejected, 2 digests never submitted, 1 tag never submitted):
// denied in the enforce namespace, allowed with warnings in the warn one
// (every fourth review goes there).
func variants(approved, rejected, containers int, nsEnforce, nsWarn string) ([]variant, error) {
	var out []variant
	fresh := func(k int) int { // the k-th approved image not expiring soon
		i := k % (approved - approved/10)
		return i/9*10 + i%9
	}
	for r := range 40 {
		kind := []string{"clean", "clean", "clean", "clean", "clean", "clean", "expiring", "dirty", "dirty", "dirty"}[r%10]
		ns := nsEnforce
		if r%4 == 3 {
			ns = nsWarn
		}
		var images []string
		for c := range containers {
			i := fresh(r*containers*7 + c)
			img := ref(i) + ":1.0"
			if c%2 == 1 {
				img = ref(i) + "@" + digest(i)
			}
			switch {
			case kind == "expiring" && c < 2:
				img = ref(10*(r+c)%approved+9) + ":1.0"
			case kind == "dirty" && c < 2:
				img = ref(approved+(r+c)%rejected) + ":1.0"
			case kind == "dirty" && c < 4:
				img = fmt.Sprintf("%sunknown@%s", repoPrefix, digest(1_000_000+r*10+c))
			case kind == "dirty" && c < 5:
				img = fmt.Sprintf("%sunknown:%d", repoPrefix, r)
			}
			images = append(images, img)
		}
		tpl, err := admissiontest.NewTemplate(admissiontest.Pod(fmt.Sprintf("load-%02d", r), ns, images))
		if err != nil {
			return nil, err
		}
		v := variant{tpl: tpl, name: ns + "/" + kind, allowed: true, warnings: kind == "expiring"}
		if kind == "dirty" {
			v.allowed = ns == nsWarn
			v.warnings = ns == nsWarn
		}
		out = append(out, v)
	}
	return out, nil
}

// rssSample is the server's resident memory at one moment.
type rssSample struct {
	At        time.Duration `json:"at"`
	RSSKiB    int64         `json:"rss_kib"`
	HeapBytes float64       `json:"heap_inuse_bytes"`
	Goroutine float64       `json:"goroutines"`
}

func vmRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// scrape reads some gauges and the admission histogram from /metrics.
func scrape(c *http.Client, base string) (map[string]float64, error) {
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if strings.HasPrefix(k, "go_memstats_heap_inuse_bytes") || strings.HasPrefix(k, "go_goroutines") ||
			strings.HasPrefix(k, "shipshape_admission_") || strings.HasPrefix(k, "process_cpu_seconds_total") {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				out[k] = f
			}
		}
	}
	return out, nil
}

type summary struct {
	Rate            int            `json:"rate"`
	Duration        string         `json:"duration"`
	Containers      int            `json:"containers"`
	Protocol        string         `json:"protocol"`
	BodyBytes       int            `json:"body_bytes"`
	Requests        uint64         `json:"requests"`
	Throughput      float64        `json:"throughput"`
	P50, P90, P99   string         `json:"-"`
	Max             string         `json:"-"`
	LatencyMS       map[string]any `json:"latency_ms"`
	OverTimeout     int            `json:"over_timeout"`
	Errors          int            `json:"errors"`
	BadAnswers      int            `json:"bad_answers"`
	WarmupFailures  int            `json:"warmup_failures"`
	DeadlineDenials int            `json:"deadline_denials"`
	Codes           map[string]int `json:"codes"`
	Outcomes        map[string]int `json:"outcomes"`
	ServerP99Bound  string         `json:"server_p99_bucket"`
	ServerUnder10ms float64        `json:"server_share_under_10ms"`
	ServerCPU       float64        `json:"server_cpu_seconds"`
	RSS             []rssSample    `json:"rss"`
	FirstErrors     []string       `json:"first_errors,omitempty"`
}

func attack(args []string) error {
	fs := flag.NewFlagSet("attack", flag.ExitOnError)
	base := fs.String("url", "", "the server, https://127.0.0.1:PORT")
	caFile := fs.String("ca", "", "CA of the server's certificate (PEM)")
	pid := fs.Int("pid", 0, "the server's process id, for its VmRSS")
	rate := fs.Int("rate", 500, "reviews per second")
	dur := fs.Duration("duration", 60*time.Second, "length of the measured attack")
	warm := fs.Duration("warmup", 5*time.Second, "attack at the same rate first, not measured")
	every := fs.Duration("sample", 5*time.Second, "how often the server's memory is sampled")
	containers := fs.Int("containers", 50, "containers per pod")
	approved := fs.Int("approved", 1000, "approved images seeded")
	rejected := fs.Int("rejected", 100, "rejected images seeded")
	timeout := fs.Duration("timeout", 5*time.Second, "the webhook's timeoutSeconds: an answer later than this counts as over the timeout")
	h2 := fs.Bool("http2", true, "speak HTTP/2, as the API server does")
	nsEnforce := fs.String("ns-enforce", "bench-prod", "namespace in enforce mode")
	nsWarn := fs.String("ns-warn", "bench-warn", "namespace in warn mode (serve --admission-rule NS=warn)")
	out := fs.String("out", "", "write the summary as JSON here too")
	_ = fs.Parse(args)

	ca, err := os.ReadFile(*caFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return fmt.Errorf("%s: no certificate", *caFile)
	}
	tlsc := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	vs, err := variants(*approved, *rejected, *containers, *nsEnforce, *nsWarn)
	if err != nil {
		return err
	}
	probe := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsc.Clone(), ForceAttemptHTTP2: *h2}}

	// One review first: the answers are what they should be, and the protocol.
	sum := summary{Rate: *rate, Duration: dur.String(), Containers: *containers, BodyBytes: len(vs[0].tpl.Body("probe")),
		Codes: map[string]int{}, Outcomes: map[string]int{}}
	for i, v := range vs {
		uid := fmt.Sprintf("probe-%d", i)
		resp, err := probe.Post(*base+admission.ValidatePath, "application/json", strings.NewReader(string(v.tpl.Body(uid))))
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sum.Protocol = resp.Proto
		if err := check(v, resp.StatusCode, b, uid); err != nil {
			return fmt.Errorf("probe %s: %w", v.name, err)
		}
	}

	var (
		mu     sync.Mutex
		issued = map[string]int{} // uid -> variant
		seq    uint64
	)
	targeter := func(t *vegeta.Target) error {
		mu.Lock()
		n := seq
		seq++
		uid := fmt.Sprintf("load-%d", n)
		v := int(n % uint64(len(vs)))
		issued[uid] = v
		mu.Unlock()
		t.Method, t.URL, t.Body = http.MethodPost, *base+admission.ValidatePath, vs[v].tpl.Body(uid)
		t.Header = http.Header{"Content-Type": []string{"application/json"}}
		return nil
	}
	// An attacker stops for good at the end of its attack: one each.
	newAttacker := func() *vegeta.Attacker {
		return vegeta.NewAttacker(vegeta.TLSConfig(tlsc), vegeta.HTTP2(*h2), vegeta.KeepAlive(true), vegeta.Timeout(30*time.Second),
			vegeta.MaxBody(1<<20))
	}
	pacer := vegeta.ConstantPacer{Freq: *rate, Per: time.Second}

	// judge checks one result against the review it answers; it returns
	// what is wrong, or "".
	judge := func(r *vegeta.Result) string {
		if r.Error != "" {
			return r.Error
		}
		uid, err := answerUID(r.Body)
		if err != nil {
			return err.Error()
		}
		mu.Lock()
		v, ok := issued[uid]
		delete(issued, uid)
		mu.Unlock()
		if !ok {
			return fmt.Sprintf("answer for uid %q, which was not sent or was answered twice", uid)
		}
		if err := check(vs[v], int(r.Code), r.Body, uid); err != nil {
			return err.Error()
		}
		sum.Outcomes[vs[v].name]++
		return ""
	}
	if *warm > 0 {
		for r := range newAttacker().Attack(targeter, pacer, *warm, "warmup") {
			if msg := judge(r); msg != "" {
				sum.WarmupFailures++
				if len(sum.FirstErrors) < 10 {
					sum.FirstErrors = append(sum.FirstErrors, "warm-up: "+msg)
				}
			}
		}
		clear(sum.Outcomes)
	}
	before, err := scrape(probe, *base)
	if err != nil {
		return err
	}

	// Memory, every few seconds, from the start of the measured attack to
	// a little after its end.
	began := time.Now()
	stopSampling := make(chan struct{})
	sampled := make(chan []rssSample)
	go func() {
		var s []rssSample
		tick := time.NewTicker(*every)
		defer tick.Stop()
		take := func() {
			x := rssSample{At: time.Since(began).Round(time.Second)}
			if *pid > 0 {
				x.RSSKiB, _ = vmRSS(*pid)
			}
			if m, err := scrape(probe, *base); err == nil {
				x.HeapBytes, x.Goroutine = m["go_memstats_heap_inuse_bytes"], m["go_goroutines"]
			}
			s = append(s, x)
		}
		take()
		for {
			select {
			case <-tick.C:
				take()
			case <-stopSampling:
				take()
				sampled <- s
				return
			}
		}
	}()

	var m vegeta.Metrics
	var lat []time.Duration
	for r := range newAttacker().Attack(targeter, pacer, *dur, "admission") {
		m.Add(r)
		lat = append(lat, r.Latency)
		if r.Latency > *timeout {
			sum.OverTimeout++
		}
		sum.Codes[strconv.Itoa(int(r.Code))]++
		if msg := judge(r); msg != "" {
			switch {
			case r.Error != "":
				sum.Errors++
			case strings.Contains(msg, "no decision in time"):
				sum.DeadlineDenials++ // the webhook's own deadline (3 s) passed: denied, not failed open
				sum.BadAnswers++
			default:
				sum.BadAnswers++
			}
			if len(sum.FirstErrors) < 10 {
				sum.FirstErrors = append(sum.FirstErrors, msg)
			}
		}
	}
	m.Close()
	time.Sleep(min(*every, 5*time.Second))
	close(stopSampling)
	sum.RSS = <-sampled
	after, err := scrape(probe, *base)
	if err != nil {
		return err
	}

	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	sum.Requests, sum.Throughput = m.Requests, math.Round(m.Throughput*10)/10
	sum.LatencyMS = map[string]any{"p50": ms(q(.50)), "p90": ms(q(.90)), "p99": ms(q(.99)), "p999": ms(q(.999)), "max": ms(lat[len(lat)-1]), "mean": ms(m.Latencies.Mean)}
	sum.ServerCPU = math.Round((after["process_cpu_seconds_total"]-before["process_cpu_seconds_total"])*10) / 10
	sum.ServerP99Bound, sum.ServerUnder10ms = serverLatency(before, after)

	fmt.Printf("admission load: %d reviews/s for %s, %d containers per pod (%d bytes a review), %s over TLS\n",
		sum.Rate, sum.Duration, sum.Containers, sum.BodyBytes, sum.Protocol)
	fmt.Printf("  requests %d, throughput %.1f/s, errors %d, wrong answers %d, of them %d denials at the webhook's deadline, over the %s timeout %d, status codes %v (warm-up: %d failures)\n",
		sum.Requests, sum.Throughput, sum.Errors, sum.BadAnswers, sum.DeadlineDenials, *timeout, sum.OverTimeout, sum.Codes, sum.WarmupFailures)
	fmt.Printf("  client latency ms: p50 %v  p90 %v  p99 %v  p99.9 %v  max %v  mean %v\n", sum.LatencyMS["p50"], sum.LatencyMS["p90"],
		sum.LatencyMS["p99"], sum.LatencyMS["p999"], sum.LatencyMS["max"], sum.LatencyMS["mean"])
	fmt.Printf("  server (shipshape_admission_duration_seconds): %.2f%% of decisions under 10 ms, p99 within the bucket %s; server CPU %.1f s\n",
		100*sum.ServerUnder10ms, sum.ServerP99Bound, sum.ServerCPU)
	fmt.Printf("  outcomes: %v\n", sum.Outcomes)
	fmt.Printf("  server memory (every %s):\n", *every)
	for _, s := range sum.RSS {
		fmt.Printf("    t=%-4s VmRSS %6.1f MiB  heap in use %6.1f MiB  goroutines %.0f\n", s.At, float64(s.RSSKiB)/1024, s.HeapBytes/(1<<20), s.Goroutine)
	}
	for _, e := range sum.FirstErrors {
		fmt.Printf("  error: %s\n", e)
	}
	if *out != "" {
		b, _ := json.MarshalIndent(sum, "", "  ")
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			return err
		}
	}
	if sum.Errors > 0 || sum.BadAnswers > 0 || sum.OverTimeout > 0 {
		return fmt.Errorf("%d errors, %d wrong answers, %d answers over the timeout", sum.Errors, sum.BadAnswers, sum.OverTimeout)
	}
	return nil
}

func answerUID(body []byte) (string, error) {
	var rv struct {
		Response *struct {
			UID string `json:"uid"`
		} `json:"response"`
	}
	if err := json.Unmarshal(body, &rv); err != nil || rv.Response == nil {
		return "", fmt.Errorf("not an AdmissionReview answer: %.200s", body)
	}
	return rv.Response.UID, nil
}

// check says whether an answer is the one variant v must get.
func check(v variant, code int, body []byte, uid string) error {
	if code != http.StatusOK {
		return fmt.Errorf("%s: status %d: %.300s", uid, code, body)
	}
	ans, err := admissiontest.Answer(body, uid)
	if err != nil {
		return err
	}
	if ans.Allowed != v.allowed || (len(ans.Warnings) > 0) != v.warnings {
		msg := ""
		if ans.Result != nil {
			msg = ans.Result.Message
		}
		return fmt.Errorf("%s (%s): allowed=%v with %d warnings, want allowed=%v warnings=%v: %.300s", uid, v.name, ans.Allowed,
			len(ans.Warnings), v.allowed, v.warnings, msg)
	}
	return nil
}

// serverLatency reads the validate endpoint's histogram between two
// scrapes: the share of decisions under 10 ms, and the bucket the p99 is in.
func serverLatency(before, after map[string]float64) (string, float64) {
	type bucket struct {
		le    float64
		label string
		n     float64
	}
	var bs []bucket
	for k, v := range after {
		if !strings.HasPrefix(k, "shipshape_admission_duration_seconds_bucket{") || !strings.Contains(k, `endpoint="validate"`) {
			continue
		}
		i := strings.Index(k, `le="`)
		if i < 0 {
			continue
		}
		label := k[i+4:]
		label = label[:strings.Index(label, `"`)]
		le, err := strconv.ParseFloat(label, 64)
		if label == "+Inf" {
			le, err = math.Inf(1), nil
		}
		if err != nil {
			continue
		}
		bs = append(bs, bucket{le, label, v - before[k]})
	}
	slices.SortFunc(bs, func(a, b bucket) int { return int(math.Copysign(1, a.le-b.le)) })
	if len(bs) == 0 || bs[len(bs)-1].n == 0 {
		return "none", 0
	}
	total := bs[len(bs)-1].n
	var under10 float64
	p99 := "+Inf"
	found := false
	for _, b := range bs {
		if b.le == 0.01 {
			under10 = b.n / total
		}
		if !found && b.n >= 0.99*total {
			p99, found = "≤ "+b.label+" s", true
		}
	}
	return p99, under10
}
