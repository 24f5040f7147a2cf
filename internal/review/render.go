package review

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// Formats the review renders to.
var Formats = []string{"json", "markdown", "html", "csv"}

// ContentType is the media type of a format.
func ContentType(format string) string {
	switch format {
	case "markdown":
		return "text/markdown; charset=utf-8"
	case "html":
		return "text/html; charset=utf-8"
	case "csv":
		return "text/csv; charset=utf-8"
	}
	return "application/json"
}

// Write renders r in format (json, markdown, html or csv).
func (r *Review) Write(w io.Writer, format string) error {
	switch format {
	case "json", "":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "markdown":
		return r.Markdown(w)
	case "html":
		return htmlDoc.Execute(w, r)
	case "csv":
		return r.CSV(w)
	}
	return fmt.Errorf("%w: format %q: want one of %s", ErrInvalid, format, strings.Join(Formats, ", "))
}

func date(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateOnly)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// md escapes text for a Markdown table cell: no HTML, no table breaks.
func md(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	r := strings.NewReplacer(`\`, `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;", "&", "&amp;", "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`)
	return orDash(r.Replace(s))
}

// Markdown writes the review as a Markdown document.
func (r *Review) Markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Quarterly review: %s to %s\n\n", date(r.Since), date(r.Now))
	fmt.Fprintf(&b, "Generated %s. %d production images, %d retired or revoked since %s, %d expiries before %s, %d exceptions granted.\n\n",
		r.Now.Format(time.RFC3339), len(r.Production), len(r.Ended), date(r.Since), len(r.Expiring), date(r.Until), len(r.Granted))
	fmt.Fprintf(&b, "## Production images\n\nEvery image approved or expiring now, with the evaluation in force on %s and the latest.\n\n", date(r.Since))
	if len(r.Production) == 0 {
		b.WriteString("None.\n\n")
	} else {
		b.WriteString("| Image | Digest | State then | Verdict then | State now | Verdict now | Valid until | Failing |\n|---|---|---|---|---|---|---|---|\n")
		for _, im := range r.Production {
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | %s | %s | %s |\n", md(im.Name()), im.Digest, md(im.StateThen), md(im.Then.String()),
				md(im.State), md(im.Now.String()), date(im.ValidUntil), md(strings.Join(im.Failing, "; ")))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "## Retired or revoked since %s\n\n", date(r.Since))
	if len(r.Ended) == 0 {
		b.WriteString("None.\n\n")
	} else {
		b.WriteString("| Date | Image | Digest | What | By | Why | State now |\n|---|---|---|---|---|---|---|\n")
		for _, e := range r.Ended {
			fmt.Fprintf(&b, "| %s | %s | `%s` | %s | %s | %s | %s |\n", date(e.At), md(e.Name()), e.Digest, e.State, md(e.Actor), md(e.Reason), md(e.StateNow))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "## Expiring before %s\n\n", date(r.Until))
	if len(r.Expiring) == 0 {
		b.WriteString("None.\n\n")
	} else {
		b.WriteString("| Date | Kind | What | State | Reason |\n|---|---|---|---|---|\n")
		for _, e := range r.Expiring {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", date(e.At), e.Kind, md(e.Subject()), md(e.State), md(e.Reason))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "## Exceptions granted since %s\n\n", date(r.Since))
	if len(r.Granted) == 0 {
		b.WriteString("None.\n")
	} else {
		b.WriteString("| Granted | By | Exception | Waives | Scope | Owner | Reason | Expires | Status |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, g := range r.Granted {
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s | %s |\n", date(g.At), md(g.By), g.ID, md(g.Waives), md(g.Scope), md(g.Owner), md(g.Reason), date(g.ExpiresAt), g.Status)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// CSVHeader is the CSV's first row: one table, one row per entry, its
// section first.
var CSVHeader = []string{"section", "date", "image", "digest", "state_then", "verdict_then", "grade_then", "state", "verdict", "grade",
	"valid_until", "actor", "exception", "waives", "scope", "owner", "reason"}

// CSV writes the review as one table for a spreadsheet. Cells that a
// spreadsheet would run as a formula are prefixed with a quote.
func (r *Review) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	write := func(m map[string]string) {
		row := make([]string, len(CSVHeader))
		for i, k := range CSVHeader {
			row[i] = cell(m[k])
		}
		_ = cw.Write(row)
	}
	_ = cw.Write(CSVHeader)
	v := func(x *Verdict) (string, string) {
		if x == nil {
			return "", ""
		}
		return x.Verdict, x.Grade
	}
	for _, im := range r.Production {
		vt, gt := v(im.Then)
		vn, gn := v(im.Now)
		at := ""
		if im.Now != nil {
			at = date(im.Now.EvaluatedAt)
		}
		write(map[string]string{"section": "production", "date": at, "image": im.Name(), "digest": im.Digest, "state_then": im.StateThen,
			"verdict_then": vt, "grade_then": gt, "state": im.State, "verdict": vn, "grade": gn, "valid_until": dateOr(im.ValidUntil),
			"reason": strings.Join(im.Failing, "; ")})
	}
	for _, e := range r.Ended {
		write(map[string]string{"section": e.State, "date": date(e.At), "image": e.Name(), "digest": e.Digest, "state": e.StateNow, "actor": e.Actor, "reason": e.Reason})
	}
	for _, e := range r.Expiring {
		m := map[string]string{"section": "expiring " + e.Kind, "date": date(e.At), "state": e.State, "reason": e.Reason, "waives": e.Waives, "scope": e.Scope, "owner": e.Owner}
		if e.Kind == "exception" {
			m["exception"] = fmt.Sprint(e.Exception)
		} else {
			m["image"], m["digest"] = name(e.Repository, e.Tag, e.Digest), e.Digest
		}
		write(m)
	}
	for _, g := range r.Granted {
		write(map[string]string{"section": "exception granted", "date": date(g.At), "actor": g.By, "exception": fmt.Sprint(g.ID), "waives": g.Waives,
			"scope": g.Scope, "owner": g.Owner, "reason": g.Reason, "valid_until": dateOr(g.ExpiresAt), "state": g.Status})
	}
	cw.Flush()
	return cw.Error()
}

func dateOr(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return date(t)
}

// cell defuses spreadsheet formulas (CSV injection).
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

var funcs = template.FuncMap{"date": date, "dash": orDash, "join": strings.Join}

// Sections is the review's body in the standalone HTML document (the
// dashboard's page is internal/server/web/review.html).
const Sections = `{{define "review-sections"}}
<section id="production"><h2>Production images</h2>
<p>Every image approved or expiring now, with the evaluation in force on {{date .Since}} and the latest.</p>
<table><thead><tr><th>Image</th><th>State then</th><th>Verdict then</th><th>State now</th><th>Verdict now</th><th>Valid until</th><th>Failing</th></tr></thead><tbody>
{{range .Production}}<tr{{if .Changed}} class="changed"{{end}}><td><a href="/images/{{.Digest}}">{{.Name}}</a><br><code>{{.Digest}}</code></td><td>{{dash .StateThen}}</td><td>{{.Then}}</td><td>{{.State}}</td><td>{{.Now}}</td><td>{{date .ValidUntil}}</td><td>{{join .Failing "; "}}</td></tr>
{{else}}<tr><td colspan="7">No image is in production.</td></tr>{{end}}</tbody></table></section>
<section id="ended"><h2>Retired or revoked since {{date .Since}}</h2>
<table><thead><tr><th>Date</th><th>Image</th><th>What</th><th>By</th><th>Why</th><th>State now</th></tr></thead><tbody>
{{range .Ended}}<tr><td>{{date .At}}</td><td><a href="/images/{{.Digest}}">{{.Name}}</a></td><td>{{.State}}</td><td>{{.Actor}}</td><td>{{.Reason}}</td><td>{{dash .StateNow}}</td></tr>
{{else}}<tr><td colspan="6">None.</td></tr>{{end}}</tbody></table></section>
<section id="expiring"><h2>Expiring before {{date .Until}}</h2>
<table><thead><tr><th>Date</th><th>Kind</th><th>What</th><th>State</th><th>Reason</th></tr></thead><tbody>
{{range .Expiring}}<tr><td>{{date .At}}</td><td>{{.Kind}}</td><td>{{if .Digest}}<a href="/images/{{.Digest}}">{{.Subject}}</a>{{else}}{{.Subject}}{{end}}</td><td>{{dash .State}}</td><td>{{.Reason}}</td></tr>
{{else}}<tr><td colspan="5">Nothing expires in the next quarter.</td></tr>{{end}}</tbody></table></section>
<section id="granted"><h2>Exceptions granted since {{date .Since}}</h2>
<table><thead><tr><th>Granted</th><th>By</th><th>Exception</th><th>Waives</th><th>Scope</th><th>Owner</th><th>Reason</th><th>Expires</th><th>Status</th></tr></thead><tbody>
{{range .Granted}}<tr><td>{{date .At}}</td><td>{{.By}}</td><td>{{.ID}}</td><td>{{.Waives}}</td><td>{{.Scope}}</td><td>{{.Owner}}</td><td>{{.Reason}}</td><td>{{date .ExpiresAt}}</td><td>{{.Status}}</td></tr>
{{else}}<tr><td colspan="9">None.</td></tr>{{end}}</tbody></table></section>
{{end}}`

var htmlDoc = template.Must(template.New("doc").Funcs(funcs).Parse(Sections + `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Quarterly review {{date .Since}} to {{date .Now}} · shipshape</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin-bottom:2em;width:100%}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top;font-size:.9em}th{background:#f3f3f3}
tr.changed td{background:#fff7e0}code{font-size:.8em;word-break:break-all}</style></head>
<body><h1>Quarterly review: {{date .Since}} to {{date .Now}}</h1>
<p>Generated {{.Now.Format "2006-01-02T15:04:05Z07:00"}}. {{len .Production}} production images, {{len .Ended}} retired or revoked, {{len .Expiring}} expiries before {{date .Until}}, {{len .Granted}} exceptions granted. Rows whose verdict changed are highlighted.</p>
{{template "review-sections" .}}
<p>Signed off by: ____________________ Date: ____________</p>
</body></html>
`))
