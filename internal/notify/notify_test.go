package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/facts"
	"github.com/shipshape-dev/shipshape/internal/fleet"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/notify"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/store"
	"github.com/shipshape-dev/shipshape/internal/store/storetest"
)

const secret = "0123456789abcdef-test-secret"

// received is one request a receiver got.
type received struct {
	Event, Delivery, Signature string
	Body                       []byte
	At                         time.Time
}

// receiver is a webhook receiver on 127.0.0.1 answering with answer(n), n
// counting its requests from 1.
type receiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []received
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{Event: r.Header.Get(notify.HeaderEvent), Delivery: r.Header.Get(notify.HeaderDelivery),
			Signature: r.Header.Get(notify.HeaderSignature), Body: b, At: time.Now()})
		n := len(rc.got)
		rc.mu.Unlock()
		if answer == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		answer(n, w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

type harness struct {
	t   *testing.T
	st  *store.Store
	f   *fleet.Fleet
	n   *notify.Notifier
	eng *engine.Engine
	now time.Time
}

func newHarness(t *testing.T, dsn string, cfg *notify.Config, pols *fleet.Policies) *harness {
	t.Helper()
	qc := store.QueueConfig{PollInterval: 50 * time.Millisecond}
	jobs := fleet.RegisterJobs(&qc)
	n := notify.Register(&qc, cfg, notify.Options{Backoff: store.Backoff{Base: 10 * time.Millisecond, Max: 50 * time.Millisecond},
		DashboardURL: "https://shipshape.example.com", Log: slog.New(slog.DiscardHandler)})
	st, err := store.Open(context.Background(), dsn, store.WithQueue(qc))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eng, err := engine.New(engine.Deps{SkipVulns: true})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, st: st, n: n, eng: eng, now: time.Now().UTC()}
	h.f, err = fleet.New(st, eng, nil, pols, fleet.WithHook(n), fleet.WithClock(func() time.Time { return h.now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.f.Close)
	jobs.Bind(h.f)
	n.Bind(h.f)
	ctx, cancel := context.WithCancel(context.Background())
	if err := st.Queue().Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		stop, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = st.Queue().Stop(stop)
	})
	return h
}

func spec(user string) imagetest.Spec {
	return imagetest.Spec{Layers: [][]imagetest.File{imagetest.Debian(), {imagetest.Text("/app/README", "app")}},
		Config: v1.Config{Entrypoint: []string{"/usr/bin/dash"}, User: user,
			Labels: map[string]string{"org.opencontainers.image.source": "https://github.com/example/app", "org.opencontainers.image.version": "1.0"}}}
}

func (h *harness) observe(s imagetest.Spec, ref string) *facts.Facts {
	h.t.Helper()
	input := imagetest.WriteLayout(h.t, h.t.TempDir(), imagetest.Image(h.t, s), ref)
	fs, err := h.eng.Observe(context.Background(), input, engine.ObserveOptions{Ref: ref, NoCache: true, SkipSupply: true})
	if err != nil {
		h.t.Fatal(err)
	}
	return fs
}

func (h *harness) record(s imagetest.Spec, ref string) *fleet.Evaluation {
	h.t.Helper()
	ev, err := h.f.Record(context.Background(), h.observe(s, ref), "ci", fleet.ReasonSubmit)
	if err != nil {
		h.t.Fatal(err)
	}
	return ev
}

func (h *harness) deliveries(f notify.DeliveryFilter) []notify.Delivery {
	h.t.Helper()
	ds, err := notify.Deliveries(context.Background(), h.st.Queue(), f)
	if err != nil {
		h.t.Fatal(err)
	}
	return ds
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func parse(t *testing.T, yaml string) *notify.Config {
	t.Helper()
	c, err := notify.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Deliveries to receivers on 127.0.0.1: the approval of a submitted image
// and its revocation, signed so that the receiver verifies them, with the
// documented fields; a Slack-format webhook gets text; a webhook for other
// repositories gets nothing; every attempt is listed with its status code.
func TestDeliverSigned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		team := newReceiver(t, nil)
		slack := newReceiver(t, nil)
		other := newReceiver(t, nil)
		cfg := parse(t, `
webhooks:
  - name: team
    url: `+team.URL+`/hook
    repositories: [registry.example.com/team/*]
    events: [approved, revoked, retired]
    secret: `+secret+`
  - name: chat
    url: `+slack.URL+`
    events: [revoked]
    format: slack
  - name: payments
    url: `+other.URL+`
    repositories: [registry.example.com/payments/**]
    events: [approved, revoked]
    secret: `+secret+`
`)
		h := newHarness(t, dsn, cfg, nil)
		ev := h.record(spec("app"), "registry.example.com/team/app:1.0")
		if ev.State != store.StateApproved {
			t.Fatalf("submission: %+v", ev)
		}
		if _, err := h.f.Decide(context.Background(), ev.Digest, fleet.Revoke, "alice", "leaked key", false); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, "two deliveries to team, one to chat", func() bool { return len(team.requests()) == 2 && len(slack.requests()) == 1 })
		var events []string
		for _, r := range team.requests() {
			if !notify.Verify([]byte(secret), r.Body, r.Signature) {
				t.Errorf("%s: signature %q does not verify", r.Event, r.Signature)
			}
			if notify.Verify([]byte("another-secret-of-16+"), r.Body, r.Signature) {
				t.Error("a signature verifies under another key")
			}
			var p map[string]any
			if err := json.Unmarshal(r.Body, &p); err != nil {
				t.Fatal(err)
			}
			events = append(events, r.Event)
			if p["schema"] != notify.Schema || p["event"] != r.Event || p["delivery"] != r.Delivery || r.Delivery == "" {
				t.Errorf("payload %s", r.Body)
			}
			img, _ := p["image"].(map[string]any)
			if img["digest"] != ev.Digest || img["repository"] != "registry.example.com/team/app" || img["tag"] != "1.0" {
				t.Errorf("image %v", img)
			}
			if p["link"] != "https://shipshape.example.com/images/"+ev.Digest || p["evaluation_id"] != float64(ev.EvaluationID) {
				t.Errorf("link/evaluation %v %v", p["link"], p["evaluation_id"])
			}
			if _, ok := p["failing"].([]any); !ok {
				t.Errorf("failing is not a list: %s", r.Body)
			}
			if r.Event == "revoked" && (p["state"] != "revoked" || p["previous_state"] != "approved" || p["reason"] != "leaked key" || p["actor"] != "alice") {
				t.Errorf("revoked payload %s", r.Body)
			}
		}
		slices.Sort(events) // deliveries run concurrently: receivers order by the payload's time
		if !slices.Equal(events, []string{"approved", "revoked"}) {
			t.Errorf("events %q", events)
		}
		s := slack.requests()[0]
		var text map[string]string
		if err := json.Unmarshal(s.Body, &text); err != nil || len(text) != 1 || !strings.Contains(text["text"], "registry.example.com/team/app:1.0") ||
			!strings.Contains(text["text"], "revoked") || !strings.Contains(text["text"], "leaked key") {
			t.Errorf("slack body %s (%v)", s.Body, err)
		}
		if s.Signature != "" {
			t.Errorf("slack webhook without a secret signed: %q", s.Signature)
		}
		if n := len(other.requests()); n != 0 {
			t.Errorf("the payments webhook got %d requests", n)
		}
		waitFor(t, 10*time.Second, "deliveries listed as delivered", func() bool {
			ds := h.deliveries(notify.DeliveryFilter{Status: "delivered"})
			return len(ds) == 3
		})
		for _, d := range h.deliveries(notify.DeliveryFilter{Webhook: "team"}) {
			if len(d.Attempts) != 1 || !d.Attempts[0].OK || d.Attempts[0].StatusCode != 204 || d.Digest != ev.Digest {
				t.Errorf("delivery %+v", d)
			}
		}
	})
}

// A receiver answering 500 gets the same delivery again, with backoff, until
// it answers 2xx; every attempt is listed with its status code.
func TestRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		flaky := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n <= 2 {
				http.Error(w, "database down", http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusOK)
		})
		cfg := parse(t, "webhooks:\n  - {name: flaky, url: "+flaky.URL+", events: [approved], secret: "+secret+"}\n")
		h := newHarness(t, dsn, cfg, nil)
		h.record(spec("app"), "registry.example.com/team/app:1.0")
		waitFor(t, 60*time.Second, "three attempts", func() bool { return len(flaky.requests()) == 3 })
		reqs := flaky.requests()
		for _, r := range reqs[1:] {
			if r.Delivery != reqs[0].Delivery || string(r.Body) != string(reqs[0].Body) || !notify.Verify([]byte(secret), r.Body, r.Signature) {
				t.Errorf("a retry differs: %+v vs %+v", r, reqs[0])
			}
		}
		var d notify.Delivery
		waitFor(t, 10*time.Second, "delivered", func() bool {
			ds := h.deliveries(notify.DeliveryFilter{})
			if len(ds) == 1 {
				d = ds[0]
			}
			return d.Status == "delivered"
		})
		var codes []int
		for _, a := range d.Attempts {
			codes = append(codes, a.StatusCode)
		}
		if !slices.Equal(codes, []int{500, 500, 200}) || !strings.Contains(d.Attempts[0].Error, "database down") || d.Attempts[0].Attempt != 1 || d.Attempts[2].Attempt != 3 {
			t.Errorf("attempts %+v", d.Attempts)
		}
	})
}

// A receiver that never answers holds neither the other webhook's
// deliveries nor submissions; its attempts end at the timeout, listed.
func TestHangingReceiver(t *testing.T) {
	release := make(chan struct{})
	hang := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })
	fine := newReceiver(t, nil)
	cfg := parse(t, `
timeout: 15s
maxAttempts: 2
webhooks:
  - {name: hang, url: `+hang.URL+`, events: [approved], secret: `+secret+`}
  - {name: fine, url: `+fine.URL+`, events: [approved], secret: `+secret+`}
`)
	h := newHarness(t, storetest.SQLite(t), cfg, nil)
	for i, tag := range []string{"1", "2", "3", "4", "5", "6"} {
		s := spec("app")
		s.Layers[1] = append(s.Layers[1], imagetest.Text("/app/version", tag))
		start := time.Now()
		h.record(s, "registry.example.com/team/app:"+tag)
		// Blocked by the hanging receiver, a submission would take its 15 s;
		// 10 s leaves room for a loaded machine.
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("submission %d took %s while a receiver hangs", i, took)
		}
	}
	waitFor(t, 14*time.Second, "six deliveries to the receiver that answers", func() bool { return len(fine.requests()) == 6 })
	waitFor(t, 180*time.Second, "the hanging receiver's deliveries given up", func() bool {
		ds := h.deliveries(notify.DeliveryFilter{Webhook: "hang", Status: "failed"})
		return len(ds) == 6
	})
	for _, d := range h.deliveries(notify.DeliveryFilter{Webhook: "hang"}) {
		if len(d.Attempts) != 2 || d.Attempts[0].OK || !strings.Contains(d.Attempts[0].Error, "no answer within 15s") {
			t.Errorf("delivery %+v", d)
		}
	}
}

// A new veto and the move to expiring fire their events; an exception about
// to expire is announced once, to the webhooks of the repositories it applies
// to, with who granted it.
func TestVetoExpiringAndExceptions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		rc := newReceiver(t, nil)
		cfg := parse(t, "exceptionDays: 10\nwebhooks:\n  - {name: all, url: "+rc.URL+", repositories: ['registry.example.com/vendor/**'], events: [veto, expiring, exception-expiring], secret: "+secret+"}\n")
		lax, err := policy.Parse("lax.yaml", []byte("checks:\n  SEC-001: {disabled: true}\n"))
		if err != nil {
			t.Fatal(err)
		}
		pols := &fleet.Policies{Default: lax}
		h := newHarness(t, dsn, cfg, pols)
		ev := h.record(spec(""), "registry.example.com/vendor/tool:3.1")
		if ev.State != store.StateApproved {
			t.Fatalf("with SEC-001 disabled: %+v", ev)
		}
		pols.Default = policy.Default()
		ev2, err := h.f.Reevaluate(context.Background(), ev.Digest, "system", fleet.ReasonManual)
		if err != nil || ev2.State != store.StateExpiring {
			t.Fatalf("with SEC-001: %+v %v", ev2, err)
		}
		if _, err := h.f.CreateException(context.Background(), fleet.Exception{Check: "SEC-001", RepositoryPattern: "registry.example.com/vendor/*",
			Owner: "platform", Reason: "vendor image", ExpiresAt: h.now.Add(5 * 24 * time.Hour)}, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := h.f.CreateException(context.Background(), fleet.Exception{Check: "SEC-002", RepositoryPattern: "*",
			Owner: "platform", Reason: "later", ExpiresAt: h.now.Add(50 * 24 * time.Hour)}, "bob"); err != nil {
			t.Fatal(err)
		}
		for want, round := range []int{1, 0} {
			n, err := h.n.ExpiringExceptions(context.Background())
			if err != nil || n != 1-want {
				t.Fatalf("round %d: announced %d, %v", round, n, err)
			}
		}
		// Generous: under a loaded CI machine the queue's polling and the
		// fleet's jobs share two cores with the rest of the suite.
		waitFor(t, 90*time.Second, "veto, expiring and exception-expiring", func() bool { return len(rc.requests()) >= 3 })
		time.Sleep(500 * time.Millisecond)
		if rs := rc.requests(); len(rs) != 3 {
			var evs []string
			for _, r := range rs {
				evs = append(evs, r.Event)
			}
			t.Fatalf("deliveries %q, want veto, expiring and exception-expiring once each", evs)
		}
		got := map[string]map[string]any{}
		for _, r := range rc.requests() {
			var p map[string]any
			_ = json.Unmarshal(r.Body, &p)
			got[r.Event] = p
		}
		if v := got["veto"]; v == nil || !strings.Contains(jsonOf(v["new_vetoes"]), "SEC-001") || v["state"] != "expiring" {
			t.Errorf("veto %v", v)
		}
		if e := got["expiring"]; e == nil || e["previous_state"] != "approved" || !strings.Contains(jsonOf(e["failing"]), "SEC-001") {
			t.Errorf("expiring %v", e)
		}
		x, _ := got["exception-expiring"]["exception"].(map[string]any)
		if x["id"] != float64(1) || x["created_by"] != "alice" || x["owner"] != "platform" || !strings.Contains(jsonOf(x["repositories"]), "registry.example.com/vendor/tool") {
			t.Errorf("exception-expiring %v", got["exception-expiring"])
		}
		evs, err := h.st.Events(context.Background(), store.EventFilter{Action: "exception.expiring"})
		if err != nil || len(evs) != 1 || evs[0].Subject != "exception/1" {
			t.Errorf("audit %+v %v", evs, err)
		}
	})
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

// Configuration errors name the field.
func TestConfigErrors(t *testing.T) {
	t.Setenv("SHIPSHAPE_TEST_EMPTY", "")
	ok := "name: a\n    url: http://127.0.0.1:1/x\n    events: [approved]\n    secret: " + secret
	for _, c := range []struct{ yaml, field string }{
		{"webhooks: []", "webhooks: no webhook"},
		{"webhook: []", "field webhook not found"},
		{"webhooks:\n  - url: http://127.0.0.1:1/\n    events: [approved]", "webhooks[0].name: required"},
		{"webhooks:\n  - " + ok + "\n  - " + ok, "webhooks[1].name: \"a\" is used twice"},
		{"webhooks:\n  - name: a\n    events: [approved]", "webhooks[0] (a).url: required"},
		{"webhooks:\n  - name: a\n    url: file:///etc/passwd\n    events: [approved]", "webhooks[0] (a).url: want an http or https URL"},
		{"webhooks:\n  - name: a\n    url: http://127.0.0.1:1/\n    events: [approved, deployed]\n    secret: " + secret, "webhooks[0] (a).events[1]: unknown event \"deployed\""},
		{"webhooks:\n  - name: a\n    url: http://127.0.0.1:1/\n    secret: " + secret, "webhooks[0] (a).events: required"},
		{"webhooks:\n  - name: a\n    url: http://127.0.0.1:1/\n    events: [approved]", "webhooks[0] (a).secret: required"},
		{"webhooks:\n  - name: a\n    url: http://127.0.0.1:1/\n    events: [approved]\n    secret: short", "webhooks[0] (a).secret: at least 16"},
		{"webhooks:\n  - name: a\n    url: http://127.0.0.1:1/\n    events: [approved]\n    secretEnv: SHIPSHAPE_TEST_EMPTY", "webhooks[0] (a).secretEnv: environment variable SHIPSHAPE_TEST_EMPTY"},
		{"webhooks:\n  - " + ok + "\n    format: xml", "webhooks[0] (a).format: want json or slack"},
		{"webhooks:\n  - " + ok + "\n    repositories: ['[']", "webhooks[0] (a).repositories[0]: bad pattern"},
		{"timeout: 10m\nwebhooks:\n  - " + ok, "timeout: want at most 5m"},
		{"exceptionDays: -1\nwebhooks:\n  - " + ok, "exceptionDays:"},
	} {
		_, err := notify.Parse([]byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%q: %v, want %q", c.yaml, err, c.field)
		}
	}
	t.Setenv("SHIPSHAPE_TEST_SECRET", secret)
	c, err := notify.Parse([]byte(`{"webhooks": [{"name": "j", "url": "https://hooks.example.com/x", "events": ["retired"], "secretEnv": "SHIPSHAPE_TEST_SECRET"}]}`))
	if err != nil || c.Webhooks[0].Format != "json" || c.ExceptionDays != 7 || c.MaxAttempts != 10 || !slices.Equal(c.Webhooks[0].Repositories, []string{"*"}) {
		t.Errorf("JSON config: %+v %v", c, err)
	}
}
