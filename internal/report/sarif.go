package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// securitySeverity is the number GitHub code scanning ranks security alerts by.
var securitySeverity = map[finding.Severity]string{finding.Critical: "9.5", finding.High: "8.0", finding.Medium: "5.5", finding.Low: "3.0", finding.Info: "0.0"}

func sarifLevel(f finding.Finding) string {
	switch {
	case f.Veto || f.Severity >= finding.High:
		return "error"
	case f.Severity == finding.Medium:
		return "warning"
	}
	return "note"
}

// BuildSARIF converts the report to SARIF 2.1.0: one rule per check (with
// its description and fix as help), one result per failing finding located
// at the file in the image (or at the image reference for config findings).
func BuildSARIF(r *Report) *sarif.Report {
	run := sarif.NewRun()
	driver := sarif.NewToolComponent().WithName("shipshape").WithVersion(r.Tool.Version).
		WithInformationURI("https://github.com/shipshape-dev/shipshape")
	run.WithTool(sarif.NewTool().WithDriver(driver))
	target := imageURI(r)
	for _, res := range r.Results {
		m := res.Check
		rule := run.AddRule(m.ID).
			WithName(ruleName(m.Title)).
			WithShortDescription(sarif.NewMultiformatMessageString().WithText(m.Title)).
			WithFullDescription(sarif.NewMultiformatMessageString().WithText(m.Description)).
			WithHelp(sarif.NewMultiformatMessageString().
				WithText(m.Description + "\n\nFix: " + m.Remediation).
				WithMarkdown(fmt.Sprintf("**%s** (%s, default severity %s%s)\n\n%s\n\n**Fix:** %s", m.Title, m.Dimension, m.Severity, vetoNote(m.Veto), m.Description, m.Remediation))).
			WithHelpURI("https://github.com/shipshape-dev/shipshape/blob/main/docs/checks.md#" + strings.ToLower(m.ID))
		props := sarif.NewPropertyBag().Add("precision", "very-high").Add("security-severity", securitySeverity[m.Severity])
		props.AddTag(string(m.Dimension))
		if m.Dimension == finding.Compliance {
			props.AddTag("security")
		}
		rule.WithProperties(props)
		if res.Status != finding.Fail {
			continue
		}
		for _, f := range res.Findings {
			if f.Severity == finding.Info && !f.Veto {
				continue
			}
			// CreateResultForRule (in sarifResult) already adds the result to the run.
			sarifResult(run, f, target, r)
		}
	}
	rep := sarif.NewReport()
	rep.AddRun(run)
	return rep
}

func sarifResult(run *sarif.Run, f finding.Finding, target string, r *Report) *sarif.Result {
	uri, line := target, 1
	var extra []string
	for _, e := range f.Evidence {
		if e.Path != "" && uri == target {
			uri = strings.TrimPrefix(e.Path, "/")
			if e.Line > 0 {
				line = e.Line
			}
		}
		extra = append(extra, e.String())
	}
	msg := f.Title
	if f.Veto {
		msg = "VETO: " + msg
	}
	if len(extra) > 0 {
		msg += "\nEvidence: " + strings.Join(extra, "; ")
	}
	if f.Remediation != "" {
		msg += "\nFix: " + f.Remediation
	}
	loc := sarif.NewPhysicalLocation().
		WithArtifactLocation(sarif.NewSimpleArtifactLocation(uri)).
		WithRegion(sarif.NewRegion().WithStartLine(line))
	fp := f.Fingerprint
	if fp == "" {
		fp = f.ComputeFingerprint()
	}
	sum := sha256.Sum256([]byte(firstNonEmpty(r.Image.Repository(), r.Image.Input) + "\x00" + fp))
	res := run.CreateResultForRule(f.CheckID).
		WithLevel(sarifLevel(f)).
		WithMessage(sarif.NewTextMessage(msg)).
		WithLocations([]*sarif.Location{sarif.NewLocationWithPhysicalLocation(loc)}).
		WithPartialFingerprints(map[string]string{"shipshapeFinding/v2": hex.EncodeToString(sum[:16])})
	props := sarif.NewPropertyBag().Add("severity", f.Severity.String()).Add("veto", f.Veto).Add("image", r.Image.Reference)
	if r.Image.Digest != "" {
		props.Add("image_digest", r.Image.Digest)
	}
	res.WithProperties(props)
	return res
}

func imageURI(r *Report) string {
	ref := firstNonEmpty(r.Image.Reference, r.Image.Input)
	ref = strings.NewReplacer(":", "/", "@", "/").Replace(ref)
	return "image/" + strings.TrimPrefix(ref, "/")
}

func ruleName(title string) string {
	var b strings.Builder
	up := true
	for _, r := range title {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			if up && r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String()
}

func vetoNote(v bool) string {
	if v {
		return ", can veto"
	}
	return ""
}

// WriteSARIF writes the report as SARIF 2.1.0.
func WriteSARIF(w io.Writer, r *Report) error {
	return BuildSARIF(r).PrettyWrite(w)
}
