package checks

import (
	"fmt"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/license"
)

// unknownLicenseEvidence is how many packages CMP-003 lists as evidence.
const unknownLicenseEvidence = 20

// cmp003 is the check CMP-003.
func cmp003() Check {
	return define(Meta{
		ID:          "CMP-003",
		Dimension:   Compliance,
		Title:       "Every package has a known license",
		Severity:    Low,
		Description: "Counts the packages whose license cannot be judged: no license found (no copyright file or license field), or a declared license that is not an SPDX expression (ambiguous names such as \"BSD\" or \"GPL\" without a version, Debian variants such as \"BSD-3-Clause~Adobe\", \"public-domain\", custom texts). One finding gives the counts and the first packages as evidence. The license denylist (CMP-002) cannot see such licenses.",
		Remediation: "Review the listed packages' license files by hand; keep the documentation (`/usr/share/doc/*/copyright`) in the image so that licenses can be read, and declare SPDX identifiers in your own packages' manifests.",
	}, func(s *Subject) ([]Finding, error) {
		if s.Inv == nil || len(s.Inv.Packages) == 0 {
			return nil, Skip("no packages found")
		}
		var none, unparsed int
		var ev []Evidence
		for _, p := range s.Inv.Packages {
			var bad []string
			for _, l := range p.Licenses {
				if !license.IsSPDX(l) {
					bad = append(bad, l)
				}
			}
			var value string
			switch {
			case len(p.Licenses) == 0:
				none++
				value = "no license found"
			case len(bad) > 0:
				unparsed++
				value = "not SPDX: " + strings.Join(bad, "; ")
			default:
				continue
			}
			if len(ev) < unknownLicenseEvidence {
				e := licenseEvidence(s, p, value)[0]
				e.Field = "package " + strings.TrimSpace(p.Name+" "+p.Version)
				e.Value = value
				if len(e.Value) > 200 {
					e.Value = e.Value[:200] + "..."
				}
				ev = append(ev, e)
			}
		}
		if none+unparsed == 0 {
			return nil, nil
		}
		title := fmt.Sprintf("%d of %d packages have no license found, %d declare licenses that are not SPDX expressions", none, len(s.Inv.Packages), unparsed)
		if n := none + unparsed; n > len(ev) {
			ev = append(ev, field("packages", fmt.Sprintf("%d more not listed", n-len(ev))))
		}
		return []Finding{{Severity: Low, Title: title, Evidence: ev}}, nil
	})
}
