package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// Debian 11 from its last point release, without bullseye-security: SEC-020
// must find the vulnerabilities fixed by later security uploads, with the
// veto for the fixable CVSS >= 7.0 ones, and every "fixed in" must really be
// newer than the installed version by dpkg's own ordering.
func TestVulnsBullseyePointRelease(t *testing.T) {
	dir := importedDB(t)
	rep, _ := vulnJSON(t, dir, 1, fixture(t, "bullseye"))
	if rep.Image.OS == nil || rep.Image.OS.VersionID != "11" {
		t.Fatalf("os %+v", rep.Image.OS)
	}
	st, fs := sec020(t, rep)
	if st != "fail" {
		t.Fatalf("SEC-020 %s", st)
	}
	vetoes := 0
	for _, v := range rep.Verdict.Vetoes {
		if v.CheckID == "SEC-020" {
			vetoes++
		}
	}
	if vetoes == 0 {
		t.Error("no fixable CVSS >= 7.0 veto on an unpatched bullseye")
	}
	dpkg, err := exec.LookPath("dpkg")
	if err != nil {
		t.Skip("no dpkg to cross-check the version ordering")
	}
	checked := 0
	for _, f := range fs {
		fixed, installed, pkg := evidence(f, "fixed version"), evidence(f, "installed version"), evidence(f, "package")
		if installed == "" || fixed == "" || strings.HasPrefix(fixed, "no fix") || !strings.HasSuffix(pkg, "Debian:11") {
			continue
		}
		// Debian advisories name the source package's version.
		if src := evidence(f, "advisory package"); src != "" {
			if parts := strings.Fields(src); len(parts) >= 3 {
				installed = parts[len(parts)-1]
			}
		}
		if err := exec.Command(dpkg, "--compare-versions", installed, "lt", fixed).Run(); err != nil {
			t.Errorf("%s: dpkg says %s is not below the fix %s", f.Title, installed, fixed)
		}
		checked++
	}
	if checked < 10 {
		t.Errorf("only %d fixable Debian findings cross-checked", checked)
	}
}
