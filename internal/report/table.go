package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// TableOptions tune the human-readable rendering.
type TableOptions struct {
	Color bool
	// Verbose also lists passed and skipped finding.
	Verbose bool
	// MaxEvidence bounds the findings shown per check (0 means 10).
	MaxFindings int
}

type palette struct{ red, yellow, green, dim, bold, reset string }

func colors(on bool) palette {
	if !on {
		return palette{}
	}
	return palette{"\x1b[31m", "\x1b[33m", "\x1b[32m", "\x1b[2m", "\x1b[1m", "\x1b[0m"}
}

func (p palette) sev(s finding.Severity) string {
	switch s {
	case finding.Critical, finding.High:
		return p.red
	case finding.Medium, finding.Low:
		return p.yellow
	}
	return p.dim
}

// WriteTable writes the report for people: verdict, vetoes first, then each
// dimension with its score and failing finding.
func WriteTable(w io.Writer, r *Report, o TableOptions) error {
	c := colors(o.Color)
	if o.MaxFindings == 0 {
		o.MaxFindings = 10
	}
	var b strings.Builder
	img := r.Image
	fmt.Fprintf(&b, "%sImage%s     %s\n", c.bold, c.reset, firstNonEmpty(img.Reference, img.Input))
	fmt.Fprintf(&b, "Source    %s\n", img.Source)
	switch {
	case img.Digest != "":
		fmt.Fprintf(&b, "Digest    %s (manifest)\n", img.Digest)
	case img.ImageID != "":
		fmt.Fprintf(&b, "Digest    none: a %s carries no manifest (the registry assigns its digest on push)\n", img.Source)
	}
	if img.ImageID != "" {
		fmt.Fprintf(&b, "Image ID  %s (config digest)\n", img.ImageID)
	}
	plat := img.Platform
	if len(img.Platforms) > 0 {
		plat += fmt.Sprintf(" (index: %s)", strings.Join(img.Platforms, ", "))
	}
	fmt.Fprintf(&b, "Platform  %s\n", plat)
	if img.OS != nil {
		fmt.Fprintf(&b, "OS        %s\n", firstNonEmpty(img.OS.PrettyName, img.OS.ID+" "+img.OS.VersionID))
	}
	fmt.Fprintf(&b, "Layers    %d, %d files; %d packages\n\n", len(img.Layers), img.Files, r.Summary.Packages)

	v := r.Verdict
	verdict := c.green + "PASS" + c.reset
	if !v.Pass {
		verdict = c.red + "FAIL" + c.reset
	}
	fmt.Fprintf(&b, "%sVerdict   %s%s  grade %s, score %d/100 (fail on: %s)\n", c.bold, verdict, c.reset, v.Grade, v.Score, v.FailOn)
	if len(v.Vetoes) > 0 {
		fmt.Fprintf(&b, "\n%sVetoes%s\n", c.bold, c.reset)
		for _, f := range v.Vetoes {
			writeFinding(&b, c, f, "  ")
		}
	}
	if len(v.Failing) > 0 {
		fmt.Fprintf(&b, "\n%sFailing at or above %s%s\n", c.bold, v.FailOn, c.reset)
		for _, f := range v.Failing {
			writeFinding(&b, c, f, "  ")
		}
	}
	for _, d := range finding.Dimensions {
		var rs []finding.Result
		for _, res := range r.Results {
			if res.Check.Dimension == d {
				rs = append(rs, res)
			}
		}
		if len(rs) == 0 {
			continue
		}
		score, scored := v.Scores[d]
		head := "not scored"
		if scored {
			head = fmt.Sprintf("%d/100", score)
		}
		fmt.Fprintf(&b, "\n%s%s%s  %s\n", c.bold, strings.ToUpper(string(d)), c.reset, head)
		sort.SliceStable(rs, func(i, j int) bool { return worst(rs[i]) > worst(rs[j]) })
		for _, res := range rs {
			switch res.Status {
			case finding.Pass:
				if len(res.Findings) > 0 { // info observations
					for _, f := range res.Findings {
						fmt.Fprintf(&b, "  %s%-8s%s %-7s %s\n", c.dim, "info", c.reset, res.Check.ID, f.Title)
					}
				} else if o.Verbose {
					fmt.Fprintf(&b, "  %s%-8s%s %-7s %s\n", c.green, "pass", c.reset, res.Check.ID, res.Check.Title)
				}
			case finding.Skipped:
				if o.Verbose {
					fmt.Fprintf(&b, "  %s%-8s %-7s %s: %s%s\n", c.dim, "skipped", res.Check.ID, res.Check.Title, res.Note, c.reset)
				}
			case finding.Errored:
				fmt.Fprintf(&b, "  %s%-8s%s %-7s %s: %s\n", c.red, "error", c.reset, res.Check.ID, res.Check.Title, firstLine(res.Note))
			case finding.Fail:
				for i, f := range res.Findings {
					if i == o.MaxFindings {
						fmt.Fprintf(&b, "  %s... %d more %s findings (see --format json)%s\n", c.dim, len(res.Findings)-i, res.Check.ID, c.reset)
						break
					}
					writeFinding(&b, c, f, "  ")
				}
			}
		}
	}
	if n := len(r.Exceptions.Applied); n > 0 {
		fmt.Fprintf(&b, "\n%sWaived by exceptions%s (%d, not counted in the verdict)\n", c.bold, c.reset, n)
		for _, wv := range r.Exceptions.Applied {
			fmt.Fprintf(&b, "  %-8s %-7s %s\n           reason: %s (expires %s)\n", wv.Finding.Severity, wv.Finding.CheckID, wv.Finding.Title, wv.Reason, firstNonEmpty(wv.Expires, "never"))
		}
	}
	for _, e := range r.Exceptions.Expired {
		fmt.Fprintf(&b, "\n%sExpired exception no longer applied:%s %s (expired %s; reason was: %s)\n", c.yellow, c.reset, e.Rule, e.Expired, e.Reason)
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintf(&b, "\n%sWarnings%s\n", c.bold, c.reset)
		for _, wmsg := range r.Warnings {
			fmt.Fprintf(&b, "  %s\n", wmsg)
		}
	}
	fmt.Fprintf(&b, "\n%sJudged in %.2fs by %s %s. Scores and grade: shipshape check --explain.%s\n", c.dim, r.Duration, r.Tool.Name, r.Tool.Version, c.reset)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeFinding(b *strings.Builder, c palette, f finding.Finding, indent string) {
	veto := ""
	if f.Veto {
		veto = c.red + " VETO" + c.reset
	}
	fmt.Fprintf(b, "%s%s%-8s%s %-7s %s%s\n", indent, c.sev(f.Severity), f.Severity, c.reset, f.CheckID, f.Title, veto)
	for _, e := range f.Evidence {
		if s := e.String(); s != "" {
			fmt.Fprintf(b, "%s%s         evidence: %s%s\n", indent, c.dim, s, c.reset)
		}
	}
	if f.Remediation != "" && f.Severity > finding.Info {
		fmt.Fprintf(b, "%s%s         fix: %s%s\n", indent, c.dim, f.Remediation, c.reset)
	}
}

// worst orders results: failing checks by their highest severity, then the rest.
func worst(r finding.Result) int {
	if r.Status != finding.Fail {
		return -1
	}
	w := 0
	for _, f := range r.Findings {
		w = max(w, int(f.Severity))
	}
	return w
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if strings.TrimSpace(x) != "" {
			return x
		}
	}
	return ""
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
