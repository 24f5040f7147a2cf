package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/facts"
	"github.com/shipshape-dev/shipshape/internal/fleet"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/server"
	"github.com/shipshape-dev/shipshape/internal/store"
	"github.com/shipshape-dev/shipshape/internal/store/storetest"
)

type env struct {
	t      testing.TB
	st     *store.Store
	srv    *server.Server
	http   *httptest.Server
	tokens map[string]string // role -> token
	eng    *engine.Engine
}

func newEnv(t testing.TB, dsn string) *env {
	t.Helper()
	qc := store.QueueConfig{PollInterval: 50 * time.Millisecond}
	jobs := fleet.RegisterJobs(&qc)
	st, err := store.Open(context.Background(), dsn, store.WithQueue(qc))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eng, err := engine.New(engine.Deps{SkipVulns: true})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, tokens: map[string]string{}, eng: eng}
	fl, err := fleet.New(st, eng, nil, nil, fleet.WithOnChange(func() {
		if e.srv != nil {
			e.srv.Changed()
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	jobs.Bind(fl)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := st.Queue().Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Queue().Stop(context.Background()) })
	e.srv, err = server.New(server.Config{Fleet: fl, Refresh: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	go e.srv.Run(ctx)
	e.http = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.http.Close)
	for _, role := range []string{store.RoleViewer, store.RoleSubmitter, store.RoleApprover, store.RoleAdmin} {
		tok, _, err := server.CreateToken(ctx, st, role+"-token", role, "test")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[role] = tok
	}
	return e
}

// do sends a request as role ("" for none) and returns the status and body.
func (e *env) do(role, method, path string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		e.t.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode, data
}

func (e *env) mustDo(role, method, path string, body any, want int, out any) {
	e.t.Helper()
	code, data := e.do(role, method, path, body)
	if code != want {
		e.t.Fatalf("%s %s: %d %s, want %d", method, path, code, data, want)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
}

func spec(user string) imagetest.Spec {
	return imagetest.Spec{Layers: [][]imagetest.File{imagetest.Debian(), {imagetest.Text("/app/README", "app")}},
		Config: v1.Config{Entrypoint: []string{"/usr/bin/dash"}, User: user,
			Labels: map[string]string{"org.opencontainers.image.source": "https://github.com/example/app", "org.opencontainers.image.version": "1.0"}}}
}

// factsBody observes a synthetic image as ref and returns the submission.
func (e *env) factsBody(s imagetest.Spec, ref string) map[string]any {
	e.t.Helper()
	input := imagetest.WriteLayout(e.t, e.t.TempDir(), imagetest.Image(e.t, s), ref)
	fs, err := e.eng.Observe(context.Background(), input, engine.ObserveOptions{Ref: ref, NoCache: true, SkipSupply: true})
	if err != nil {
		e.t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := facts.Write(&buf, fs); err != nil {
		e.t.Fatal(err)
	}
	return map[string]any{"facts": json.RawMessage(buf.Bytes())}
}

type submitResp struct {
	Job *struct {
		ID     int64    `json:"id"`
		State  string   `json:"state"`
		Errors []string `json:"errors"`
	} `json:"job"`
	Evaluation *fleet.Evaluation `json:"evaluation"`
}

type allowedResp struct {
	Allowed       bool     `json:"allowed"`
	Digest        string   `json:"digest"`
	State         string   `json:"state"`
	Reason        string   `json:"reason"`
	ResolvedFrom  string   `json:"resolved_from"`
	FailingChecks []string `json:"failing_checks"`
}

// The flows of the API on both backends: submit facts and a registry
// reference, list, look up, allow, revoke, exceptions, the audit log, jobs.
func TestAPIFlows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		var sub submitResp
		e.mustDo("submitter", "POST", "/api/v1/images", e.factsBody(spec("app"), "registry.example.com/team/app:1.0"), 201, &sub)
		ev := sub.Evaluation
		if ev == nil || !ev.Pass || ev.State != "approved" {
			t.Fatalf("submission: %+v", sub)
		}
		var al allowedResp
		e.mustDo("viewer", "GET", "/api/v1/allowed?image=registry.example.com/team/app@"+ev.Digest, nil, 200, &al)
		if !al.Allowed || al.State != "approved" || al.ResolvedFrom != "digest" {
			t.Fatalf("allowed by digest: %+v", al)
		}
		e.mustDo("viewer", "GET", "/api/v1/allowed?image=registry.example.com/team/app:1.0", nil, 200, &al)
		if !al.Allowed || al.Digest != ev.Digest || !strings.HasPrefix(al.ResolvedFrom, "tag") {
			t.Fatalf("allowed by tag: %+v", al)
		}
		e.mustDo("viewer", "GET", "/api/v1/allowed?image=registry.example.com/team/unknown:1.0", nil, 200, &al)
		if al.Allowed || al.State != "unknown" {
			t.Fatalf("unknown image: %+v", al)
		}

		// A failing image is rejected; /allowed names the failing checks.
		var root submitResp
		e.mustDo("submitter", "POST", "/api/v1/images", e.factsBody(spec(""), "registry.example.com/team/root:1.0"), 201, &root)
		e.mustDo("viewer", "GET", "/api/v1/allowed?image=registry.example.com/team/root@"+root.Evaluation.Digest, nil, 200, &al)
		if al.Allowed || al.State != "rejected" || !slices.ContainsFunc(al.FailingChecks, func(s string) bool { return strings.HasPrefix(s, "SEC-001") }) {
			t.Fatalf("root image: %+v", al)
		}

		// A registry reference is read by the service (a job on the CI queue).
		reg := imagetest.Registry(t)
		ref := reg + "/team/web:2.0"
		tag, err := name.NewTag(ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(tag, imagetest.Image(t, spec("app"))); err != nil {
			t.Fatal(err)
		}
		e.mustDo("submitter", "POST", "/api/v1/images?wait=2m", map[string]string{"image": ref}, 200, &sub)
		if sub.Evaluation == nil || sub.Job == nil || sub.Job.State != "completed" || !sub.Evaluation.Pass {
			t.Fatalf("registry submission: %+v", sub)
		}
		web := sub.Evaluation.Digest
		// The registry is gone: a submission of it fails visibly, with its error, in the job.
		e.mustDo("submitter", "POST", "/api/v1/images?wait=1s", map[string]string{"image": "127.0.0.1:1/none/x:1"}, 202, &sub)
		if sub.Job == nil || sub.Job.ID == 0 {
			t.Fatalf("unreachable registry: %+v", sub)
		}

		var list struct {
			Total  int `json:"total"`
			Images []struct {
				Digest, State string
			} `json:"images"`
		}
		e.mustDo("viewer", "GET", "/api/v1/images?state=approved&sort=repository", nil, 200, &list)
		if list.Total != 2 {
			t.Errorf("approved images: %+v", list)
		}
		var detail struct {
			Image       struct{ Verdict string }
			Approval    *struct{ State string }
			Evaluations []struct{ ID int64 }
			Report      json.RawMessage
		}
		e.mustDo("viewer", "GET", "/api/v1/images/"+web, nil, 200, &detail)
		if detail.Approval == nil || detail.Approval.State != "approved" || len(detail.Evaluations) != 1 || len(detail.Report) < 100 {
			t.Fatalf("detail: %+v", detail)
		}

		// Revoke: the view answers from memory, refreshed after the change.
		e.mustDo("viewer", "POST", "/api/v1/images/"+web+"/revoke", map[string]string{"reason": "x"}, 403, nil)
		e.mustDo("approver", "POST", "/api/v1/images/"+web+"/revoke", map[string]string{"reason": "CVE in the app"}, 200, nil)
		e.mustDo("approver", "POST", "/api/v1/images/"+web+"/revoke", map[string]string{"reason": "again"}, 409, nil)
		waitFor(t, func() bool {
			e.mustDo("viewer", "GET", "/api/v1/allowed?image="+reg+"/team/web@"+web, nil, 200, &al)
			return !al.Allowed && al.State == "revoked"
		})

		// Exceptions: create, list, delete; the rejected root image is approved through it.
		var ex struct{ ID int64 }
		e.mustDo("approver", "POST", "/api/v1/exceptions", map[string]any{"check": "SEC-001", "repository": "registry.example.com/team/*",
			"owner": "platform", "reason": "vendor image", "expires_at": time.Now().Add(24 * time.Hour)}, 201, &ex)
		waitFor(t, func() bool {
			e.mustDo("viewer", "GET", "/api/v1/allowed?image=registry.example.com/team/root@"+root.Evaluation.Digest, nil, 200, &al)
			return al.Allowed
		})
		e.mustDo("viewer", "GET", "/api/v1/exceptions/"+itoa(ex.ID), nil, 200, nil)
		e.mustDo("approver", "DELETE", "/api/v1/exceptions/"+itoa(ex.ID), nil, 204, nil)
		e.mustDo("viewer", "GET", "/api/v1/exceptions/"+itoa(ex.ID), nil, 404, nil)

		var events struct {
			Events []struct{ Actor, Action, Subject string }
		}
		e.mustDo("viewer", "GET", "/api/v1/events?subject="+web, nil, 200, &events)
		var actions []string
		for _, ev := range events.Events {
			actions = append(actions, ev.Actor+" "+ev.Action)
		}
		if !slices.Contains(actions, "approver-token approval.revoked") || !slices.Contains(actions, "submitter-token image.evaluated") {
			t.Errorf("audit log of %s: %q", web, actions)
		}
		var jobs struct {
			Jobs []struct {
				ID    int64
				Kind  string
				State string
			}
		}
		e.mustDo("viewer", "GET", "/api/v1/jobs", nil, 200, &jobs)
		if len(jobs.Jobs) < 3 {
			t.Errorf("jobs: %+v", jobs)
		}
		e.mustDo("viewer", "POST", "/api/v1/sweep", nil, 403, nil)
		e.mustDo("admin", "POST", "/api/v1/sweep", nil, 200, nil)

		code, body := e.do("", "GET", "/metrics", nil)
		for _, m := range []string{"shipshape_images{state=\"approved\"}", "shipshape_evaluations{verdict=\"PASS\"}", "shipshape_jobs{", "shipshape_allowed_duration_seconds_bucket", "shipshape_findings{"} {
			if code != 200 || !strings.Contains(string(body), m) {
				t.Errorf("/metrics lacks %s", m)
			}
		}
	})
}

func itoa(n int64) string { return strings.TrimSpace(strings.Repeat(" ", 0) + jsonNum(n)) }

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Bad input gets a 4xx with a message naming what is wrong, never a 500.
func TestBadInput(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	digest := "sha256:" + strings.Repeat("0", 64)
	for _, c := range []struct {
		role, method, path string
		body               any
		code               int
		msg                string
	}{
		{"", "GET", "/api/v1/images", nil, 401, "missing bearer token"},
		{"submitter", "POST", "/api/v1/images", "{", 400, "malformed JSON"},
		{"submitter", "POST", "/api/v1/images", `{"image":"a","extra":1}`, 400, `unknown field "extra"`},
		{"submitter", "POST", "/api/v1/images", `{"image":5}`, 400, `field "image"`},
		{"submitter", "POST", "/api/v1/images", `{"image":"x"} {}`, 400, "more than one JSON value"},
		{"submitter", "POST", "/api/v1/images", ``, 400, "empty body"},
		{"submitter", "POST", "/api/v1/images", `{"image":"UPPER/Case::"}`, 400, "not an image reference"},
		{"submitter", "POST", "/api/v1/images", `{}`, 400, "send image"},
		{"submitter", "POST", "/api/v1/images", `{"facts":{"schema":"x"}}`, 400, "facts:"},
		{"submitter", "POST", "/api/v1/images?wait=forever", `{"image":"a/b:1"}`, 400, "wait"},
		{"viewer", "GET", "/api/v1/images/sha256:zz", nil, 400, "digest"},
		{"viewer", "GET", "/api/v1/images/" + digest, nil, 404, "not found"},
		{"viewer", "GET", "/api/v1/images?limit=0", nil, 400, "limit"},
		{"viewer", "GET", "/api/v1/images?state=gone", nil, 400, "state"},
		{"viewer", "GET", "/api/v1/images?sort=size", nil, 400, "sort"},
		{"viewer", "GET", "/api/v1/allowed", nil, 400, "image is required"},
		{"viewer", "GET", "/api/v1/allowed?image=::", nil, 400, "not an image reference"},
		{"viewer", "GET", "/api/v1/jobs?state=lost", nil, 400, "state"},
		{"viewer", "GET", "/api/v1/jobs/abc", nil, 400, "positive integer"},
		{"viewer", "GET", "/api/v1/jobs/99999", nil, 404, ""},
		{"viewer", "GET", "/api/v1/exceptions/0", nil, 400, "positive integer"},
		{"approver", "POST", "/api/v1/exceptions", `{"check":"SEC-001","owner":"a","reason":"b"}`, 400, "pattern"},
		{"approver", "POST", "/api/v1/images/" + digest + "/approve", `{}`, 404, ""},
		{"approver", "POST", "/api/v1/images/" + digest + "/frobnicate", `{}`, 404, "no such endpoint"},
		{"viewer", "GET", "/api/v2/images", nil, 404, "no such endpoint"},
	} {
		code, body := e.do(c.role, c.method, c.path, c.body)
		var eb struct{ Error string }
		_ = json.Unmarshal(body, &eb)
		if code != c.code || !strings.Contains(eb.Error, c.msg) {
			t.Errorf("%s %s %v: %d %s, want %d with %q", c.method, c.path, c.body, code, body, c.code, c.msg)
		}
	}
	// An oversized body.
	big := `{"image":"` + strings.Repeat("a", 300<<20) + `"}`
	if code, body := e.do("submitter", "POST", "/api/v1/images", big); code != 400 || !strings.Contains(string(body), "larger than") {
		t.Errorf("oversized body: %d %s", code, body)
	}
}

// Tokens: hashed at rest, roles ordered, bad tokens rate-limited per client.
func TestAuth(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	toks, err := e.st.Tokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range toks {
		if strings.HasPrefix(tk.Hash, "ssp_") || tk.Hash != server.HashToken(e.tokens[tk.Role]) {
			t.Errorf("token %s stored as %q", tk.Name, tk.Hash)
		}
	}
	e.mustDo("viewer", "POST", "/api/v1/exceptions", `{}`, 403, nil)
	e.mustDo("admin", "GET", "/api/v1/images", nil, 200, nil)
	for i := 0; i < 10; i++ {
		req, _ := http.NewRequest("GET", e.http.URL+"/api/v1/images", nil)
		req.Header.Set("Authorization", "Bearer ssp_wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("bad token %d: %d", i, resp.StatusCode)
		}
	}
	// Now even a good token from this client waits.
	code, body := e.do("viewer", "GET", "/api/v1/images", nil)
	if code != 429 || !strings.Contains(string(body), "too many failed") {
		t.Errorf("after 10 failures: %d %s", code, body)
	}
}

// The OpenAPI document describes exactly the routes the server serves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	e.mustDo("", "GET", "/api/v1/openapi.json", nil, 200, &doc)
	var documented []string
	for p, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	sort.Strings(documented)
	src, err := readSource("server.go")
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	for _, m := range regexp.MustCompile(`s\.route\("((?:GET|POST|DELETE|PUT) /api/v1/[^"]*)"`).FindAllStringSubmatch(src, -1) {
		served = append(served, m[1])
	}
	sort.Strings(served)
	if !slices.Equal(documented, served) {
		t.Errorf("documented %q\nserved     %q", documented, served)
	}
}
