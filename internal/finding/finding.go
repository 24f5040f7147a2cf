// Package finding is shipshape's model of a judgement: severities, the five
// dimensions, check metadata, evidence, findings with stable fingerprints,
// check results, waivers and the verdict. Checks produce it, the policy
// rewrites it, reports render it and the service stores it. It imports
// nothing of shipshape's own.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Dimension is one of the five areas an image is judged on.
type Dimension string

// The dimensions, in report order.
const (
	Security        Dimension = "security"
	Reliability     Dimension = "reliability"
	Maintainability Dimension = "maintainability"
	Compliance      Dimension = "compliance"
	Fit             Dimension = "fit"
)

// Dimensions lists the dimensions in report order.
var Dimensions = []Dimension{Security, Reliability, Maintainability, Compliance, Fit}

// String returns the dimension's name.
func (d Dimension) String() string { return string(d) }

// MarshalJSON keeps the type's name stable in reports.
func (d Dimension) MarshalJSON() ([]byte, error) { return json.Marshal(string(d)) }

// Severity ranks findings.
type Severity int

// Severities, lowest first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = []string{"info", "low", "medium", "high", "critical"}

// String returns the severity's name.
func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(s, n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want one of %s)", s, strings.Join(severityNames, ", "))
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// Meta describes a check.
type Meta struct {
	ID        string    `json:"id"`
	Dimension Dimension `json:"dimension"`
	Title     string    `json:"title"`
	// Severity is the default severity of the check's findings; a finding may carry another.
	Severity Severity `json:"severity"`
	// Veto says the check can fail the image outright under the default policy.
	Veto bool `json:"veto"`
	// Description says what the check decides and how.
	Description string `json:"description"`
	// Remediation is the general fix; findings may give a more exact one.
	Remediation string `json:"remediation"`
}

// Evidence points at what a finding is about.
type Evidence struct {
	Path string `json:"path,omitempty"`
	// Layer is the index of the layer, nil when the evidence is not in a layer.
	Layer       *int   `json:"layer,omitempty"`
	LayerDigest string `json:"layer_digest,omitempty"`
	Line        int    `json:"line,omitempty"`
	// Field names a config field ("Config.User", "history[3]").
	Field string `json:"field,omitempty"`
	// Value is the value seen, masked where it is a secret.
	Value string `json:"value,omitempty"`
}

// String renders the evidence on one line.
func (e Evidence) String() string {
	var parts []string
	if e.Path != "" {
		parts = append(parts, e.Path)
	}
	if e.Line > 0 {
		parts = append(parts, fmt.Sprintf("line %d", e.Line))
	}
	if e.Field != "" {
		parts = append(parts, e.Field)
	}
	if e.Value != "" {
		parts = append(parts, fmt.Sprintf("%q", e.Value))
	}
	if e.Layer != nil {
		l := fmt.Sprintf("layer %d", *e.Layer)
		if e.LayerDigest != "" {
			l += " " + ShortDigest(e.LayerDigest)
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, " ")
}

// ShortDigest shortens "sha256:abcdef..." to its algorithm and 12 hex digits.
func ShortDigest(d string) string {
	if i := strings.Index(d, ":"); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}

// Finding is one problem (or, for info checks, one observation).
type Finding struct {
	CheckID     string     `json:"check_id"`
	Dimension   Dimension  `json:"dimension"`
	Severity    Severity   `json:"severity"`
	Veto        bool       `json:"veto"`
	Title       string     `json:"title"`
	Evidence    []Evidence `json:"evidence,omitempty"`
	Remediation string     `json:"remediation,omitempty"`
	// Package names the package the finding is about, when there is one.
	Package string `json:"package,omitempty"`
	// Vulnerability is the advisory id (with its aliases in Aliases), for SEC-020.
	Vulnerability string   `json:"vulnerability,omitempty"`
	Aliases       []string `json:"aliases,omitempty"`
	// Subject names what the finding is about when neither a package, an
	// advisory nor an evidence path or field tells two findings of one check
	// apart (an environment variable's name, a port). It must not hold a
	// tag, a title or a layer digest: it is part of the fingerprint.
	Subject string `json:"subject,omitempty"`
	// Fingerprint identifies the finding across scans and re-evaluations;
	// see Fingerprint. Set by checks.Run and the policy.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// Identity returns the parts that make the finding what it is: the check,
// then the advisory and package for a vulnerability (wherever the package
// sits in the image), else the subject, else the package and the first
// evidence path or config field. Titles, values, tags and layers are never
// part of it, so a finding keeps its identity when an image is rebuilt,
// retagged or re-judged.
func (f *Finding) Identity() string {
	id := strings.ToUpper(f.CheckID)
	switch {
	case f.Vulnerability != "":
		return id + "|vuln|" + f.Vulnerability + "|" + f.Package
	case f.Subject != "":
		return id + "|subject|" + f.Subject
	}
	where := ""
	for _, e := range f.Evidence {
		if e.Path != "" {
			where = "path|" + e.Path
			break
		}
	}
	if where == "" {
		for _, e := range f.Evidence {
			if e.Field != "" {
				where = "field|" + e.Field
				break
			}
		}
	}
	return id + "|" + f.Package + "|" + where
}

// ComputeFingerprint returns the finding's stable fingerprint: a short hash
// of its Identity.
func (f *Finding) ComputeFingerprint() string {
	sum := sha256.Sum256([]byte(f.Identity()))
	return hex.EncodeToString(sum[:12])
}

// Status is the outcome of one check.
type Status string

// Check outcomes.
const (
	Pass    Status = "pass"
	Fail    Status = "fail"
	Skipped Status = "skipped"
	Errored Status = "error"
)

// Result is the outcome of one check on one image.
type Result struct {
	Check    Meta      `json:"check"`
	Status   Status    `json:"status"`
	Findings []Finding `json:"findings,omitempty"`
	// Note explains a skip or an error, or adds context to a pass.
	Note string `json:"note,omitempty"`
}

// Fingerprints sets the fingerprint of every finding of results that has none.
// Two findings of one check with the same identity get "#2", "#3"... so that
// fingerprints stay unique within one report.
func Fingerprints(results []Result) {
	seen := map[string]int{}
	for i := range results {
		for j := range results[i].Findings {
			f := &results[i].Findings[j]
			fp := f.ComputeFingerprint()
			seen[fp]++
			if n := seen[fp]; n > 1 {
				fp = fmt.Sprintf("%s#%d", fp, n)
			}
			f.Fingerprint = fp
		}
	}
}
