package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	admissionv1 "k8s.io/api/admission/v1"
)

func podReview(uid, ns string, images ...string) *admissionv1.AdmissionReview {
	var main []string
	for i, img := range images {
		main = append(main, "c"+string(rune('a'+i%26))+"="+img)
	}
	obj, g, r := workloadObject("Pod", "p", ns, podSpec(nil, main), nil, nil)
	return review(uid, admissionv1.Create, obj, nil, g, r, ns, "")
}

func post(t testing.TB, h http.Handler, path, ctype string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHTTPRejectsBadRequests(t *testing.T) {
	var recorded []Decision
	var mu sync.Mutex
	cfg := testConfig()
	cfg.MaxBodyBytes = 4096
	h, err := NewHandler(cfg, NewMemView(testApprovals()...), staticResolver(testTags),
		RecorderFunc(func(_ context.Context, d Decision) { mu.Lock(); recorded = append(recorded, d); mu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	v := h.ValidateHandler()
	good := mustJSON(podReview("u1", "prod", imgWeb))
	for _, tc := range []struct {
		name, ctype string
		body        []byte
		code        int
	}{
		{"not json", "application/json", []byte("hello"), 400},
		{"wrong content type", "text/plain", good, 415},
		{"too big", "application/json", append(bytes.Repeat([]byte(" "), 5000), good...), 413},
		{"trailing data", "application/json", append(append([]byte{}, good...), []byte(`{"x":1}`)...), 400},
		{"wrong kind", "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"Pod","request":{"uid":"x"}}`), 400},
		{"v1beta1", "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x"}}`), 400},
		{"no request", "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), 400},
		{"no uid", "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"kind":"Pod"},"operation":"CREATE","object":{}}}`), 400},
		{"no object", "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","kind":{"kind":"Pod"},"operation":"CREATE"}}`), 400},
		{"bad operation", "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","kind":{"kind":"Pod"},"operation":"PATCH","object":{}}}`), 400},
		{"ok", "application/json; charset=utf-8", good, 200},
	} {
		rec := post(t, v, ValidatePath, tc.ctype, tc.body)
		if rec.Code != tc.code {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, rec.Code, tc.code, rec.Body)
		}
	}
	req := httptest.NewRequest(http.MethodGet, ValidatePath, nil)
	rec := httptest.NewRecorder()
	v.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", rec.Code)
	}
	if rec := post(t, h.MutateHandler(), MutatePath, "application/json", good); rec.Code != http.StatusNotFound {
		t.Errorf("mutation is off by default, got %d", rec.Code)
	}
	mu.Lock()
	defer mu.Unlock()
	invalid := 0
	for _, d := range recorded {
		if d.Outcome == OutcomeInvalid {
			invalid++
		}
	}
	if invalid != 11 { // 10 bad bodies + GET (the disabled mutate endpoint is not a review)
		t.Errorf("%d invalid requests recorded, want 11", invalid)
	}
}

func TestMalformedObjectIsAnAdmissionError(t *testing.T) {
	h := newTestHandler(t, nil, nil)
	body := []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-bad","kind":{"group":"apps","version":"v1","kind":"Deployment"},"namespace":"prod","operation":"CREATE","object":{"spec":{"template":{"spec":{"containers":"nope"}}}}}}`)
	rec := post(t, h.ValidateHandler(), ValidatePath, "application/json", body)
	var rv admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &rv); err != nil || rec.Code != 200 {
		t.Fatalf("%d %v %s", rec.Code, err, rec.Body)
	}
	if rv.Response.Allowed || rv.Response.UID != "u-bad" || !strings.Contains(rv.Response.Result.Message, "cannot read the object") {
		t.Errorf("%+v", rv.Response)
	}
}

// The handler's own deadline decides, whatever the resolver does with its context.
func TestDeadline(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	slow := ResolverFunc(func(ctx context.Context, ref string) (string, error) { <-block; return dg("a"), nil })
	for _, tc := range []struct {
		ns      string
		allowed bool
		outcome Outcome
	}{{"prod", false, OutcomeDenied}, {"staging", true, OutcomeWarned}} {
		cfg := testConfig()
		cfg.Deadline = 50 * time.Millisecond
		h, err := NewHandler(cfg, NewMemView(testApprovals()...), slow, nil)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		resp, d := h.Validate(context.Background(), podReview("u", tc.ns, imgWeb).Request)
		if el := time.Since(start); el > time.Second {
			t.Errorf("took %s", el)
		}
		if resp.Allowed != tc.allowed || d.Outcome != tc.outcome || d.Reason != ReasonDeadline {
			t.Errorf("%s: allowed=%v outcome=%s reason=%s", tc.ns, resp.Allowed, d.Outcome, d.Reason)
		}
	}
}

func TestPanicDoesNotFailOpen(t *testing.T) {
	boom := ViewFunc(func(context.Context, string) (Approval, bool, error) { panic("bug") })
	h := newTestHandler(t, nil, boom)
	rec := post(t, h.ValidateHandler(), ValidatePath, "application/json", mustJSON(podReview("u-p", "prod", imgWeb)))
	var rv admissionv1.AdmissionReview
	_ = json.Unmarshal(rec.Body.Bytes(), &rv)
	if rec.Code != 200 || rv.Response == nil || rv.Response.Allowed || rv.Response.UID != "u-p" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestRevocationTakesEffectImmediately(t *testing.T) {
	view := NewMemView(testApprovals()...)
	h := newTestHandler(t, nil, view)
	req := podReview("u", "prod", imgWeb).Request
	if resp, _ := h.Validate(context.Background(), req); !resp.Allowed {
		t.Fatal("approved image denied")
	}
	a := testApprovals()[0]
	a.State, a.Reason = StateRevoked, "signing key compromised"
	view.Upsert(a)
	resp, d := h.Validate(context.Background(), req)
	if resp.Allowed || d.Reason != string(StateRevoked) || !strings.Contains(resp.Result.Message, "signing key compromised") {
		t.Errorf("after revocation: %+v %+v", resp, d)
	}
}

func TestNamespaceSelector(t *testing.T) {
	nsLabels := map[string]map[string]string{"team-a": {"shipshape.dev/mode": "audit"}}
	h := newTestHandler(t, func(c *Config) {
		c.Rules = []ModeRule{{NamespaceSelector: "shipshape.dev/mode=audit", Mode: ModeAudit}}
		c.NamespaceLabels = func(_ context.Context, ns string) (map[string]string, error) {
			if ns == "broken" {
				return nil, io.ErrUnexpectedEOF
			}
			return nsLabels[ns], nil
		}
		c.DefaultMode = ModeWarn
	}, nil)
	for ns, want := range map[string]Outcome{"team-a": OutcomeAudited, "team-b": OutcomeWarned, "broken": OutcomeDenied} {
		_, d := h.Validate(context.Background(), podReview("u", ns, imgTool).Request)
		if d.Outcome != want {
			t.Errorf("%s: %s, want %s", ns, d.Outcome, want)
		}
	}
	if _, err := NewHandler(Config{Rules: []ModeRule{{NamespaceSelector: "a=b", Mode: ModeAudit}}}, NewMemView(), staticResolver{}, nil); err == nil {
		t.Error("a namespaceSelector without NamespaceLabels must be refused")
	}
	if _, err := NewHandler(Config{Rules: []ModeRule{{Mode: "block"}}, BreakGlassTokenSHA256: "xyz"}, NewMemView(), staticResolver{}, nil); err == nil {
		t.Error("bad mode and hash must be refused")
	}
}

// TestTLSServer serves the handler over TLS (as the API server reaches it) and
// checks the response with a client that trusts only the test CA.
func TestTLSServer(t *testing.T) {
	h := newTestHandler(t, func(c *Config) { c.EnableMutation = true }, nil)
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, tc := range []struct {
		path    string
		images  []string
		allowed bool
		patch   bool
	}{
		{ValidatePath, []string{imgWeb}, true, false},
		{ValidatePath, []string{imgWeb, imgTool}, false, false},
		{MutatePath, []string{imgWeb}, true, true},
	} {
		resp, err := client.Post(srv.URL+tc.path, "application/json", bytes.NewReader(mustJSON(podReview("tls-uid", "prod", tc.images...))))
		if err != nil {
			t.Fatal(err)
		}
		var rv admissionv1.AdmissionReview
		err = json.NewDecoder(resp.Body).Decode(&rv)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || rv.Response == nil {
			t.Fatalf("%s: %d %v", tc.path, resp.StatusCode, err)
		}
		if rv.Response.UID != "tls-uid" || rv.Response.Allowed != tc.allowed || (len(rv.Response.Patch) > 0) != tc.patch {
			t.Errorf("%s %v: %+v", tc.path, tc.images, rv.Response)
		}
		if tc.patch {
			var ops []jsonPatchOp
			_ = json.Unmarshal(rv.Response.Patch, &ops)
			if len(ops) != 1 || ops[0].Path != "/spec/containers/0/image" || ops[0].Value != imgWeb+"@"+dg("a") {
				t.Errorf("patch %s", rv.Response.Patch)
			}
		}
	}
}

// TestConcurrentReviews runs reviews while the view is replaced and revoked
// (run with -race).
func TestConcurrentReviews(t *testing.T) {
	view := NewMemView(testApprovals()...)
	res := NewCachingResolver(func(_ context.Context, tag name.Tag) (string, error) {
		return testTags[tag.String()], nil
	}, CacheOptions{TTL: time.Millisecond})
	var mu sync.Mutex
	counts := map[Outcome]int{}
	h, err := NewHandler(testConfig(), view, res, RecorderFunc(func(_ context.Context, d Decision) {
		mu.Lock()
		counts[d.Outcome]++
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	srv := h.ValidateHandler()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the refresh loop: flip web between approved and revoked
		defer wg.Done()
		revoked := testApprovals()
		revoked[0].State = StateRevoked
		for i := 0; ctx.Err() == nil; i++ {
			if i%2 == 0 {
				view.Replace(revoked)
			} else {
				view.Replace(testApprovals())
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	body := mustJSON(podReview("u", "prod", imgWeb, imgAPI, imgMulti, "registry.example/team/multi@"+platformOfMulti))
	var reviewers sync.WaitGroup
	for g := 0; g < 8; g++ {
		reviewers.Add(1)
		go func() {
			defer reviewers.Done()
			for i := 0; i < 200; i++ {
				rec := post(t, srv, ValidatePath, "application/json", body)
				if rec.Code != 200 {
					t.Errorf("status %d", rec.Code)
					return
				}
			}
		}()
	}
	reviewers.Wait()
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if counts[OutcomeAllowed]+counts[OutcomeDenied] != 1600 {
		t.Errorf("outcomes %v", counts)
	}
}
