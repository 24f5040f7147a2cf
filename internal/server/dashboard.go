package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/admission"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/fleet"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/store"
)

// The dashboard: server-rendered HTML (html/template escapes everything an
// image or a finding can carry), assets embedded, no JavaScript needed.
// Login is by the same bearer tokens as the API, kept in an HttpOnly,
// SameSite=Strict cookie; every form carries a CSRF token derived from the
// session's token, so any serve process can check it.

//go:embed web
var webFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"short": finding.ShortDigest,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04")
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02")
	},
	"join":  strings.Join,
	"lower": strings.ToLower,
	"query": func(v url.Values) template.URL { return template.URL(v.Encode()) },
	"add":   func(a, b int) int { return a + b },
	"list":  func(s ...string) []string { return s },
}).ParseFS(webFS, "web/*.html"))

const cookieName = "shipshape_session"

// csrfFor is the CSRF token of a session: a hash of its bearer token, which
// an attacker without the cookie cannot compute.
func csrfFor(token string) string {
	sum := sha256.Sum256([]byte("shipshape-csrf:" + token))
	return hex.EncodeToString(sum[:16])
}

// page is what every template gets.
type page struct {
	Title   string
	User    string
	Role    string
	CSRF    string
	Flash   string
	Error   string
	Nav     string
	Data    any
	Fresh   []dataAge
	CanAct  bool
	IsAdmin bool
}

type dataAge struct {
	Source string
	Newest time.Time
	Age    string
}

func (s *Server) uiRoutes() {
	s.route("GET /login", "", s.loginPage)
	s.route("POST /login", "", s.login)
	s.route("POST /logout", "", s.logout)
	s.route("GET /static/style.css", "", func(w http.ResponseWriter, r *http.Request) {
		b, _ := webFS.ReadFile("web/style.css")
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(b)
	})
	s.ui("GET /{$}", store.RoleViewer, s.fleetPage)
	s.ui("GET /images/{digest}", store.RoleViewer, s.imagePage)
	s.ui("GET /upcoming", store.RoleViewer, s.upcomingPage)
	s.ui("GET /admission", store.RoleViewer, s.admissionPage)
	s.ui("GET /queue", store.RoleViewer, s.queuePage)
	s.ui("GET /review", store.RoleViewer, s.reviewPage)
	s.ui("GET /review/export", store.RoleViewer, s.reviewExport)
	s.ui("POST /ui/images/{digest}/{action}", store.RoleApprover, s.uiImageAction)
	s.ui("POST /ui/exceptions", store.RoleApprover, s.uiException)
	s.ui("POST /ui/jobs/{id}/retry", store.RoleAdmin, s.uiRetry)
}

// ui registers a page that needs a session with role; a POST also needs
// the CSRF token.
func (s *Server) ui(pattern, role string, h func(w http.ResponseWriter, r *http.Request, p *page)) {
	s.route(pattern, "", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Frame-Options", "DENY")
		c, err := r.Cookie(cookieName)
		if err != nil || c.Value == "" {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		t, err := s.lookupToken(r.Context(), HashToken(c.Value))
		if err != nil || !t.RevokedAt.IsZero() {
			http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		p := &page{User: t.Name, Role: t.Role, CSRF: csrfFor(c.Value), Flash: r.URL.Query().Get("flash"),
			CanAct: roleRank[t.Role] >= roleRank[store.RoleApprover], IsAdmin: t.Role == store.RoleAdmin}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				s.renderError(w, r, p, http.StatusBadRequest, "the form could not be read: "+err.Error())
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(p.CSRF)) != 1 {
				s.renderError(w, r, p, http.StatusForbidden, "the form's CSRF token is missing or wrong: reload the page and try again")
				return
			}
		}
		if roleRank[t.Role] < roleRank[role] {
			s.renderError(w, r, p, http.StatusForbidden, fmt.Sprintf("your token (%s) has role %s; this needs %s", t.Name, t.Role, role))
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), principalKey{}, principal{id: t.ID, name: t.Name, role: t.Role}))
		for _, src := range s.fleet.DataSources() {
			p.Fresh = append(p.Fresh, dataAge{Source: src.Name, Newest: src.Newest, Age: ageOf(src.Newest)})
		}
		h(w, r, p)
	})
}

func ageOf(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	d := time.Since(t)
	switch {
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
}

func (s *Server) render(w http.ResponseWriter, code int, name string, p *page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var buf strings.Builder
	if err := pages.ExecuteTemplate(&buf, name, p); err != nil {
		s.log.Error("rendering a page", "page", name, "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = fmt.Fprint(w, "internal error rendering the page")
		return
	}
	w.WriteHeader(code)
	_, _ = fmt.Fprint(w, buf.String())
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, p *page, code int, msg string) {
	p.Title, p.Error = http.StatusText(code), msg
	s.render(w, code, "error.html", p)
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "login.html", &page{Title: "Sign in", Data: safeNext(r.URL.Query().Get("next")), Error: r.URL.Query().Get("error")})
}

// safeNext keeps a redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/"
	}
	return next
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	addr := clientAddr(r)
	if blocked, wait := s.limiter.blocked(addr); blocked {
		s.render(w, http.StatusTooManyRequests, "login.html", &page{Title: "Sign in", Data: "/", Error: fmt.Sprintf("too many failed sign-ins: wait %s", wait.Round(time.Second))})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.render(w, http.StatusBadRequest, "login.html", &page{Title: "Sign in", Data: "/", Error: "the form could not be read"})
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	next := safeNext(r.PostFormValue("next"))
	t, err := s.lookupToken(r.Context(), HashToken(token))
	if token == "" || err != nil || !t.RevokedAt.IsZero() {
		s.limiter.fail(addr)
		s.render(w, http.StatusUnauthorized, "login.html", &page{Title: "Sign in", Data: next, Error: "unknown or revoked token"})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, MaxAge: 12 * 3600})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// fleetRow is one image of the fleet page.
type fleetRow struct {
	store.ImageSummary
	Failing []string
}

type fleetData struct {
	Rows                               []fleetRow
	Total, Offset, Limit               int
	State, Repository, Check, Advisory string
	Sort                               string
	Prev, Next                         url.Values
	States                             []string
	Counts                             map[string]int
}

func (s *Server) fleetPage(w http.ResponseWriter, r *http.Request, p *page) {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit", 100, 1, 1000)
	if err != nil {
		s.renderError(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	offset, err := queryInt(r, "offset", 0, 0, 1<<30)
	if err != nil {
		s.renderError(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	d := fleetData{State: q.Get("state"), Repository: q.Get("repository"), Check: strings.ToUpper(q.Get("check")), Advisory: q.Get("advisory"),
		Sort: q.Get("sort"), Limit: limit, Offset: offset,
		States: []string{"", "pending", "approved", "expiring", "rejected", "retired", "revoked", "none"}}
	if d.State != "" && d.State != "none" && !validState(d.State) {
		s.renderError(w, r, p, http.StatusBadRequest, "unknown state "+d.State)
		return
	}
	if _, ok := map[string]bool{"": true, "updated": true, "repository": true, "evaluated": true, "grade": true, "score": true}[d.Sort]; !ok {
		s.renderError(w, r, p, http.StatusBadRequest, "unknown sort "+d.Sort)
		return
	}
	rows, total, err := s.fleet.Store().ListImages(r.Context(), store.ImageFilter{State: d.State, Repository: d.Repository, Check: d.Check,
		Advisory: d.Advisory, Sort: d.Sort, Limit: limit, Offset: offset})
	if err != nil {
		s.renderError(w, r, p, http.StatusServiceUnavailable, "the store does not answer: "+err.Error())
		return
	}
	failing := map[string][]string{}
	for _, a := range s.view.Snapshot() {
		if len(a.FailingChecks) > 0 {
			failing[a.Digest] = a.FailingChecks
		}
	}
	for _, im := range rows {
		d.Rows = append(d.Rows, fleetRow{ImageSummary: im, Failing: failing[im.Digest]})
	}
	d.Total = total
	page := func(off int) url.Values {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("offset", strconv.Itoa(off))
		return v
	}
	if offset > 0 {
		d.Prev = page(max(0, offset-limit))
	}
	if offset+len(rows) < total {
		d.Next = page(offset + limit)
	}
	d.Counts, _ = s.fleet.StateCounts(r.Context())
	p.Title, p.Nav, p.Data = "Fleet", "fleet", d
	s.render(w, http.StatusOK, "fleet.html", p)
}

// blocker is one reason an image fails: a finding with its evidence and fix.
type blocker struct {
	finding.Finding
	Why string // veto, or the fail-on severity
}

type evalPoint struct {
	store.Evaluation
	Counts map[string]int
}

type imageData struct {
	Image       store.Image
	Approval    *store.Approval
	Report      *report.Report
	Blockers    []blocker
	Scores      []dimScore
	Evaluations []evalPoint
	Chart       template.HTML
	New         []store.FindingKey
	Resolved    []store.FindingKey
	Exceptions  []store.Exception
	Platforms   []store.Image
	Now         time.Time
}

type dimScore struct {
	Dimension string
	Score     int
}

func (s *Server) imagePage(w http.ResponseWriter, r *http.Request, p *page) {
	digest, err := pathDigest(r)
	if err != nil {
		s.renderError(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	ctx := r.Context()
	st := s.fleet.Store()
	im, err := st.Image(ctx, digest)
	if err != nil {
		if isNotFound(err) {
			s.renderError(w, r, p, http.StatusNotFound, "the service has never seen "+digest+": submit it with shipshape submit")
			return
		}
		s.renderError(w, r, p, http.StatusServiceUnavailable, err.Error())
		return
	}
	d := imageData{Image: im, Now: time.Now()}
	if a, err := st.Approval(ctx, digest); err == nil {
		d.Approval = &a
	}
	if im.Kind == "index" {
		d.Platforms, _ = st.PlatformImages(ctx, digest)
	}
	evs, err := st.Evaluations(ctx, digest, 20)
	if err != nil {
		s.renderError(w, r, p, http.StatusServiceUnavailable, err.Error())
		return
	}
	var keys [][]store.FindingKey
	for _, e := range evs {
		k, err := st.Findings(ctx, e.ID)
		if err != nil {
			s.renderError(w, r, p, http.StatusServiceUnavailable, err.Error())
			return
		}
		counts := map[string]int{}
		for _, f := range k {
			counts[f.Severity]++
		}
		keys = append(keys, k)
		d.Evaluations = append(d.Evaluations, evalPoint{Evaluation: e, Counts: counts})
	}
	if len(evs) > 0 {
		full, err := st.Evaluation(ctx, evs[0].ID)
		if err == nil {
			var rep report.Report
			if json.Unmarshal(full.Report, &rep) == nil {
				d.Report = &rep
				for _, f := range rep.Verdict.Vetoes {
					d.Blockers = append(d.Blockers, blocker{Finding: f, Why: "veto"})
				}
				for _, f := range rep.Verdict.Failing {
					d.Blockers = append(d.Blockers, blocker{Finding: f, Why: "fails at " + rep.Verdict.FailOn})
				}
				for _, dim := range finding.Dimensions {
					if sc, ok := rep.Verdict.Scores[dim]; ok {
						d.Scores = append(d.Scores, dimScore{Dimension: string(dim), Score: sc})
					}
				}
			}
		}
		if len(keys) > 1 {
			d.New, d.Resolved = keyDiff(keys[1], keys[0]), keyDiff(keys[0], keys[1])
		}
	}
	d.Chart = severityChart(d.Evaluations)
	exs, _ := st.Exceptions(ctx, store.ExceptionFilter{})
	for _, e := range exs {
		if (e.ImagePattern == "" || fleet.MatchRepository(e.ImagePattern, digest) || e.ImagePattern == digest) &&
			(e.RepositoryPattern == "" || fleet.MatchRepository(e.RepositoryPattern, im.Repository)) {
			d.Exceptions = append(d.Exceptions, e)
		}
	}
	p.Title, p.Nav, p.Data = im.Repository+":"+im.Tag, "fleet", d
	s.render(w, http.StatusOK, "image.html", p)
}

// keyDiff returns the keys of b that a does not have.
func keyDiff(a, b []store.FindingKey) []store.FindingKey {
	in := map[string]bool{}
	for _, k := range a {
		in[k.Fingerprint] = true
	}
	var out []store.FindingKey
	for _, k := range b {
		if !in[k.Fingerprint] {
			out = append(out, k)
		}
	}
	return out
}

// severityChart draws the findings of each evaluation by severity, oldest
// left, as an inline SVG (no script, no external asset).
func severityChart(evs []evalPoint) template.HTML {
	if len(evs) == 0 {
		return ""
	}
	sevs := []struct{ name, color string }{{"critical", "#8b0000"}, {"high", "#d9480f"}, {"medium", "#e8a200"}, {"low", "#5c7cfa"}}
	maxN := 1
	for _, e := range evs {
		n := 0
		for _, sv := range sevs {
			n += e.Counts[sv.name]
		}
		maxN = max(maxN, n)
	}
	const w, h, bar = 600, 160, 24
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" aria-label="findings by severity per evaluation" viewBox="0 0 %d %d" width="%d" height="%d">`, w, h+20, w, h+20)
	step := float64(w) / float64(len(evs))
	for i := range evs {
		e := evs[len(evs)-1-i] // oldest first
		x := float64(i)*step + (step-bar)/2
		y := float64(h)
		for _, sv := range sevs {
			n := e.Counts[sv.name]
			if n == 0 {
				continue
			}
			hh := float64(n) / float64(maxN) * (h - 10)
			y -= hh
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%d" height="%.1f" fill="%s"><title>evaluation %d: %d %s</title></rect>`, x, y, bar, hh, sv.color, e.ID, n, sv.name)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%s</text>`, x+bar/2, h+14, template.HTMLEscapeString(e.Verdict))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

type upcomingItem struct {
	When   time.Time
	Kind   string
	Digest string
	Name   string
	What   string
}

func (s *Server) upcomingPage(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	st := s.fleet.Store()
	now := time.Now()
	horizon := now.Add(90 * 24 * time.Hour)
	var items []upcomingItem
	names := map[string]string{}
	for _, a := range s.view.Snapshot() {
		names[a.Digest] = a.Ref
	}
	aps, err := st.ExpiringApprovals(ctx, horizon)
	if err != nil {
		s.renderError(w, r, p, http.StatusServiceUnavailable, err.Error())
		return
	}
	for _, a := range aps {
		items = append(items, upcomingItem{When: a.ValidUntil, Kind: "approval " + a.State, Digest: a.ImageDigest, Name: names[a.ImageDigest], What: a.Reason})
	}
	exs, err := st.Exceptions(ctx, store.ExceptionFilter{ActiveAt: now})
	if err != nil {
		s.renderError(w, r, p, http.StatusServiceUnavailable, err.Error())
		return
	}
	for _, e := range exs {
		if !e.ExpiresAt.IsZero() && e.ExpiresAt.Before(horizon) {
			items = append(items, upcomingItem{When: e.ExpiresAt, Kind: "exception", Name: fmt.Sprintf("exception %d (%s)", e.ID, e.Owner),
				What: strings.TrimSpace(e.Check + " " + e.Advisory + " " + e.RepositoryPattern + e.ImagePattern + ": " + e.Reason)})
		}
	}
	// End of life of the admitted images' OS and runtimes, from their latest reports.
	n := 0
	for _, a := range s.view.Snapshot() {
		if !a.State.Admits() || n >= 2000 {
			continue
		}
		n++
		ev, err := st.LatestEvaluation(ctx, a.Digest)
		if err != nil {
			continue
		}
		var rep report.Report
		if json.Unmarshal(ev.Report, &rep) != nil {
			continue
		}
		for _, res := range rep.Results {
			if res.Check.ID != "MNT-003" && res.Check.ID != "MNT-004" {
				continue
			}
			for _, f := range res.Findings {
				for _, e := range f.Evidence {
					if e.Field == "end of life" {
						if t, err := time.Parse(time.DateOnly, e.Value); err == nil && t.Before(horizon) {
							items = append(items, upcomingItem{When: t, Kind: "end of life", Digest: a.Digest, Name: a.Ref, What: f.Title})
						}
					}
				}
			}
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].When.Before(items[j].When) })
	p.Title, p.Nav, p.Data = "Upcoming", "upcoming", items
	s.render(w, http.StatusOK, "upcoming.html", p)
}

type admissionData struct {
	Enabled bool
	Events  []store.Event
	ByNS    []countRow
}

type countRow struct {
	Key string
	N   int
}

func (s *Server) admissionPage(w http.ResponseWriter, r *http.Request, p *page) {
	d := admissionData{Enabled: s.adm != nil}
	counts := map[string]int{}
	for _, action := range []string{"admission." + string(admission.OutcomeDenied), "admission." + string(admission.OutcomeWarned), "admission.break-glass"} {
		evs, err := s.fleet.Store().Events(r.Context(), store.EventFilter{Action: action, Since: time.Now().Add(-7 * 24 * time.Hour), Newest: true, Limit: 200})
		if err != nil {
			s.renderError(w, r, p, http.StatusServiceUnavailable, err.Error())
			return
		}
		d.Events = append(d.Events, evs...)
		for _, e := range evs {
			ns, _, _ := strings.Cut(e.Subject, "/")
			var det struct{ Reason string }
			_ = json.Unmarshal(e.Details, &det)
			counts[strings.TrimPrefix(e.Action, "admission.")+" in "+ns+": "+det.Reason]++
		}
	}
	sort.Slice(d.Events, func(i, j int) bool { return d.Events[i].ID > d.Events[j].ID })
	for k, n := range counts {
		d.ByNS = append(d.ByNS, countRow{k, n})
	}
	sort.Slice(d.ByNS, func(i, j int) bool {
		return d.ByNS[i].N > d.ByNS[j].N || d.ByNS[i].N == d.ByNS[j].N && d.ByNS[i].Key < d.ByNS[j].Key
	})
	p.Title, p.Nav, p.Data = "Admission", "admission", d
	s.render(w, http.StatusOK, "admission.html", p)
}

type queueData struct {
	Stats  []store.QueueStats
	Failed []store.Job
	Recent []store.Job
}

func (s *Server) queuePage(w http.ResponseWriter, r *http.Request, p *page) {
	q := s.fleet.Store().Queue()
	var d queueData
	var err error
	if d.Stats, err = q.Stats(r.Context()); err == nil {
		if d.Failed, err = q.Jobs(r.Context(), store.JobFilter{States: []string{"discarded", "retryable"}, Limit: 100}); err == nil {
			d.Recent, err = q.Jobs(r.Context(), store.JobFilter{Limit: 50})
		}
	}
	if err != nil {
		s.renderError(w, r, p, http.StatusServiceUnavailable, err.Error())
		return
	}
	p.Title, p.Nav, p.Data = "Queue", "queue", d
	s.render(w, http.StatusOK, "queue.html", p)
}

func (s *Server) uiImageAction(w http.ResponseWriter, r *http.Request, p *page) {
	digest, err := pathDigest(r)
	if err != nil {
		s.renderError(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	actor := principalOf(r).name
	back := "/images/" + digest
	switch action := r.PathValue("action"); action {
	case "approve", "reject", "revoke":
		_, err = s.fleet.Decide(r.Context(), digest, fleet.Decision(action), actor, r.PostFormValue("reason"), r.PostFormValue("force") == "on")
	case "reevaluate":
		err = s.fleet.Store().Tx(r.Context(), func(tx *store.Tx) error {
			_, err := tx.Enqueue(fleet.EvaluateArgs{Digest: digest, Reason: fleet.ReasonManual, Period: time.Now().UTC().Format(time.RFC3339Nano), Actor: actor}, store.OnCI(0))
			return err
		})
	default:
		s.renderError(w, r, p, http.StatusNotFound, "no action "+action)
		return
	}
	if err != nil {
		s.renderError(w, r, p, statusOf(err), err.Error())
		return
	}
	s.readYourWrites(r)
	http.Redirect(w, r, back+"?flash="+url.QueryEscape("done: "+r.PathValue("action")), http.StatusSeeOther)
}

func (s *Server) uiException(w http.ResponseWriter, r *http.Request, p *page) {
	e := fleet.Exception{Check: r.PostFormValue("check"), Advisory: r.PostFormValue("advisory"), ImagePattern: r.PostFormValue("image"),
		RepositoryPattern: r.PostFormValue("repository"), Owner: r.PostFormValue("owner"), Reason: r.PostFormValue("reason")}
	if v := r.PostFormValue("expires"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			s.renderError(w, r, p, http.StatusBadRequest, "expires: want a date YYYY-MM-DD")
			return
		}
		e.ExpiresAt = t.Add(24*time.Hour - time.Second)
	} else {
		s.renderError(w, r, p, http.StatusBadRequest, "an exception needs an expiry date")
		return
	}
	if _, err := s.fleet.CreateException(r.Context(), e, principalOf(r).name); err != nil {
		s.renderError(w, r, p, statusOf(err), err.Error())
		return
	}
	back := safeNext(r.PostFormValue("back"))
	http.Redirect(w, r, back+"?flash="+url.QueryEscape("exception created; the images it covers are being judged again"), http.StatusSeeOther)
}

func (s *Server) uiRetry(w http.ResponseWriter, r *http.Request, p *page) {
	id, err := pathID(r, "id")
	if err != nil {
		s.renderError(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.fleet.Store().Queue().RetryJob(r.Context(), id); err != nil {
		s.renderError(w, r, p, statusOf(err), err.Error())
		return
	}
	http.Redirect(w, r, "/queue?flash="+url.QueryEscape(fmt.Sprintf("job %d queued again", id)), http.StatusSeeOther)
}

// statusOf maps a fleet or store error to an HTTP status.
func statusOf(err error) int {
	switch {
	case isNotFound(err):
		return http.StatusNotFound
	case errorsIs(err, fleet.ErrConflict):
		return http.StatusConflict
	case errorsIs(err, fleet.ErrInvalid):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}
