package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/checks"
)

// maxListed bounds the rows of each list in the table and Markdown output.
const maxListed = 50

// WriteJSON writes the diff as indented JSON.
func WriteJSON(w io.Writer, d *Diff) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// WriteTable writes the diff for people.
func WriteTable(w io.Writer, d *Diff) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Baseline   %s  %s (grade %s)\nCandidate  %s  %s (grade %s)\n", d.Baseline, word(d.BaselinePass), d.BaselineGrade, d.Candidate, word(d.CandidatePass), d.CandidateGrade)
	section(&b, "Verdict and scores", d.Verdict)
	section(&b, "Configuration", d.Config)
	findingList(&b, "New findings", "+", d.FindingsAdded)
	findingList(&b, "Resolved findings", "-", d.FindingsResolved)
	findingList(&b, "New vulnerabilities", "+", d.VulnsAdded)
	findingList(&b, "Fixed vulnerabilities", "-", d.VulnsFixed)
	pkgList(&b, "Packages added", d.PackagesAdded)
	pkgList(&b, "Packages removed", d.PackagesRemoved)
	pkgList(&b, "Packages changed", d.PackagesChanged)
	_, err := io.WriteString(w, b.String())
	return err
}

func section(b *strings.Builder, title string, cs []Change) {
	if len(cs) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s\n", title)
	for _, c := range cs {
		fmt.Fprintf(b, "  %-24s %s -> %s\n", c.Field, orNone(c.Baseline), orNone(c.Candidate))
	}
}

func findingList(b *strings.Builder, title, sign string, fs []checks.Finding) {
	if len(fs) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s (%d)\n", title, len(fs))
	for i, f := range fs {
		if i == maxListed {
			fmt.Fprintf(b, "  ... %d more (see --format json)\n", len(fs)-i)
			break
		}
		veto := ""
		if f.Veto {
			veto = " VETO"
		}
		fmt.Fprintf(b, "  %s %-8s %-7s %s%s\n", sign, f.Severity, f.CheckID, f.Title, veto)
	}
}

func pkgList(b *strings.Builder, title string, ps []PackageChange) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s (%d)\n", title, len(ps))
	for i, p := range ps {
		if i == maxListed {
			fmt.Fprintf(b, "  ... %d more (see --format json)\n", len(ps)-i)
			break
		}
		fmt.Fprintf(b, "  %-10s %-40s %s\n", p.Ecosystem, p.Name, versions(p))
	}
}

func versions(p PackageChange) string {
	switch {
	case p.Baseline == "":
		return p.Candidate
	case p.Candidate == "":
		return p.Baseline
	}
	return p.Baseline + " -> " + p.Candidate
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// WriteMarkdown writes the diff as a pull-request comment.
func WriteMarkdown(w io.Writer, d *Diff) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### shipshape diff: `%s` → `%s`\n\n", d.Baseline, d.Candidate)
	fmt.Fprintf(&b, "| | Baseline | Candidate |\n|---|---|---|\n| verdict | %s | %s |\n| grade | %s | %s |\n", word(d.BaselinePass), word(d.CandidatePass), d.BaselineGrade, d.CandidateGrade)
	for _, c := range append(append([]Change{}, d.Verdict...), d.Config...) {
		if c.Field == "verdict" || c.Field == "grade" {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", c.Field, cell(orNone(c.Baseline)), cell(orNone(c.Candidate)))
	}
	mdFindings := func(title string, fs []checks.Finding) {
		if len(fs) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n<details><summary>%s (%d)</summary>\n\n", title, len(fs))
		for i, f := range fs {
			if i == maxListed {
				fmt.Fprintf(&b, "- … %d more\n", len(fs)-i)
				break
			}
			fmt.Fprintf(&b, "- **%s** `%s` %s\n", f.Severity, f.CheckID, cell(f.Title))
		}
		b.WriteString("\n</details>\n")
	}
	mdFindings("New findings", d.FindingsAdded)
	mdFindings("Resolved findings", d.FindingsResolved)
	mdFindings("New vulnerabilities", d.VulnsAdded)
	mdFindings("Fixed vulnerabilities", d.VulnsFixed)
	mdPkgs := func(title string, ps []PackageChange) {
		if len(ps) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n<details><summary>%s (%d)</summary>\n\n| Ecosystem | Package | Version |\n|---|---|---|\n", title, len(ps))
		for i, p := range ps {
			if i == maxListed {
				fmt.Fprintf(&b, "| … | %d more | |\n", len(ps)-i)
				break
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", p.Ecosystem, cell(p.Name), cell(versions(p)))
		}
		b.WriteString("\n</details>\n")
	}
	mdPkgs("Packages added", d.PackagesAdded)
	mdPkgs("Packages removed", d.PackagesRemoved)
	mdPkgs("Packages changed", d.PackagesChanged)
	_, err := io.WriteString(w, b.String())
	return err
}

func cell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ", "<", "&lt;").Replace(s)
}
