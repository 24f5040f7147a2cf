package analyzer

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/license"
	"github.com/shipshape-dev/shipshape/internal/source"
)

func readCopyright(t testing.TB, pkg string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "copyright", pkg))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// dep5Licenses is an independent reading of a DEP-5 file: every "License:"
// line of a paragraph that also has a "Files:" line.
func dep5Licenses(data []byte) []string {
	var out []string
	for _, para := range regexp.MustCompile(`\n\s*\n`).Split(string(data), -1) {
		if !regexp.MustCompile(`(?m)^Files:`).MatchString(para) {
			continue
		}
		if m := regexp.MustCompile(`(?m)^License:[ \t]*(.*)$`).FindStringSubmatch(para); m != nil {
			v := strings.Join(strings.Fields(m[1]), " ")
			if v != "" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// Real Debian bookworm copyright files (apt-get download, dpkg-deb -x).
func TestParseDebianCopyrightDEP5Real(t *testing.T) {
	files, _ := filepath.Glob("testdata/copyright/*")
	if len(files) < 10 {
		t.Fatalf("testdata/copyright has %d files", len(files))
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if !isDEP5(data) {
			continue
		}
		got := ParseDebianCopyright(data)
		if want := dep5Licenses(data); !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", filepath.Base(f), got, want)
		}
		for _, n := range license.NormalizeAll(got) {
			if _, ok := license.Normalize(n); ok && !license.IsSPDX(n) {
				t.Errorf("%s: %q is not valid SPDX", filepath.Base(f), n)
			}
		}
	}
}

func TestGhostscriptIsAGPL(t *testing.T) {
	lics := license.NormalizeAll(ParseDebianCopyright(readCopyright(t, "ghostscript")))
	for _, want := range []string{"AGPL-3.0-or-later", "AGPL-3.0-or-later AND FTL", "Apache-2.0", "LGPL-2.1-only", "GPL-1.0-or-later", "Zlib", "MIT"} {
		if !slices.Contains(lics, want) {
			t.Errorf("ghostscript: %q missing from %q", want, lics)
		}
	}
	denied, agpl := 0, 0
	for _, l := range lics {
		if license.Parse(l).Denied([]string{"AGPL-3.0-only", "AGPL-3.0-or-later"}) {
			denied++
		}
	}
	for _, l := range dep5Licenses(readCopyright(t, "ghostscript")) {
		if strings.HasPrefix(l, "AGPL-3") {
			agpl++
		}
	}
	// AGPL-3+, "AGPL-3+ and FTL", "AGPL-3+ and custom", "AGPL-3+ with font exception".
	if denied != agpl || agpl != 4 {
		t.Errorf("ghostscript's Files paragraphs have %d AGPL license lines (want 4), %d denied: %q", agpl, denied, lics)
	}
}

// libc6's copyright file is free-form: it points at common-licenses after
// notices that grant "any later version".
func TestParseDebianCopyrightFreeForm(t *testing.T) {
	got := license.NormalizeAll(ParseDebianCopyright(readCopyright(t, "libc6")))
	if !slices.Equal(got, []string{"LGPL-2.1-or-later", "GPL-2.0-or-later"}) {
		t.Errorf("libc6: %q", got)
	}
	only := "This program is free software; under the terms of the GNU General Public License version 2.\n\nOn Debian systems, see /usr/share/common-licenses/GPL-2.\n"
	if got := ParseDebianCopyright([]byte(only)); !slices.Equal(got, []string{"GPL-2"}) {
		t.Errorf("version 2 only: %q", got)
	}
	unversioned := "Licensed under the GNU Lesser General Public License, version 3 or later.\nSee /usr/share/common-licenses/LGPL for the text.\n\nAnd also /usr/share/common-licenses/GPL for other parts.\n"
	if got := ParseDebianCopyright([]byte(unversioned)); !slices.Equal(got, []string{"LGPL-3+"}) {
		t.Errorf("unversioned link with a version in the notice: %q (the bare GPL link says no version: unknown)", got)
	}
	if got := ParseDebianCopyright([]byte("Copyright 1999 Someone.\nPermission is hereby granted, free of charge...\n")); len(got) != 0 {
		t.Errorf("a notice without a reference names no license: %q", got)
	}
}

// The post-pass gives dpkg packages the licenses of their copyright files,
// through doc directories that are symlinks, and normalises apk licenses.
func TestAttachLicensesOnImage(t *testing.T) {
	gs := string(readCopyright(t, "ghostscript"))
	status := "Package: ghostscript\nStatus: install ok installed\nVersion: 10.0.0~dfsg-11+deb12u9\nArchitecture: amd64\n\n" +
		"Package: libgs10\nStatus: install ok installed\nSource: ghostscript\nVersion: 10.0.0~dfsg-11+deb12u9\nArchitecture: amd64\n\n" +
		"Package: libc6\nStatus: install ok installed\nSource: glibc\nVersion: 2.36-9+deb12u14\nArchitecture: amd64\n\n" +
		"Package: tzdata\nStatus: install ok installed\nVersion: 2026f-0+deb12u1\nArchitecture: all\n\n" +
		"Package: nodoc\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\n"
	layers := [][]imagetest.File{
		{imagetest.Text("/var/lib/dpkg/status", status),
			imagetest.Text("/usr/share/doc/ghostscript/copyright", gs),
			imagetest.Symlink("/usr/share/doc/libgs10", "ghostscript"),
			imagetest.Text("/usr/share/doc/libc6/copyright", "placeholder, replaced in the next layer\n"),
			imagetest.Text("/usr/share/doc/tzdata/copyright", string(readCopyright(t, "tzdata"))),
			imagetest.Text("/lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nL:MIT\n\nP:busybox\nV:1.36.1-r5\nL:GPL-2.0-only\n\nP:old\nV:1\nL:MIT BSD-3-Clause\n\n"),
		},
		{imagetest.Text("/usr/share/doc/libc6/copyright", string(readCopyright(t, "libc6")))},
	}
	inv := runImage(t, layers)
	byName := map[string]inventory.Package{}
	for _, p := range inv.Packages {
		byName[p.Name] = p
	}
	for _, name := range []string{"ghostscript", "libgs10"} {
		p := byName[name]
		if !slices.Contains(p.Licenses, "AGPL-3.0-or-later") || !slices.Equal(p.LicensePaths, []string{"/usr/share/doc/ghostscript/copyright"}) {
			t.Errorf("%s: licenses %q paths %q", name, p.Licenses, p.LicensePaths)
		}
	}
	if p := byName["libc6"]; !slices.Equal(p.Licenses, []string{"LGPL-2.1-or-later", "GPL-2.0-or-later"}) {
		t.Errorf("libc6 must use the final layer's copyright file: %q", p.Licenses)
	}
	if p := byName["tzdata"]; !slices.Equal(p.Licenses, []string{"public-domain"}) || license.IsSPDX(p.Licenses[0]) {
		t.Errorf("tzdata: %q", p.Licenses)
	}
	if p := byName["nodoc"]; len(p.Licenses) != 0 || len(p.LicensePaths) != 0 {
		t.Errorf("nodoc has no copyright file: %+v", p)
	}
	if p := byName["old"]; !slices.Equal(p.Licenses, []string{"MIT BSD-3-Clause"}) {
		t.Errorf("an apk L: field without operators stays as written: %q", p.Licenses)
	}
	if p := byName["busybox"]; !slices.Equal(p.Licenses, []string{"GPL-2.0-only"}) {
		t.Errorf("busybox: %q", p.Licenses)
	}
}

func runImage(t *testing.T, layers [][]imagetest.File) *inventory.Inventory {
	t.Helper()
	img := imagetest.Image(t, imagetest.Spec{Layers: layers})
	opened, err := source.Open(context.Background(), imagetest.WriteLayout(t, t.TempDir(), img, "x:1"), source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	_, inv, err := Run(context.Background(), opened.Layers, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func FuzzParseDebianCopyright(f *testing.F) {
	files, _ := filepath.Glob("testdata/copyright/*")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("Format: x\n\nFiles: *\nLicense: GPL-2+ or\n , and\n\nLicense:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, l := range ParseDebianCopyright(data) {
			if l == "" || strings.ContainsAny(l, "\n\r") {
				t.Fatalf("bad license %q", l)
			}
			license.Normalize(l)
		}
	})
}
