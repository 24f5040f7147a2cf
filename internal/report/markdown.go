package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// mdTop is how many findings the summary lists before the details.
const mdTop = 15

// WriteMarkdown writes a summary that fits a pull-request comment: verdict,
// scores, vetoes, the top findings, then collapsible details per dimension.
func WriteMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	image := firstNonEmpty(r.Image.Reference, r.Image.Input)
	icon := "✅"
	if !r.Verdict.Pass {
		icon = "❌"
	}
	fmt.Fprintf(&b, "### %s shipshape: **%s** for `%s`, grade **%s** (%d/100)\n\n", icon, verdictWord(r.Verdict.Pass), mdCode(image), r.Verdict.Grade, r.Verdict.Score)
	if r.Image.Digest != "" {
		fmt.Fprintf(&b, "Manifest digest `%s` · ", r.Image.Digest)
	}
	if r.Image.ImageID != "" {
		fmt.Fprintf(&b, "image ID (config digest) `%s` · ", r.Image.ImageID)
	}
	fmt.Fprintf(&b, "platform `%s`", r.Image.Platform)
	if r.Image.OS != nil {
		fmt.Fprintf(&b, " · %s", firstNonEmpty(r.Image.OS.PrettyName, r.Image.OS.ID))
	}
	b.WriteString("\n\n| Dimension | Score |\n|---|---|\n")
	for _, d := range finding.Dimensions {
		if sc, ok := r.Verdict.Scores[d]; ok {
			fmt.Fprintf(&b, "| %s | %d |\n", d, sc)
		}
	}
	if len(r.Verdict.Vetoes) > 0 {
		b.WriteString("\n**Vetoes**\n\n")
		for _, f := range r.Verdict.Vetoes {
			mdFinding(&b, f)
		}
	}
	if len(r.Verdict.Failing) > 0 {
		fmt.Fprintf(&b, "\n**Failing at or above %s**\n\n", r.Verdict.FailOn)
		for _, f := range r.Verdict.Failing {
			mdFinding(&b, f)
		}
	}
	var all []finding.Finding
	for _, res := range r.Results {
		if res.Status == finding.Fail {
			for _, f := range res.Findings {
				if !f.Veto && f.Severity > finding.Info {
					all = append(all, f)
				}
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Severity > all[j].Severity })
	if len(all) > 0 {
		fmt.Fprintf(&b, "\n**Top findings** (%d in all)\n\n", len(all))
		for i, f := range all {
			if i == mdTop {
				fmt.Fprintf(&b, "- … and %d more below\n", len(all)-mdTop)
				break
			}
			mdFinding(&b, f)
		}
	}
	for _, d := range finding.Dimensions {
		var rows []string
		for _, res := range r.Results {
			if res.Check.Dimension != d {
				continue
			}
			switch res.Status {
			case finding.Fail:
				for _, f := range res.Findings {
					rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s |", f.Severity, f.CheckID, mdCell(f.Title), mdCell(evidenceLine(f))))
				}
			case finding.Errored, finding.Skipped:
				rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s |", res.Status, res.Check.ID, mdCell(res.Check.Title), mdCell(firstLine(res.Note))))
			}
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n<details><summary>%s: %d row(s)</summary>\n\n| Severity | Check | Finding | Evidence |\n|---|---|---|---|\n%s\n\n</details>\n", d, len(rows), strings.Join(rows, "\n"))
	}
	if n := len(r.Exceptions.Applied); n > 0 {
		fmt.Fprintf(&b, "\n<details><summary>%d finding(s) waived by exceptions</summary>\n\n", n)
		for _, wv := range r.Exceptions.Applied {
			fmt.Fprintf(&b, "- %s %s — %s (expires %s)\n", wv.Finding.CheckID, mdCell(wv.Finding.Title), mdCell(wv.Reason), firstNonEmpty(wv.Expires, "never"))
		}
		b.WriteString("\n</details>\n")
	}
	for _, e := range r.Exceptions.Expired {
		fmt.Fprintf(&b, "\n> ⚠️ expired exception no longer applied: %s (expired %s)\n", mdCell(e.Rule), e.Expired)
	}
	fmt.Fprintf(&b, "\n<sub>shipshape %s · policy %s (%s)</sub>\n", r.Tool.Version, r.Policy.Source, r.Policy.Digest)
	_, err := io.WriteString(w, b.String())
	return err
}

func mdFinding(b *strings.Builder, f finding.Finding) {
	veto := ""
	if f.Veto {
		veto = " **VETO**"
	}
	fmt.Fprintf(b, "- **%s** `%s` %s%s", f.Severity, f.CheckID, mdCell(f.Title), veto)
	if ev := evidenceLine(f); ev != "" {
		fmt.Fprintf(b, " — %s", mdCell(ev))
	}
	b.WriteString("\n")
}

func evidenceLine(f finding.Finding) string {
	var parts []string
	for _, e := range f.Evidence {
		if s := e.String(); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "<", "&lt;")
	return s
}

func mdCode(s string) string { return strings.ReplaceAll(s, "`", "'") }
