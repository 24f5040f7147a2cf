package checks

import (
	"slices"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/license"
)

func TestNotAllowed(t *testing.T) {
	allow := []string{"MIT", "Apache-2.0", "BSD-3-Clause"}
	for _, c := range []struct {
		expr    string
		outside []string
	}{
		{"MIT", nil},
		{"MIT OR GPL-2.0-only", nil},
		{"MIT AND GPL-2.0-only", []string{"GPL-2.0-only"}},
		{"GPL-2.0-only OR LGPL-2.1-only", []string{"GPL-2.0-only", "LGPL-2.1-only"}},
		{"Apache-2.0 WITH LLVM-exception", nil},
		{"SomethingUnknown", nil},
	} {
		got := notAllowed(license.Parse(c.expr), allow)
		if !slices.Equal(got, c.outside) {
			t.Errorf("%s: got %v, want %v", c.expr, got, c.outside)
		}
	}
}
