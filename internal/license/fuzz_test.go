package license

import (
	"os/exec"
	"strings"
	"testing"
)

// runGen runs the generator as `go generate` would.
func runGen(t *testing.T, in, out string) error {
	t.Helper()
	cmd := exec.Command("go", "run", "./gen", "-in", in, "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Logf("%s", b)
		return err
	}
	return nil
}

// FuzzNormalize checks that any input is handled without panic, that what
// Normalize accepts is valid SPDX, and that normalising is idempotent.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"MIT", "GPL-2+ or Artistic-2.0, and BSD-3-clause", "AGPL-3+ with font exception",
		"License :: OSI Approved :: GNU General Public License v2 (GPLv2)", "(MIT OR Apache-2.0) AND BSD-3-Clause",
		"GPL-1+ or Artistic, and Unicode", "Expat~SunSoft with SunSoft exception", "The Apache Software License, Version 2.0",
		"GNU General Public License version 2 or (at your option) any later version", "((MIT)", "MIT OR", "a / b | c & d",
	} {
		f.Add(s)
	}
	deny := []string{"AGPL-3.0-only", "AGPL-3.0-or-later"}
	f.Fuzz(func(t *testing.T, s string) {
		e := Parse(s)
		_ = e.String()
		_ = e.Denied(deny)
		n, ok := Normalize(s)
		if !ok {
			if n != strings.TrimSpace(s) {
				t.Fatalf("unknown %q changed to %q", s, n)
			}
			return
		}
		if !IsSPDX(n) {
			t.Fatalf("%q -> %q is not valid SPDX", s, n)
		}
		again, ok := Normalize(n)
		if !ok || again != n {
			t.Fatalf("not idempotent: %q -> %q -> %q %v", s, n, again, ok)
		}
		if Parse(n).Denied(deny) != e.Denied(deny) {
			t.Fatalf("%q and its normal form %q disagree on the denylist", s, n)
		}
	})
}
