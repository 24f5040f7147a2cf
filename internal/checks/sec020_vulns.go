package checks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

// VulnVetoScore is the CVSS base score at or above which a vulnerability
// with a fixed version is a veto (SEC-020). The policy engine may change it.
var VulnVetoScore = 7.0

// VulnHighScore is the CVSS base score at or above which a vulnerability
// without a fixed version is high (not a veto). The policy engine may change it.
var VulnHighScore = 7.0

// sec020 is the check SEC-020.
func sec020() Check {
	return define(Meta{
		ID:        "SEC-020",
		Dimension: Security,
		Title:     "No known vulnerabilities with a fix",
		Severity:  High,
		Veto:      true,
		Description: "Matches every package of the inventory (Debian and Alpine packages by source package and release, Go modules and the Go toolchain's stdlib, npm, PyPI, Maven, crates.io, RubyGems, NuGet, Packagist) against the OSV advisories installed with `shipshape db update` or `shipshape db import`, " +
			"with each ecosystem's version ordering. One finding per package and vulnerability (aliases such as CVE, GHSA, DSA and GO ids are merged), with the installed and fixed versions, the CVSS base score and vector " +
			"(or, without a vector, GHSA's rating or Debian's urgency, said so), the ids, and the package's path and layer. A vulnerability with CVSS >= 7.0 and a fixed version is a veto; CVSS >= 7.0 without a fix is high. " +
			"Without an advisory database the check fails with a veto saying vulnerabilities were not evaluated, unless `--skip-vulns` says the omission is intended.",
		Remediation: "Upgrade the package to its fixed version (rebuild on an updated base image, or `apt-get upgrade` in the Dockerfile); for vulnerabilities without a fix, remove the package if unused or record an exception with a reason.",
	}, func(s *Subject) ([]Finding, error) {
		r := s.Vulns
		if r == nil {
			r = vulndb.NotEvaluated("the scan was given no vulnerability database")
		}
		if r.Skipped {
			return nil, Skip("vulnerabilities not evaluated: %s", r.Reason)
		}
		if !r.Evaluated {
			return []Finding{{
				Severity:    High,
				Veto:        true,
				Title:       "Vulnerabilities were not evaluated: " + r.Reason,
				Evidence:    []Evidence{field("vulnerability database", r.Reason)},
				Remediation: fmt.Sprintf("Install the advisory database: %s. If the omission is intended, run `shipshape check --skip-vulns`.", r.Remedy),
			}}, nil
		}
		var out []Finding
		for _, m := range r.Matches {
			out = append(out, vulnFinding(s, m))
		}
		out = append(out, gapFindings(r)...)
		out = append(out, vulnSummary(r))
		return out, nil
	})
}

// vulnSeverity applies the thresholds: CVSS >= VulnVetoScore with a fix is a
// veto; CVSS >= VulnHighScore without a fix is high unless the
// distribution rates the vulnerability itself (Debian's urgency: an
// unfixed CVSS 9.8 that Debian calls unimportant is low); otherwise the
// rating, the distribution's first (Match.Rating).
func vulnSeverity(m vulndb.Match, vetoScore float64) (Severity, bool) {
	sc := m.Score.Value
	if sc > 0 && sc >= vetoScore && m.HasFix() {
		if m.Score.Rating == "critical" {
			return Critical, true
		}
		return High, true
	}
	if m.Vendor == nil && sc > 0 && sc >= VulnHighScore && !m.HasFix() {
		return High, false
	}
	switch m.Rating() {
	case "critical", "high":
		return High, false
	case "medium", "unknown":
		return Medium, false
	case "low":
		return Low, false
	}
	return Info, false
}

func scoreText(sc vulndb.Score) string {
	switch {
	case sc.IsCVSS():
		return fmt.Sprintf("CVSS %.1f %s", sc.Value, sc.Rating)
	case sc.Rating == "unknown" || sc.Rating == "":
		return "severity unknown"
	}
	return sc.Rating + ", no CVSS"
}

// ratingText is scoreText with the distribution's own rating, when it gives
// one that is not already the basis of the score.
func ratingText(m vulndb.Match) string {
	t := scoreText(m.Score)
	if v := m.Vendor; v != nil && m.Score.IsCVSS() {
		t += ", " + v.Source + " urgency " + v.Value
	}
	return t
}

func fixText(m vulndb.Match) string {
	switch {
	case m.HasFix():
		return "fixed in " + m.Fixed
	case m.LastAffected != "":
		return "no fix (last affected " + m.LastAffected + ")"
	}
	return "no fix"
}

func vulnFinding(s *Subject, m vulndb.Match) Finding {
	veto := VulnVetoScore
	if st := s.settings(); st.CVSS > 0 {
		veto = st.CVSS
	}
	sev, isVeto := vulnSeverity(m, veto)
	p := m.Package
	pkg := strings.Join(m.Packages, ", ") + " " + p.Version
	if m.Name != p.Name || m.Version != p.Version {
		pkg += fmt.Sprintf(" (source %s %s)", m.Name, m.Version)
	}
	pkg += ", " + m.Ecosystem
	pev := s.InLayer(p.Path, p.Layer)
	pev.Field, pev.Value = "package", pkg
	ev := []Evidence{pev, field("installed version", m.Version), field("fixed version", strings.TrimPrefix(fixText(m), "fixed in ")),
		field("advisory package", m.Ecosystem+" "+m.Name+" "+m.Version)}
	sevText := scoreText(m.Score) + " (" + m.Score.Basis
	if m.Score.From != "" && m.Score.From != m.ID {
		sevText += ", from " + m.Score.From
	}
	ev = append(ev, field("severity", sevText+")"))
	if v := m.Vendor; v != nil {
		ev = append(ev, field("distribution severity", fmt.Sprintf("%s urgency %s (ranks as %s; the CVSS score decides the veto)", v.Source, v.Value, v.Rating)))
	}
	if m.Score.Vector != "" {
		ev = append(ev, field("CVSS vector", m.Score.Vector))
	}
	ev = append(ev, field("ids", strings.Join(m.IDs, ", ")))
	if m.ByVersionList {
		ev = append(ev, field("affected", "version listed by the advisory"))
	} else if m.Introduced != "" {
		rng := "introduced " + m.Introduced
		if m.Fixed != "" {
			rng += ", fixed " + m.Fixed
		} else if m.LastAffected != "" {
			rng += ", last affected " + m.LastAffected
		}
		ev = append(ev, field("affected range", rng))
	}
	if m.Summary != "" {
		ev = append(ev, field("summary", m.Summary))
	}
	// The title, Package, Vulnerability and Aliases name the vulnerability of
	// the package, never where it was found (path, layer, digest): the same
	// Go module in a binary at another path is the same finding for
	// exceptions and diffs. The path and layer are in the evidence.
	title := fmt.Sprintf("%s %s: %s (%s), %s", m.Name, m.Version, m.ID, ratingText(m), fixText(m))
	return Finding{Severity: sev, Veto: isVeto, Title: title, Evidence: ev, Remediation: vulnFix(m),
		Package: m.PackageKey(), Vulnerability: m.ID, Aliases: m.Aliases()}
}

func vulnFix(m vulndb.Match) string {
	if !m.HasFix() {
		return fmt.Sprintf("No fixed version of %s is known for %s: remove the package if the image does not need it, or record an exception with a reason and watch the advisory.", m.Name, m.ID)
	}
	switch eco := vulndb.BaseEcosystem(m.Ecosystem); {
	case eco == "Debian" || eco == "Ubuntu":
		return fmt.Sprintf("Upgrade the %s packages (%s) to %s or later: rebuild on an updated base image or run `apt-get update && apt-get upgrade` in the Dockerfile.", m.Name, strings.Join(m.Packages, ", "), m.Fixed)
	case eco == "Alpine" || eco == "Wolfi" || eco == "Chainguard":
		return fmt.Sprintf("Upgrade %s to %s or later: rebuild on an updated base image or run `apk upgrade` in the Dockerfile.", m.Name, m.Fixed)
	case eco == "Go" && m.Name == "stdlib":
		return fmt.Sprintf("Rebuild %s with Go %s or later.", m.Package.Path, m.Fixed)
	case eco == "Go":
		return fmt.Sprintf("Require %s v%s or later (`go get %s@v%s`) and rebuild %s.", m.Name, m.Fixed, m.Name, m.Fixed, m.Package.Path)
	}
	return fmt.Sprintf("Upgrade %s to %s or later (found at %s) and rebuild the image.", m.Name, m.Fixed, m.Package.Path)
}

// gapFindings report packages that could not be evaluated: high when
// installing advisories would fix it, info when no OSV data exists for them.
func gapFindings(r *vulndb.Report) []Finding {
	var out []Finding
	for _, g := range r.Gaps {
		sev := Info
		if strings.Contains(g.Reason, "advisories") {
			sev = High
		}
		ev := []Evidence{field("ecosystem", g.Ecosystem), field("packages", fmt.Sprint(g.Packages))}
		if g.Example != "" {
			ev = append(ev, field("example", g.Example))
		}
		out = append(out, Finding{
			Severity:    sev,
			Title:       fmt.Sprintf("%d %s package(s) not evaluated for vulnerabilities: %s", g.Packages, g.Ecosystem, g.Reason),
			Evidence:    ev,
			Remediation: "Install advisories for this ecosystem (`shipshape db update --ecosystems NAME`), or accept that these packages are not covered.",
		})
	}
	return out
}

// vulnSummary counts the findings by rating and says what data was used.
func vulnSummary(r *vulndb.Report) Finding {
	counts := r.Summary()
	fixable := 0
	for _, m := range r.Matches {
		if m.HasFix() {
			fixable++
		}
	}
	var parts []string
	for _, k := range []string{"critical", "high", "medium", "low", "none", "unknown"} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	title := fmt.Sprintf("Vulnerabilities: %d in total", len(r.Matches))
	if len(parts) > 0 {
		title += " (" + strings.Join(parts, ", ") + ")"
	}
	title += fmt.Sprintf(", %d with a fix; %d package versions looked up", fixable, r.Looked)
	ev := []Evidence{}
	for _, k := range []string{"critical", "high", "medium", "low", "unknown"} {
		ev = append(ev, field(k, fmt.Sprint(counts[k])))
	}
	var srcs []string
	for _, src := range r.Sources {
		d := "imported " + src.ImportedAt.UTC().Format("2006-01-02")
		if !src.Newest.IsZero() {
			d += ", newest record " + src.Newest.UTC().Format("2006-01-02")
		}
		srcs = append(srcs, fmt.Sprintf("%s (%d records, %s)", src.Name, src.Records, d))
	}
	sort.Strings(srcs)
	ev = append(ev, field("advisory data", strings.Join(srcs, "; ")))
	return Finding{Severity: Info, Title: title, Evidence: ev}
}
