// Package diff compares two reports: the image in production (baseline) and
// the candidate that would replace it.
package diff

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/report"
)

// Change is a value that differs between baseline and candidate.
type Change struct {
	Field     string `json:"field"`
	Baseline  string `json:"baseline"`
	Candidate string `json:"candidate"`
}

// PackageChange is a package added, removed or changed in version.
type PackageChange struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Baseline  string `json:"baseline,omitempty"`
	Candidate string `json:"candidate,omitempty"`
}

// Diff is what changed from baseline to candidate.
type Diff struct {
	Schema    string `json:"schema"`
	Baseline  string `json:"baseline"`
	Candidate string `json:"candidate"`
	// Verdict and score changes, per dimension too.
	Verdict []Change `json:"verdict"`
	// Config: user, entrypoint, cmd, ports, healthcheck, size, layers.
	Config           []Change         `json:"config,omitempty"`
	FindingsAdded    []checks.Finding `json:"findings_added,omitempty"`
	FindingsResolved []checks.Finding `json:"findings_resolved,omitempty"`
	PackagesAdded    []PackageChange  `json:"packages_added,omitempty"`
	PackagesRemoved  []PackageChange  `json:"packages_removed,omitempty"`
	PackagesChanged  []PackageChange  `json:"packages_changed,omitempty"`
	VulnsAdded       []checks.Finding `json:"vulnerabilities_added,omitempty"`
	VulnsFixed       []checks.Finding `json:"vulnerabilities_fixed,omitempty"`
	CandidatePass    bool             `json:"candidate_pass"`
	BaselinePass     bool             `json:"baseline_pass"`
	CandidateGrade   string           `json:"candidate_grade"`
	BaselineGrade    string           `json:"baseline_grade"`
}

// Schema identifies the diff JSON format.
const Schema = "https://shipshape.dev/schemas/diff/v1"

// Compare computes the diff of two reports.
func Compare(base, cand *report.Report) *Diff {
	d := &Diff{
		Schema:   Schema,
		Baseline: name(base), Candidate: name(cand),
		BaselinePass: base.Verdict.Pass, CandidatePass: cand.Verdict.Pass,
		BaselineGrade: base.Verdict.Grade, CandidateGrade: cand.Verdict.Grade,
	}
	add := func(list *[]Change, field, a, b string) {
		if a != b {
			*list = append(*list, Change{field, a, b})
		}
	}
	add(&d.Verdict, "verdict", word(base.Verdict.Pass), word(cand.Verdict.Pass))
	add(&d.Verdict, "grade", base.Verdict.Grade, cand.Verdict.Grade)
	add(&d.Verdict, "score", fmt.Sprint(base.Verdict.Score), fmt.Sprint(cand.Verdict.Score))
	for _, dim := range checks.Dimensions {
		a, aok := base.Verdict.Scores[dim]
		b, bok := cand.Verdict.Scores[dim]
		if aok || bok {
			add(&d.Verdict, "score."+string(dim), score(a, aok), score(b, bok))
		}
	}
	bc, cc := base.Image.Config, cand.Image.Config
	add(&d.Config, "user", bc.User, cc.User)
	add(&d.Config, "entrypoint", strings.Join(bc.Entrypoint, " "), strings.Join(cc.Entrypoint, " "))
	add(&d.Config, "cmd", strings.Join(bc.Cmd, " "), strings.Join(cc.Cmd, " "))
	add(&d.Config, "exposed_ports", strings.Join(bc.ExposedPorts, " "), strings.Join(cc.ExposedPorts, " "))
	add(&d.Config, "healthcheck", strings.Join(bc.Healthcheck, " "), strings.Join(cc.Healthcheck, " "))
	add(&d.Config, "layers", fmt.Sprint(len(base.Image.Layers)), fmt.Sprint(len(cand.Image.Layers)))
	add(&d.Config, "size", size(base), size(cand))
	add(&d.Config, "os", osName(base), osName(cand))
	d.FindingsAdded, d.FindingsResolved = findingDelta(base, cand, false)
	d.VulnsAdded, d.VulnsFixed = findingDelta(base, cand, true)
	d.PackagesAdded, d.PackagesRemoved, d.PackagesChanged = packageDelta(base, cand)
	return d
}

func name(r *report.Report) string {
	if r.Image.Reference != "" {
		return r.Image.Reference
	}
	return r.Image.Input
}

func word(pass bool) string {
	if pass {
		return "PASS"
	}
	return "FAIL"
}

func score(v int, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprint(v)
}

func size(r *report.Report) string {
	var n int64
	for _, l := range r.Image.Layers {
		n += l.UncompressedSize
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

func osName(r *report.Report) string {
	if r.Image.OS == nil {
		return ""
	}
	if r.Image.OS.PrettyName != "" {
		return r.Image.OS.PrettyName
	}
	return r.Image.OS.ID + " " + r.Image.OS.VersionID
}

// findingKey identifies a finding across images: check, title and evidence
// paths, not layers or digests (which always differ between builds).
func findingKey(f checks.Finding) string {
	if f.Vulnerability != "" {
		return f.CheckID + "\x00" + f.Vulnerability + "\x00" + f.Package
	}
	var paths []string
	for _, e := range f.Evidence {
		paths = append(paths, e.Path+"|"+e.Field)
	}
	// Digests name the build, not the problem: "not signed under sha256:..." is
	// the same finding on both images.
	title := digestRE.ReplaceAllString(f.Title, "sha256:*")
	return f.CheckID + "\x00" + title + "\x00" + strings.Join(paths, ",")
}

var digestRE = regexp.MustCompile(`sha256:[0-9a-f]{6,64}`)

func findings(r *report.Report, vulns bool) map[string]checks.Finding {
	out := map[string]checks.Finding{}
	for _, res := range r.Results {
		if res.Status != checks.Fail {
			continue
		}
		for _, f := range res.Findings {
			if (f.Vulnerability != "") != vulns || f.Severity == checks.Info && !f.Veto {
				continue
			}
			out[findingKey(f)] = f
		}
	}
	return out
}

func findingDelta(base, cand *report.Report, vulns bool) (added, resolved []checks.Finding) {
	a, b := findings(base, vulns), findings(cand, vulns)
	for k, f := range b {
		if _, ok := a[k]; !ok {
			added = append(added, f)
		}
	}
	for k, f := range a {
		if _, ok := b[k]; !ok {
			resolved = append(resolved, f)
		}
	}
	sortFindings(added)
	sortFindings(resolved)
	return added, resolved
}

func sortFindings(fs []checks.Finding) {
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Severity != fs[j].Severity {
			return fs[i].Severity > fs[j].Severity
		}
		if fs[i].CheckID != fs[j].CheckID {
			return fs[i].CheckID < fs[j].CheckID
		}
		return fs[i].Title < fs[j].Title
	})
}

func packageDelta(base, cand *report.Report) (added, removed, changed []PackageChange) {
	index := func(r *report.Report) map[string]PackageChange {
		m := map[string]PackageChange{}
		for _, p := range r.Summary.PackageList {
			k := p.Ecosystem + "\x00" + p.Name
			if prev, ok := m[k]; ok && prev.Baseline != p.Version {
				// Several versions of one package (nested node_modules): keep them all.
				k += "\x00" + p.Version
			}
			m[k] = PackageChange{Ecosystem: p.Ecosystem, Name: p.Name, Baseline: p.Version}
		}
		return m
	}
	a, b := index(base), index(cand)
	for k, p := range b {
		if old, ok := a[k]; !ok {
			added = append(added, PackageChange{Ecosystem: p.Ecosystem, Name: p.Name, Candidate: p.Baseline})
		} else if old.Baseline != p.Baseline {
			changed = append(changed, PackageChange{Ecosystem: p.Ecosystem, Name: p.Name, Baseline: old.Baseline, Candidate: p.Baseline})
		}
	}
	for k, p := range a {
		if _, ok := b[k]; !ok {
			removed = append(removed, p)
		}
	}
	for _, l := range [][]PackageChange{added, removed, changed} {
		sort.Slice(l, func(i, j int) bool {
			if l[i].Ecosystem != l[j].Ecosystem {
				return l[i].Ecosystem < l[j].Ecosystem
			}
			return l[i].Name < l[j].Name
		})
	}
	return added, removed, changed
}
