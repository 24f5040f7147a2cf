package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/review"
)

// quarterStart is the first day of t's calendar quarter, the default start
// of a review.
func quarterStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), time.Month((int(t.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
}

// reviewParams reads since (YYYY-MM-DD or RFC 3339; default: the start of
// the current quarter) and format.
func (s *Server) reviewParams(r *http.Request, defFormat string) (time.Time, string, error) {
	q := r.URL.Query()
	since := quarterStart(s.fleet.Now())
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, v); err != nil {
				return since, "", fmt.Errorf("since: want a date (2026-10-01) or an RFC 3339 time, got %q", v)
			}
		}
		since = t.UTC()
	}
	format := q.Get("format")
	if format == "" {
		format = defFormat
	}
	if !slices.Contains(review.Formats, format) {
		return since, "", fmt.Errorf("format: want one of %s, got %q", strings.Join(review.Formats, ", "), format)
	}
	return since, format, nil
}

// review serves the quarterly review in JSON, Markdown, HTML or CSV.
func (s *Server) review(w http.ResponseWriter, r *http.Request) {
	since, format, err := s.reviewParams(r, "json")
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	s.writeReview(w, r, since, format, func(msg string) { s.writeError(w, r, http.StatusBadRequest, "%s", msg) }, func(err error) { s.fail(w, r, err) })
}

func (s *Server) writeReview(w http.ResponseWriter, r *http.Request, since time.Time, format string, bad func(string), fail func(error)) {
	rv, err := review.Build(r.Context(), s.fleet.Store(), since, s.fleet.Now())
	if errors.Is(err, review.ErrInvalid) {
		bad(err.Error())
		return
	} else if err != nil {
		fail(err)
		return
	}
	w.Header().Set("Content-Type", review.ContentType(format))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if format != "json" {
		ext := map[string]string{"markdown": "md", "html": "html", "csv": "csv"}[format]
		w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="shipshape-review-%s.%s"`, since.Format(time.DateOnly), ext))
	}
	if format == "html" {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	}
	if err := rv.Write(w, format); err != nil {
		s.log.Warn("writing the review", "err", err)
	}
}

// reviewData is the dashboard's review page.
type reviewData struct {
	*review.Review
	SinceParam string
	Export     map[string]string // format -> URL
}

func (s *Server) reviewPage(w http.ResponseWriter, r *http.Request, p *page) {
	since, _, err := s.reviewParams(r, "json")
	if err != nil {
		s.renderError(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	rv, err := review.Build(r.Context(), s.fleet.Store(), since, s.fleet.Now())
	if errors.Is(err, review.ErrInvalid) {
		s.renderError(w, r, p, http.StatusBadRequest, err.Error())
		return
	} else if err != nil {
		s.renderError(w, r, p, http.StatusInternalServerError, err.Error())
		return
	}
	d := reviewData{Review: rv, SinceParam: since.Format(time.DateOnly), Export: map[string]string{}}
	for _, f := range []string{"markdown", "html", "csv"} {
		d.Export[f] = "/review/export?" + url.Values{"since": {d.SinceParam}, "format": {f}}.Encode()
	}
	p.Title, p.Nav, p.Data = "Quarterly review", "review", d
	s.render(w, http.StatusOK, "review.html", p)
}

// reviewExport downloads the review from the dashboard (the session's token,
// not a bearer header).
func (s *Server) reviewExport(w http.ResponseWriter, r *http.Request, p *page) {
	since, format, err := s.reviewParams(r, "markdown")
	if err != nil {
		s.renderError(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	s.writeReview(w, r, since, format, func(msg string) { s.renderError(w, r, p, http.StatusBadRequest, msg) },
		func(err error) { s.renderError(w, r, p, http.StatusInternalServerError, err.Error()) })
}
