package checks_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/source"
)

const pinned = "registry.example/app@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

// realCopyright reads a real Debian bookworm copyright file kept for the analyzer tests.
func realCopyright(t *testing.T, pkg string) string {
	t.Helper()
	data, err := os.ReadFile("../analyzer/testdata/copyright/" + pkg)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func dpkgEntry(name, version string) string {
	return fmt.Sprintf("Package: %s\nStatus: install ok installed\nVersion: %s\nArchitecture: amd64\n\n", name, version)
}

// licensedImage is a Debian-like image whose status lists the packages, with
// the given copyright files (package name -> content) in a second layer.
func licensedImage(status string, copyrights map[string]string, extra ...imagetest.File) imagetest.Spec {
	var layer []imagetest.File
	for pkg, c := range copyrights {
		layer = append(layer, imagetest.Text("/usr/share/doc/"+pkg+"/copyright", c))
	}
	layer = append(layer, imagetest.Text("/var/lib/dpkg/status", status))
	layer = append(layer, extra...)
	spec := base(layer)
	spec.Config.User = "app"
	return spec
}

func TestLicenseDenylistVetoesAGPL(t *testing.T) {
	status := dpkgEntry("ghostscript", "10.0.0~dfsg-11+deb12u9") + dpkgEntry("libc6", "2.36-9+deb12u14") + dpkgEntry("libcap2", "1:2.66-4")
	rep := judge(t, licensedImage(status, map[string]string{
		"ghostscript": realCopyright(t, "ghostscript"),
		"libc6":       realCopyright(t, "libc6"),
		"libcap2":     realCopyright(t, "libcap2"), // "BSD-3-clause or GPL-2": no AGPL
	}), pinned)
	r := expect(t, rep, "CMP-002", checks.Fail, "ghostscript 10.0.0~dfsg-11+deb12u9 (deb) is in part licensed under AGPL-3.0-or-later")
	if len(r.Findings) != 1 {
		t.Fatalf("only ghostscript is AGPL: %+v", r.Findings)
	}
	f := r.Findings[0]
	if !f.Veto || f.Severity != checks.Critical || rep.Verdict.Pass {
		t.Errorf("an AGPL package must be a veto that fails the image: %+v %+v", f, rep.Verdict)
	}
	ev := f.Evidence[0]
	if ev.Path != "/usr/share/doc/ghostscript/copyright" || ev.Layer == nil || *ev.Layer != 1 || !strings.HasPrefix(ev.LayerDigest, "sha256:") || !strings.Contains(ev.Value, "AGPL-3.0-or-later") {
		t.Errorf("evidence must name the copyright file, its layer and the license: %+v", ev)
	}
	if len(f.Evidence) < 2 || f.Evidence[1].Path != "/var/lib/dpkg/status" {
		t.Errorf("evidence must also name the package record: %+v", f.Evidence)
	}
}

func TestLicenseDenylistChoices(t *testing.T) {
	cases := []struct {
		license string
		veto    bool
	}{
		{"GPL-2.0-only OR AGPL-3.0-only", false},
		{"AGPL-3.0-only OR AGPL-3.0-or-later", true},
		{"MIT AND AGPL-3.0-only", true},
		{"AGPL-3+ with font exception", true},
		{"GPL-3+", false},
	}
	for _, c := range cases {
		t.Run(c.license, func(t *testing.T) {
			dep5 := "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: 2024 Someone\nLicense: " + c.license + "\n"
			rep := judge(t, licensedImage(dpkgEntry("pkg", "1.0-1"), map[string]string{"pkg": dep5}), pinned)
			want := checks.Pass
			if c.veto {
				want = checks.Fail
			}
			expect(t, rep, "CMP-002", want)
		})
	}
}

// The denylist comes from the policy's settings.
func TestLicenseDenylistOverride(t *testing.T) {
	judgeDenied := func(denied []string) *report.Report {
		pol := policy.Default()
		pol.Settings.DeniedLicenses = denied
		img := imagetest.Image(t, withCreated(licensedImage(dpkgEntry("libc6", "2.36-9"), map[string]string{"libc6": realCopyright(t, "libc6")})))
		opened, err := source.Open(context.Background(), imagetest.WriteLayout(t, t.TempDir(), img, pinned), source.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer opened.Close()
		e, err := engine.New(engine.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := e.Scan(context.Background(), opened, engine.ObserveOptions{}, pol, now)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	expect(t, judgeDenied([]string{"GPL-2.0-or-later"}), "CMP-002", checks.Fail, "libc6 2.36-9 (deb) is in part licensed under GPL-2.0-or-later")
	expect(t, judgeDenied([]string{}), "CMP-002", checks.Skipped)
}

func withCreated(s imagetest.Spec) imagetest.Spec {
	if s.Created.IsZero() {
		s.Created = now.Add(-48 * time.Hour)
	}
	return s
}

func TestUnknownLicenses(t *testing.T) {
	status := dpkgEntry("tzdata", "2026f") + dpkgEntry("libc6", "2.36-9") + dpkgEntry("nodoc", "1") + dpkgEntry("zlib1g", "1:1.2.13")
	rep := judge(t, licensedImage(status, map[string]string{
		"tzdata": realCopyright(t, "tzdata"), // public-domain: not an SPDX license
		"libc6":  realCopyright(t, "libc6"),
		"zlib1g": realCopyright(t, "zlib1g"),
	}), pinned)
	r := expect(t, rep, "CMP-003", checks.Fail, "1 of 4 packages have no license found, 1 declare licenses that are not SPDX expressions")
	f := r.Findings[0]
	if f.Severity != checks.Low || len(r.Findings) != 1 {
		t.Fatalf("one low finding: %+v", r.Findings)
	}
	var vals []string
	for _, e := range f.Evidence {
		vals = append(vals, e.Field+"="+e.Value)
	}
	got := strings.Join(vals, "|")
	for _, want := range []string{"package tzdata 2026f=not SPDX: public-domain", "package nodoc 1=no license found"} {
		if !strings.Contains(got, want) {
			t.Errorf("evidence lacks %q: %s", want, got)
		}
	}
	if strings.Contains(got, "libc6") || strings.Contains(got, "zlib1g") {
		t.Errorf("packages with SPDX licenses are not unknown: %s", got)
	}
}

func TestUnknownLicensesBounded(t *testing.T) {
	var status strings.Builder
	for i := range 500 {
		status.WriteString(dpkgEntry(fmt.Sprintf("pkg%03d", i), "1"))
	}
	rep := judge(t, licensedImage(status.String(), nil), pinned)
	r := expect(t, rep, "CMP-003", checks.Fail, "500 of 500 packages have no license found")
	if n := len(r.Findings[0].Evidence); n > 21 {
		t.Errorf("evidence must be bounded, got %d items", n)
	}
	last := r.Findings[0].Evidence[len(r.Findings[0].Evidence)-1]
	if last.Value != "480 more not listed" {
		t.Errorf("the evidence must count the packages not listed: %+v", last)
	}
}

func TestInventorySummary(t *testing.T) {
	status := dpkgEntry("libc6", "2.36-9") + dpkgEntry("tzdata", "2026f")
	rep := judge(t, licensedImage(status, map[string]string{"libc6": realCopyright(t, "libc6")},
		imagetest.Text("/lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\n\n")), pinned)
	r := expect(t, rep, "CMP-001", checks.Pass, "3 packages (2 deb, 1 apk); 2 with an SPDX license")
	f := r.Findings[0]
	if f.Severity != checks.Info || f.Veto {
		t.Errorf("CMP-001 is info: %+v", f)
	}
	var paths []string
	for _, e := range f.Evidence {
		if e.Path != "" {
			paths = append(paths, e.Path+" "+e.Value)
		}
	}
	if strings.Join(paths, ",") != "/lib/apk/db/installed 1 package,/var/lib/dpkg/status 2 packages" {
		t.Errorf("evidence must name the package databases with their counts: %q", paths)
	}
}
