package checks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/license"
)

// cmp001 is the check CMP-001.
func cmp001() Check {
	return define(Meta{
		ID:          "CMP-001",
		Dimension:   Compliance,
		Title:       "Software inventory (SBOM)",
		Severity:    Info,
		Description: "Summarises the packages found in the image: OS packages from the package databases, language packages from their manifests and software recognised from binaries, counted per ecosystem and type, with how many carry an SPDX license. The full list with name, version, purl, licenses, path and layer is exported by `shipshape sbom` as CycloneDX or SPDX.",
		Remediation: "Export the SBOM with `shipshape sbom IMAGE --format cyclonedx-json -o sbom.json` (or `spdx-json`) and publish it with the image (for example as an attestation).",
	}, func(s *Subject) ([]Finding, error) {
		if s.Inv == nil {
			return nil, Skip("no inventory")
		}
		pkgs := s.Inv.Packages
		if len(pkgs) == 0 {
			return []Finding{{Severity: Info, Title: "no packages found (no package database, language manifest or recognised binary)",
				Evidence: []Evidence{field("inventory", "0 packages")}}}, nil
		}
		type key struct{ eco, typ string }
		counts := map[key]int{}
		perPath := map[string]int{}
		spdx := 0
		for _, p := range pkgs {
			counts[key{p.Ecosystem, p.Type}]++
			perPath[p.Path]++
			if hasSPDXLicense(p.Licenses) {
				spdx++
			}
		}
		keys := make([]key, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if counts[keys[i]] != counts[keys[j]] {
				return counts[keys[i]] > counts[keys[j]]
			}
			return keys[i].eco+keys[i].typ < keys[j].eco+keys[j].typ
		})
		var parts []string
		var ev []Evidence
		for _, k := range keys {
			name := k.eco
			if name == "" {
				name = "unknown ecosystem"
			}
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], name))
			typ := k.typ
			if typ == "" {
				typ = "os"
			}
			ev = append(ev, field("ecosystem "+name, fmt.Sprintf("%s (type %s)", packagesN(counts[k]), typ)))
		}
		for _, db := range s.Inv.PackageDBs {
			e := s.At(db)
			e.Value = packagesN(perPath[db])
			ev = append(ev, e)
		}
		title := fmt.Sprintf("%d packages (%s); %d with an SPDX license", len(pkgs), strings.Join(parts, ", "), spdx)
		return []Finding{{Severity: Info, Title: title, Evidence: ev}}, nil
	})
}

// hasSPDXLicense reports whether any of a package's licenses is an SPDX expression.
func hasSPDXLicense(lics []string) bool {
	for _, l := range lics {
		if license.IsSPDX(l) {
			return true
		}
	}
	return false
}

// packagesN writes "1 package" or "n packages".
func packagesN(n int) string {
	if n == 1 {
		return "1 package"
	}
	return fmt.Sprintf("%d packages", n)
}
