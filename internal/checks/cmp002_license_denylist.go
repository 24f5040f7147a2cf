package checks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/license"
)

// DefaultLicenseDenylist returns the default denylist of CMP-002: SPDX
// identifiers that veto an image when a package can only be used under one
// of them. The policy replaces it through Settings.DeniedLicenses.
func DefaultLicenseDenylist() []string { return []string{"AGPL-3.0-only", "AGPL-3.0-or-later"} }

// maxLicenseFindings bounds CMP-002's findings; the rest are counted in one more.
const maxLicenseFindings = 100

// deniedLicenses is the denylist in force for a subject.
func deniedLicenses(s *Subject) []string {
	if st := s.settings(); st.DeniedLicenses != nil {
		return st.DeniedLicenses
	}
	return DefaultLicenseDenylist()
}

// notAllowed returns the licenses of e outside the allowlist when no choice
// of e stays within it; nil when e is acceptable or its licenses are unknown.
func notAllowed(e *license.Expr, allow []string) []string {
	if e == nil || !e.Known() {
		return nil
	}
	var outside []string
	for _, id := range e.Licenses() {
		if !slices.Contains(allow, id) && !slices.Contains(outside, id) {
			outside = append(outside, id)
		}
	}
	if len(outside) == 0 || !e.Denied(outside) {
		return nil
	}
	return outside
}

// cmp002 is the check CMP-002.
func cmp002() Check {
	return define(Meta{
		ID:          "CMP-002",
		Dimension:   Compliance,
		Title:       "No package under a denied license",
		Severity:    Critical,
		Veto:        true,
		Description: "Reads every package's licenses (Debian copyright files, apk, language manifests), normalised to SPDX, and vetoes the image when a package can only be used under a denied license (by default AGPL-3.0-only and AGPL-3.0-or-later). An expression with a choice is denied only when every choice is: `GPL-2.0-only OR AGPL-3.0-only` passes, `MIT AND AGPL-3.0-only` does not. A license with an exception (`AGPL-3.0-or-later WITH ...`) is still that license. Debian copyright files list the licenses of all the files of a package, so one AGPL-licensed file denies the package.",
		Remediation: "Remove the package or replace it with one under an acceptable license; if legal review accepts the license, allow it (or waive this finding with a reason) in the policy.",
	}, func(s *Subject) ([]Finding, error) {
		if s.Inv == nil || len(s.Inv.Packages) == 0 {
			return nil, Skip("no packages found")
		}
		deny := deniedLicenses(s)
		allow := s.settings().AllowedLicenses
		if len(deny) == 0 && len(allow) == 0 {
			return nil, Skip("the policy denies no license")
		}
		var out []Finding
		more := 0
		for _, p := range s.Inv.Packages {
			var hits, ids []string
			for _, l := range p.Licenses {
				e := license.Parse(l)
				if e == nil || !e.Denied(deny) {
					continue
				}
				hits = append(hits, l)
				for _, id := range e.DeniedLicenses(deny) {
					if !slices.Contains(ids, id) {
						ids = append(ids, id)
					}
				}
			}
			if len(hits) == 0 {
				if len(allow) > 0 && len(out) < maxLicenseFindings {
					for _, l := range p.Licenses {
						if outside := notAllowed(license.Parse(l), allow); outside != nil {
							out = append(out, Finding{Severity: High,
								Title:    fmt.Sprintf("%s is licensed under %s, outside the policy's allowed licenses", pkgLabel(p), strings.Join(outside, ", ")),
								Evidence: licenseEvidence(s, p, l)})
							break
						}
					}
				}
				continue
			}
			partly := ""
			if len(p.Licenses) > len(hits) {
				partly = "in part "
			}
			if len(out) >= maxLicenseFindings {
				more++
				continue
			}
			out = append(out, Finding{
				Severity: Critical,
				Veto:     true,
				Title:    fmt.Sprintf("%s is %slicensed under %s, which the policy denies", pkgLabel(p), partly, strings.Join(ids, ", ")),
				Evidence: licenseEvidence(s, p, strings.Join(hits, "; ")),
			})
		}
		if more > 0 {
			out = append(out, Finding{Severity: Critical, Veto: true,
				Title:    fmt.Sprintf("%d more packages under a denied license", more),
				Evidence: []Evidence{field("packages", fmt.Sprintf("%d not listed", more))}})
		}
		return out, nil
	})
}

// pkgLabel names a package with its version and ecosystem.
func pkgLabel(p inventory.Package) string {
	s := p.Name
	if p.Version != "" {
		s += " " + p.Version
	}
	if p.Ecosystem != "" {
		s += " (" + p.Ecosystem + ")"
	}
	return s
}

// licenseEvidence points at the file that carries a package's license (its
// copyright file or manifest) and at the package's record, with value.
func licenseEvidence(s *Subject, p inventory.Package, value string) []Evidence {
	const maxValue = 300
	if len(value) > maxValue {
		value = value[:maxValue] + "..."
	}
	var ev []Evidence
	for _, lp := range p.LicensePaths {
		e := s.At(lp)
		e.Value = value
		ev = append(ev, e)
	}
	if p.Path != "" {
		e := s.InLayer(p.Path, p.Layer)
		e.Field = "package " + p.Name
		if len(ev) == 0 {
			e.Value = value
		} else {
			e.Value = strings.TrimSpace(p.Name + " " + p.Version)
		}
		ev = append(ev, e)
	}
	if len(ev) == 0 {
		ev = append(ev, field("package "+p.Name, value))
	}
	return ev
}
