// Package checks holds the production-readiness checks. Each check is one
// small file: a constructor that returns its metadata (ID, dimension,
// default severity, veto flag, remediation) and its function. Builtin lists
// them explicitly; nothing registers itself.
package checks

import (
	"fmt"
	"runtime/debug"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/eol"
	"github.com/shipshape-dev/shipshape/internal/facts"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/probe"
	"github.com/shipshape-dev/shipshape/internal/supplychain"
	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

// The model lives in package finding; these names keep the checks short.
type (
	// Dimension is finding.Dimension.
	Dimension = finding.Dimension
	// Severity is finding.Severity.
	Severity = finding.Severity
	// Meta is finding.Meta.
	Meta = finding.Meta
	// Evidence is finding.Evidence.
	Evidence = finding.Evidence
	// Finding is finding.Finding.
	Finding = finding.Finding
	// Status is finding.Status.
	Status = finding.Status
	// Result is finding.Result.
	Result = finding.Result
)

// The dimensions, severities and statuses of package finding.
const (
	Security        = finding.Security
	Reliability     = finding.Reliability
	Maintainability = finding.Maintainability
	Compliance      = finding.Compliance
	Fit             = finding.Fit

	Info     = finding.Info
	Low      = finding.Low
	Medium   = finding.Medium
	High     = finding.High
	Critical = finding.Critical

	Pass    = finding.Pass
	Fail    = finding.Fail
	Skipped = finding.Skipped
	Errored = finding.Errored
)

// Dimensions lists the dimensions in report order.
var Dimensions = finding.Dimensions

// ParseSeverity reads a severity name.
func ParseSeverity(s string) (Severity, error) { return finding.ParseSeverity(s) }

func shortDigest(d string) string { return finding.ShortDigest(d) }

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
	// Image identifies the image and how it was read.
	Image  *facts.Image
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

// RunAll runs every built-in check: see Run.
func RunAll(s *Subject) []Result { return Run(Builtin(), s) }

// Run runs the checks cs on s and fingerprints their findings. A check that
// panics is reported as an error result; the others still run.
func Run(cs []Check, s *Subject) []Result {
	out := make([]Result, 0, len(cs))
	for _, c := range cs {
		out = append(out, run(c, s))
	}
	finding.Fingerprints(out)
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
