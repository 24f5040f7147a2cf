package vulndb

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/osv-scalibr/semantic"
)

// supported are the OSV ecosystems whose version ordering osv-scalibr's
// semantic package implements; entries of any other ecosystem cannot be
// matched and are reported at import.
var supported = map[string]bool{
	"AlmaLinux": true, "Alpaquita": true, "Alpine": true, "BellSoft Hardened Containers": true,
	"Bitnami": true, "Bioconductor": true, "Chainguard": true, "ConanCenter": true, "CRAN": true,
	"crates.io": true, "Debian": true, "GHC": true, "Go": true, "Hackage": true, "Hex": true,
	"Julia": true, "Mageia": true, "Maven": true, "MinimOS": true, "npm": true, "NuGet": true,
	"openEuler": true, "openSUSE": true, "Packagist": true, "Pub": true, "PyPI": true,
	"Red Hat": true, "Rocky Linux": true, "RubyGems": true, "SUSE": true, "SwiftURL": true,
	"Ubuntu": true, "Wolfi": true,
}

// DefaultEcosystems are the OSV ecosystems `db update` downloads when the
// database holds none yet: the ones shipshape's inventory finds packages of.
var DefaultEcosystems = []string{"Debian", "Alpine", "Go", "npm", "PyPI", "Maven", "crates.io", "RubyGems", "NuGet", "Packagist"}

// BaseEcosystem strips the release from an OSV ecosystem ("Debian:12" is "Debian").
func BaseEcosystem(eco string) string {
	b, _, _ := strings.Cut(eco, ":")
	return b
}

// Supported says whether entries of the OSV ecosystem can be matched.
func Supported(eco string) bool { return supported[BaseEcosystem(eco)] }

// parseVersion parses v in the ordering of the OSV ecosystem eco, after the
// ecosystem's normalisation (Go's "v" prefix and "+incompatible" suffix).
func parseVersion(eco, v string) (semantic.Version, error) {
	v = normalizeVersion(eco, v)
	if v == "" {
		return nil, fmt.Errorf("empty version")
	}
	if b := BaseEcosystem(eco); (b == "Debian" || b == "Ubuntu") && !isDebianVersion(v) {
		return nil, fmt.Errorf("invalid %s version %.60q: not [epoch:]upstream[-revision] with upstream starting with a digit", b, v)
	}
	pv, err := semantic.Parse(v, eco)
	if err != nil {
		return nil, fmt.Errorf("invalid %s version %.60q: %w", BaseEcosystem(eco), v, err)
	}
	return pv, nil
}

// normalizeVersion turns a version as found in an image into the form OSV
// records use.
func normalizeVersion(eco, v string) string {
	v = strings.TrimSpace(v)
	if BaseEcosystem(eco) == "Go" {
		v = strings.TrimPrefix(v, "v")
		v = strings.TrimSuffix(v, "+incompatible")
	}
	return v
}

var pypiSep = regexp.MustCompile(`[-_.]+`)

// isDebianVersion checks dpkg's version syntax (deb-version(7)): an optional
// numeric epoch, an upstream version starting with a digit, then letters,
// digits and . + ~ : -.
func isDebianVersion(v string) bool {
	if e, rest, ok := strings.Cut(v, ":"); ok {
		if e == "" || strings.Trim(e, "0123456789") != "" {
			return false
		}
		v = rest
	}
	if v == "" || v[0] < '0' || v[0] > '9' {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte(".+~:-", c) >= 0) {
			return false
		}
	}
	return true
}

// NormalizeName returns the key under which a package name is stored and
// looked up: PEP 503 names for PyPI, lower case where the ecosystem ignores
// case (NuGet, Packagist, Maven group and artifact ids are case-sensitive
// and kept).
func NormalizeName(eco, name string) string {
	switch BaseEcosystem(eco) {
	case "PyPI":
		return pypiSep.ReplaceAllString(strings.ToLower(name), "-")
	case "NuGet", "Packagist":
		return strings.ToLower(name)
	}
	return name
}

// goVersion turns a Go toolchain version from build info ("go1.22.3",
// "go1.21rc2", "go1.20", "go1.22.1 X:boringcrypto") into the semver form the
// Go vulnerability database uses for stdlib ("1.22.3", "1.21.0-rc.2",
// "1.20.0"); ok is false for development builds.
func goVersion(s string) (string, bool) {
	s, _, _ = strings.Cut(strings.TrimSpace(s), " ")
	if !strings.HasPrefix(s, "go1") {
		return "", false
	}
	s = strings.TrimPrefix(s, "go")
	pre := ""
	for _, tag := range []string{"rc", "beta"} {
		if i := strings.Index(s, tag); i > 0 {
			pre = "-" + tag + "." + s[i+len(tag):]
			s = s[:i]
			break
		}
	}
	parts := strings.Split(s, ".")
	for len(parts) < 3 {
		parts = append(parts, "0")
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return "", false
		}
	}
	return strings.Join(parts[:3], ".") + pre, true
}
