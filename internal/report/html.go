package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"sort"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

//go:embed templates/report.html.tmpl
var templates embed.FS

var htmlTmpl = template.Must(template.ParseFS(templates, "templates/report.html.tmpl"))

type htmlScore struct {
	Name  string
	Score int
	Dash  string
	Color string
}

type htmlData struct {
	Verdict, Image, Grade, FailOn, Digest, Platform, OS, Version, Policy, Time string
	Score, Layers, Files, Packages                                             int
	Scores                                                                     []htmlScore
	Vetoes, Findings, Vulns                                                    []finding.Finding
	Dimensions                                                                 []finding.Dimension
	Severities                                                                 []string
	Waivers                                                                    []finding.Waiver
	SBOM                                                                       []inventory.Package
}

// WriteHTML writes one self-contained HTML page (no network fetches): verdict,
// a chart per dimension, findings filterable by dimension and severity, the
// vulnerability and package tables and the evidence for each veto.
func WriteHTML(w io.Writer, r *Report) error {
	d := htmlData{
		Verdict: verdictWord(r.Verdict.Pass), Image: firstNonEmpty(r.Image.Reference, r.Image.Input), Grade: r.Verdict.Grade,
		FailOn: r.Verdict.FailOn, Digest: r.Image.Digest, Platform: r.Image.Platform, Version: r.Tool.Version,
		Policy: r.Policy.Source + " " + r.Policy.Digest, Time: r.Time.Format("2006-01-02 15:04 MST"),
		Score: r.Verdict.Score, Layers: len(r.Image.Layers), Files: r.Image.Files, Packages: r.Summary.Packages,
		Vetoes: r.Verdict.Vetoes, Dimensions: finding.Dimensions, Waivers: r.Exceptions.Applied, SBOM: r.Summary.PackageList,
		Severities: []string{"critical", "high", "medium", "low", "info"},
	}
	if r.Image.OS != nil {
		d.OS = firstNonEmpty(r.Image.OS.PrettyName, r.Image.OS.ID+" "+r.Image.OS.VersionID)
	}
	for _, dim := range finding.Dimensions {
		sc, ok := r.Verdict.Scores[dim]
		if !ok {
			continue
		}
		color := "#1a7f37"
		switch {
		case sc < 60:
			color = "#cf222e"
		case sc < 80:
			color = "#bf8700"
		}
		d.Scores = append(d.Scores, htmlScore{Name: string(dim), Score: sc, Dash: fmt.Sprintf("%.2f", 314.16*float64(sc)/100), Color: color})
	}
	for _, res := range r.Results {
		for _, f := range res.Findings {
			if f.Vulnerability != "" {
				d.Vulns = append(d.Vulns, f)
			}
			d.Findings = append(d.Findings, f)
		}
	}
	sort.SliceStable(d.Findings, func(i, j int) bool { return d.Findings[i].Severity > d.Findings[j].Severity })
	sort.SliceStable(d.Vulns, func(i, j int) bool { return d.Vulns[i].Severity > d.Vulns[j].Severity })
	return htmlTmpl.Execute(w, d)
}
