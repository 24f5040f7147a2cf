package server_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/review"
	"github.com/shipshape-dev/shipshape/internal/store/storetest"
)

// The quarterly review on a real store, on both backends: images really
// submitted before and after the start of the period, a revocation, an
// exception that brings a rejected image into production; JSON, Markdown,
// HTML and CSV through the API, and the dashboard's page and export.
func TestQuarterlyReview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		var app, root, app2 submitResp
		e.mustDo("submitter", "POST", "/api/v1/images", e.factsBody(spec("app"), "registry.example.com/team/app:1.0"), 201, &app)
		e.mustDo("submitter", "POST", "/api/v1/images", e.factsBody(spec(""), "registry.example.com/vendor/tool:3.1"), 201, &root)
		if app.Evaluation.State != "approved" || root.Evaluation.State != "rejected" {
			t.Fatalf("submissions: %s %s", app.Evaluation.State, root.Evaluation.State)
		}
		time.Sleep(20 * time.Millisecond)
		since := time.Now().UTC()
		time.Sleep(20 * time.Millisecond)

		s2 := spec("app")
		s2.Layers[1] = append(s2.Layers[1], imagetest.Text("/app/version", "2"))
		e.mustDo("submitter", "POST", "/api/v1/images", e.factsBody(s2, "registry.example.com/team/app:2.0"), 201, &app2)
		e.mustDo("approver", "POST", "/api/v1/images/"+app.Evaluation.Digest+"/revoke", map[string]string{"reason": "leaked key"}, 200, nil)
		hostile := "=cmd|' /C calc'!A0 <script>alert(1)</script> | *bold*"
		e.mustDo("approver", "POST", "/api/v1/exceptions", map[string]any{"check": "SEC-001", "repository": "registry.example.com/vendor/*",
			"owner": "platform", "reason": hostile, "expires_at": time.Now().Add(30 * 24 * time.Hour)}, 201, nil)
		waitFor(t, func() bool {
			var im struct {
				Approval struct{ State string } `json:"approval"`
			}
			e.mustDo("viewer", "GET", "/api/v1/images/"+root.Evaluation.Digest, nil, 200, &im)
			return im.Approval.State == "approved"
		})

		q := "/api/v1/review?since=" + url.QueryEscape(since.Format(time.RFC3339Nano))
		var rv review.Review
		e.mustDo("viewer", "GET", q, nil, 200, &rv)
		byDigest := map[string]review.Image{}
		for _, im := range rv.Production {
			byDigest[im.Digest] = im
		}
		if len(rv.Production) != 2 {
			t.Errorf("production %+v", rv.Production)
		}
		if im := byDigest[root.Evaluation.Digest]; im.StateThen != "rejected" || im.Then == nil || im.Then.Verdict != "FAIL" || im.Now == nil || im.Now.Verdict != "PASS" || !im.Changed() {
			t.Errorf("the vendor image: %+v then %+v now %+v", im, im.Then, im.Now)
		}
		if im := byDigest[app2.Evaluation.Digest]; im.StateThen != "" || im.Then != nil || im.Now == nil || im.Now.Verdict != "PASS" {
			t.Errorf("the new image: %+v", im)
		}
		if _, ok := byDigest[app.Evaluation.Digest]; ok {
			t.Error("the revoked image is listed in production")
		}
		if len(rv.Ended) != 1 || rv.Ended[0].Digest != app.Evaluation.Digest || rv.Ended[0].State != "revoked" || rv.Ended[0].Reason != "leaked key" ||
			rv.Ended[0].Actor != "approver-token" || rv.Ended[0].Repository != "registry.example.com/team/app" {
			t.Errorf("ended %+v", rv.Ended)
		}
		if len(rv.Expiring) != 1 || rv.Expiring[0].Kind != "exception" || rv.Expiring[0].Exception != 1 || rv.Expiring[0].Owner != "platform" {
			t.Errorf("expiring %+v", rv.Expiring)
		}
		if len(rv.Granted) != 1 || rv.Granted[0].By != "approver-token" || rv.Granted[0].Waives != "SEC-001" || rv.Granted[0].Status != "active" || rv.Granted[0].Reason != hostile {
			t.Errorf("granted %+v", rv.Granted)
		}

		_, mdBody := e.do("viewer", "GET", q+"&format=markdown", nil)
		md := string(mdBody)
		for _, want := range []string{"# Quarterly review", "## Production images", "registry.example.com/vendor/tool:3.1", "| rejected | FAIL ",
			"## Retired or revoked since", "leaked key", "## Expiring before", "## Exceptions granted since", "approver-token", "&lt;script&gt;", `\| \*bold\*`} {
			if !strings.Contains(md, want) {
				t.Errorf("markdown lacks %q:\n%s", want, md)
			}
		}
		if strings.Contains(md, "<script>") {
			t.Error("markdown carries raw HTML")
		}
		_, htmlBody := e.do("viewer", "GET", q+"&format=html", nil)
		if h := string(htmlBody); !strings.Contains(h, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(h, "<script>") || !strings.Contains(h, "registry.example.com/vendor/tool:3.1") {
			t.Errorf("html:\n%s", h)
		}
		_, csvBody := e.do("viewer", "GET", q+"&format=csv", nil)
		rows, err := csv.NewReader(bytes.NewReader(csvBody)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		sections := map[string]int{}
		for _, r := range rows[1:] {
			sections[r[0]]++
			for _, c := range r {
				if strings.HasPrefix(c, "=") {
					t.Errorf("a CSV cell starts a formula: %q", c)
				}
			}
		}
		if strings.Join(rows[0], ",") != strings.Join(review.CSVHeader, ",") || sections["production"] != 2 || sections["revoked"] != 1 ||
			sections["expiring exception"] != 1 || sections["exception granted"] != 1 {
			t.Errorf("csv sections %v in\n%s", sections, csvBody)
		}

		for _, bad := range []struct{ q, msg string }{{"?since=yesterday", "since"}, {"?format=pdf", "format"}, {"?since=2999-01-01", "future"}} {
			code, body := e.do("viewer", "GET", "/api/v1/review"+bad.q, nil)
			if code != 400 || !strings.Contains(string(body), bad.msg) {
				t.Errorf("%s: %d %s", bad.q, code, body)
			}
		}

		// The dashboard's page and its export, with a session.
		page := func(path string) (int, string) {
			req, _ := http.NewRequest("GET", e.http.URL+path, nil)
			req.AddCookie(&http.Cookie{Name: "shipshape_session", Value: e.tokens["viewer"]})
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		sinceDay := since.Format(time.DateOnly)
		code, body := page("/review?since=" + sinceDay)
		for _, want := range []string{`id="production"`, "registry.example.com/vendor/tool:3.1", "leaked key", "approver-token", "&lt;script&gt;", `href="/review/export?format=csv&amp;since=` + sinceDay} {
			if code != 200 || !strings.Contains(body, want) {
				t.Errorf("/review (%d) lacks %q", code, want)
			}
		}
		if code, body := page("/review/export?format=csv&since=" + sinceDay); code != 200 || !strings.HasPrefix(body, "section,date,image") {
			t.Errorf("export: %d %.200s", code, body)
		}
	})
}

// GET /api/v1/deliveries lists deliveries (none without --notify) and
// refuses unknown filters.
func TestDeliveriesEndpoint(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	var out struct {
		Deliveries []json.RawMessage `json:"deliveries"`
	}
	e.mustDo("viewer", "GET", "/api/v1/deliveries", nil, 200, &out)
	if out.Deliveries == nil || len(out.Deliveries) != 0 {
		t.Errorf("deliveries %v", out.Deliveries)
	}
	e.mustDo("viewer", "GET", "/api/v1/deliveries?status=lost", nil, 400, nil)
	e.mustDo("viewer", "GET", "/api/v1/deliveries?event=deployed", nil, 400, nil)
	e.mustDo("", "GET", "/api/v1/deliveries", nil, 401, nil)
}
