package license

import (
	"strings"

	"github.com/github/go-spdx/v2/spdxexp"
)

// Normalize maps one declared license string to an SPDX license expression.
// ok is false when some part of it is not on the SPDX License List (or is
// ambiguous, like "BSD" or "GPL" without a version); the string is then
// returned trimmed, unchanged, so that nothing is guessed and nothing lost.
// Every expression returned with ok is valid for go-spdx.
func Normalize(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	e := Parse(raw)
	if e == nil || !e.Known() {
		return raw, false
	}
	s := e.String()
	if valid, _ := spdxexp.ValidateLicenses([]string{s}); !valid {
		return raw, false
	}
	return s, true
}

// IsSPDX reports whether s is a valid SPDX license expression.
func IsSPDX(s string) bool {
	if strings.TrimSpace(s) == "" {
		return false
	}
	valid, _ := spdxexp.ValidateLicenses([]string{s})
	return valid
}

// NormalizeAll normalises each declared string and drops duplicates and
// empty strings, keeping the first occurrence's order.
func NormalizeAll(raws []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range raws {
		n, _ := Normalize(r)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	return out
}
