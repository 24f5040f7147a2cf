package vulndb

import (
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// Report is the outcome of matching one image's packages against the database.
type Report struct {
	// Evaluated is false when no matching happened; Reason says why and
	// Remedy gives the command that fixes it.
	Evaluated bool `json:"evaluated"`
	// Skipped says the user chose not to evaluate vulnerabilities (--skip-vulns).
	Skipped bool   `json:"skipped,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Remedy  string `json:"remedy,omitempty"`
	// Sources are the installed sources the matching used.
	Sources []SourceInfo `json:"sources,omitempty"`
	// Refreshed is when the stalest source was last imported or checked.
	Refreshed time.Time `json:"refreshed"`
	// Matches are the vulnerabilities found, one per (package, vulnerability).
	Matches []Match `json:"matches,omitempty"`
	// Looked counts the (ecosystem, package, version) lookups made.
	Looked int `json:"looked_up"`
	// Ecosystems are the OSV ecosystems looked up ("Debian:12", "Go"),
	// sorted: the ones whose data age matters (Freshness.Check).
	Ecosystems []string `json:"ecosystems,omitempty"`
	// Gaps are packages that could not be evaluated, by ecosystem.
	Gaps []Gap `json:"gaps,omitempty"`
	// Warnings are problems met while matching (invalid package versions...).
	Warnings []string      `json:"warnings,omitempty"`
	Duration time.Duration `json:"-"`
}

// Gap is a set of packages that were not evaluated.
type Gap struct {
	Ecosystem string `json:"ecosystem"`
	Packages  int    `json:"packages"`
	Reason    string `json:"reason"`
	// Example is one of the packages.
	Example string `json:"example,omitempty"`
}

// Match is one vulnerability of one package.
type Match struct {
	// Package is the package as the inventory found it (path and layer).
	Package inventory.Package `json:"package"`
	// Packages names every installed package the match covers: for OS
	// packages, the binary packages built from the vulnerable source.
	Packages []string `json:"packages,omitempty"`
	// Ecosystem is the OSV ecosystem looked up ("Debian:12", "Go").
	Ecosystem string `json:"ecosystem"`
	// Name and Version are what was compared (the source package for Debian).
	Name    string `json:"name"`
	Version string `json:"version"`
	// ID is the main id; IDs lists every id of the vulnerability (aliases,
	// and advisories that name it as related), main id first.
	ID      string   `json:"id"`
	IDs     []string `json:"ids"`
	Summary string   `json:"summary,omitempty"`
	// Fixed is the version that fixes it, "" when no fix is known.
	Fixed string `json:"fixed,omitempty"`
	// LastAffected is set when the advisory names the last affected version
	// instead of a fix.
	LastAffected string `json:"last_affected,omitempty"`
	// Introduced is where the affected range starts ("0": every earlier version).
	Introduced string `json:"introduced,omitempty"`
	// ByVersionList says the version was matched by the advisory's explicit
	// list of affected versions rather than by a range.
	ByVersionList bool `json:"by_version_list,omitempty"`
	// Score is the CVSS score (or, without a vector, the rating the data
	// gives); it is what the veto thresholds compare.
	Score Score `json:"severity"`
	// Vendor is the distribution's own rating of the vulnerability for this
	// package (Debian's urgency), nil when it gives none. It ranks the
	// vulnerability ahead of the CVSS score, as Trivy's vendor severity does:
	// see Rating.
	Vendor *VendorSeverity `json:"vendor_severity,omitempty"`
	// Sources are the database sources the records came from.
	Sources []string `json:"sources"`
}

// HasFix says a fixed version is known: a range of the advisory (or of a
// distribution advisory naming it) closes with a fixed version above the
// installed one. A LastAffected bound alone is no fix. This is what
// `--ignore-unfixed` needs.
func (m Match) HasFix() bool { return m.Fixed != "" }

// Rating is the rating that ranks the vulnerability: the distribution's own
// (Vendor) when it gives one, else the Score's (from CVSS, else GHSA's
// rating or Debian's urgency, else "unknown").
func (m Match) Rating() string {
	if m.Vendor != nil {
		return m.Vendor.Rating
	}
	return m.Score.Rating
}

// RatingSource says where Rating comes from: "Debian urgency unimportant",
// "CVSS v3.1", "CVSS v3.1 (of alias CVE-..., from the Debian data)", "GHSA
// severity high (no CVSS vector)".
func (m Match) RatingSource() string {
	if m.Vendor != nil {
		return m.Vendor.Source + " urgency " + m.Vendor.Value
	}
	return m.Score.Basis
}

// Summary counts matches by rating (Match.Rating: the distribution's first).
func (r *Report) Summary() map[string]int {
	out := map[string]int{}
	for _, m := range r.Matches {
		out[m.Rating()]++
	}
	return out
}

// NotEvaluated is the report of a scan that could not match: no database,
// or one that cannot be read. reason is shown to the user.
func NotEvaluated(reason string) *Report {
	return &Report{Reason: reason, Remedy: Remedy}
}

// SkippedReport is the report of a scan told not to evaluate vulnerabilities.
func SkippedReport(reason string) *Report {
	return &Report{Skipped: true, Reason: reason}
}
