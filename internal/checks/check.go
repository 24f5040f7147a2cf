// Package checks holds the production-readiness checks. Each check is one
// small file that registers itself with its ID, dimension, default severity,
// veto flag and remediation; the engine runs whatever is registered.
package checks

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/eol"
	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/probe"
	"github.com/shipshape-dev/shipshape/internal/source"
	"github.com/shipshape-dev/shipshape/internal/supplychain"
	"github.com/shipshape-dev/shipshape/internal/vulndb"
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
			l += " " + shortDigest(e.LayerDigest)
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, " ")
}

func shortDigest(d string) string {
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

// Check is one production-readiness check.
type Check interface {
	Meta() Meta
	// Run judges the subject. It returns the findings (none means the check
	// passed), or a *SkipError when the check does not apply.
	Run(s *Subject) ([]Finding, error)
}

// SkipError says a check does not apply to this image, and why.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return e.Reason }

// Skip returns a *SkipError.
func Skip(format string, args ...any) error { return &SkipError{Reason: fmt.Sprintf(format, args...)} }

// Subject is everything a check may look at.
type Subject struct {
	Image  *source.Image
	Config *v1.ConfigFile
	FS     *imagefs.FS
	Inv    *inventory.Inventory
	EOL    *eol.DB
	Now    time.Time
	// Settings are the policy's thresholds and lists; nil means DefaultSettings.
	Settings *Settings
	// Probe holds what `shipshape probe` observed running the image; nil when it did not run.
	Probe *probe.Observations
	// Vulns are the vulnerabilities matched against the advisory database
	// (SEC-020); nil means none was given, which SEC-020 reports as not evaluated.
	Vulns *vulndb.Report
	// Supply is the supply-chain evidence (origin, signatures, attestations,
	// upstream maintenance) of SEC-030, SEC-031, SEC-032 and MNT-007; nil
	// when it was not gathered, which those checks report as skipped.
	Supply *supplychain.Evidence
}

// At returns evidence for a path of the final filesystem, with the layer that wrote it.
func (s *Subject) At(path string) Evidence {
	e := Evidence{Path: path}
	if n, ok := s.FS.Lookup(path); ok {
		s.layer(&e, n.Layer)
	}
	return e
}

// InLayer returns evidence for path as written by layer i.
func (s *Subject) InLayer(path string, i int) Evidence {
	e := Evidence{Path: path}
	s.layer(&e, i)
	return e
}

func (s *Subject) layer(e *Evidence, i int) {
	if i < 0 {
		return
	}
	e.Layer = &i
	if ls := s.FS.Layers(); i < len(ls) {
		e.LayerDigest = ls[i].Digest
	}
}

var registry = map[string]Check{}

// Register adds a check. It is called from each check's init function and
// panics on a duplicate ID, which is a programming error.
func Register(c Check) {
	id := c.Meta().ID
	if _, dup := registry[id]; dup {
		panic("checks: duplicate check ID " + id)
	}
	registry[id] = c
}

// All returns the registered checks sorted by dimension order, then ID.
func All() []Check {
	out := make([]Check, 0, len(registry))
	for _, c := range registry {
		out = append(out, c)
	}
	order := map[Dimension]int{}
	for i, d := range Dimensions {
		order[d] = i
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Meta(), out[j].Meta()
		if order[a.Dimension] != order[b.Dimension] {
			return order[a.Dimension] < order[b.Dimension]
		}
		return a.ID < b.ID
	})
	return out
}

// Lookup returns the check with the given ID.
func Lookup(id string) (Check, bool) {
	c, ok := registry[strings.ToUpper(id)]
	return c, ok
}

// RunAll runs every registered check. A check that panics is reported as an
// error result; the others still run.
func RunAll(s *Subject) []Result {
	var out []Result
	for _, c := range All() {
		out = append(out, run(c, s))
	}
	return out
}

func run(c Check, s *Subject) (r Result) {
	meta := c.Meta()
	r.Check = meta
	defer func() {
		if p := recover(); p != nil {
			r.Status = Errored
			r.Findings = nil
			r.Note = fmt.Sprintf("internal error: %v\n%s", p, debug.Stack())
		}
	}()
	findings, err := c.Run(s)
	if err != nil {
		if sk, ok := err.(*SkipError); ok {
			r.Status = Skipped
			r.Note = sk.Reason
			return r
		}
		r.Status = Errored
		r.Note = err.Error()
		return r
	}
	for i := range findings {
		f := &findings[i]
		f.CheckID = meta.ID
		f.Dimension = meta.Dimension
		if f.Remediation == "" {
			f.Remediation = meta.Remediation
		}
		if !meta.Veto {
			f.Veto = false
		}
	}
	r.Findings = findings
	r.Status = Pass
	for _, f := range findings {
		if f.Severity > Info || f.Veto {
			r.Status = Fail
		}
	}
	return r
}

// MarshalJSON keeps the type's name stable in reports.
func (d Dimension) MarshalJSON() ([]byte, error) { return json.Marshal(string(d)) }
