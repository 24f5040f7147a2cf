package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes one JUnit test case per check, one suite per dimension,
// so that CI test tabs show each failing check with its findings.
func WriteJUnit(w io.Writer, r *Report) error {
	image := firstNonEmpty(r.Image.Reference, r.Image.Input)
	all := junitSuites{Name: "shipshape " + image, Time: fmt.Sprintf("%.3f", r.Duration)}
	for _, d := range finding.Dimensions {
		s := junitSuite{Name: "shipshape." + string(d), Properties: imageProperties(r, image)}
		for _, res := range r.Results {
			if res.Check.Dimension != d {
				continue
			}
			c := junitCase{Name: res.Check.ID + " " + res.Check.Title, Classname: "shipshape." + string(d), Time: "0"}
			switch res.Status {
			case finding.Fail:
				worst, veto := finding.Info, false
				var b strings.Builder
				for _, f := range res.Findings {
					worst = max(worst, f.Severity)
					veto = veto || f.Veto
					fmt.Fprintf(&b, "[%s] %s\n", f.Severity, f.Title)
					for _, e := range f.Evidence {
						fmt.Fprintf(&b, "    evidence: %s\n", e.String())
					}
					if f.Remediation != "" {
						fmt.Fprintf(&b, "    fix: %s\n", f.Remediation)
					}
				}
				kind := worst.String()
				if veto {
					kind = "veto"
				}
				c.Failure = &junitProblem{Message: fmt.Sprintf("%d finding(s), worst %s: %s", len(res.Findings), worst, res.Findings[0].Title), Type: kind, Text: b.String()}
				s.Failures++
			case finding.Errored:
				c.Error = &junitProblem{Message: firstLine(res.Note), Type: "error", Text: res.Note}
				s.Errors++
			case finding.Skipped:
				c.Skipped = &junitSkipped{Message: res.Note}
				s.Skipped++
			default:
				var b strings.Builder
				for _, f := range res.Findings {
					fmt.Fprintf(&b, "%s\n", f.Title)
				}
				c.SystemOut = b.String()
			}
			s.Cases = append(s.Cases, c)
			s.Tests++
		}
		if s.Tests == 0 {
			continue
		}
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Errors += s.Errors
		all.Skipped += s.Skipped
		all.Suites = append(all.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func verdictWord(pass bool) string {
	if pass {
		return "PASS"
	}
	return "FAIL"
}

// imageProperties name the image: the manifest digest (digest, when the
// source carries one) and the config digest (image_id), said apart.
func imageProperties(r *Report, image string) []junitProperty {
	ps := []junitProperty{{"image", image}}
	if r.Image.Digest != "" {
		ps = append(ps, junitProperty{"digest", r.Image.Digest}, junitProperty{"manifest_digest", r.Image.Digest})
	}
	if r.Image.ImageID != "" {
		ps = append(ps, junitProperty{"image_id", r.Image.ImageID})
	}
	return append(ps, junitProperty{"verdict", verdictWord(r.Verdict.Pass)}, junitProperty{"grade", r.Verdict.Grade}, junitProperty{"policy", r.Policy.Digest})
}
