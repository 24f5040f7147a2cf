package vulndb

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// The Debian export imports completely: every record except the withdrawn
// ones, with the releases that the data covers.
func TestImportDebianCounts(t *testing.T) {
	db := realDB(t, "Debian")
	records, withdrawn, _ := zipCounts(t, "Debian")
	var info *SourceInfo
	for _, s := range db.Sources() {
		if s.Name == "Debian" {
			info = &s
		}
	}
	if info == nil {
		t.Fatal("no Debian source after the import")
	}
	if info.Records != records-withdrawn {
		t.Errorf("stored %d records, the export has %d (%d withdrawn)", info.Records, records, withdrawn)
	}
	for _, eco := range []string{"Debian:11", "Debian:12", "Debian:13"} {
		if info.Ecosystems[eco] == 0 {
			t.Errorf("no entries for %s: %v", eco, info.Ecosystems)
		}
	}
	if info.Newest.IsZero() || info.Newest.Year() != 2025 {
		t.Errorf("newest record %v, the export's README says 2025-02-12", info.Newest)
	}
}

// Debian by source package: the binary package libssl3 is matched through its
// source openssl; a version inside CVE-2023-5678's Debian:12 range is
// affected, the fixed version and a later one are not.
func TestDebianRangeBySource(t *testing.T) {
	db := realDB(t, "Debian")
	rec := zipRecord(t, "Debian", "CVE-2023-5678")
	fixed := fixedIn(rec, "Debian:12", "openssl")
	if fixed == "" {
		t.Fatal("CVE-2023-5678 names no Debian:12 fix for openssl")
	}
	for _, c := range []struct {
		version string
		want    bool
	}{
		{"3.0.11-1~deb12u2", true},
		{"3.0.9-1", true},
		{fixed, false},
		{"3.0.15-1~deb12u1", false},
	} {
		rep, err := db.Match(debianInv(inventory.Package{Name: "libssl3", Version: c.version, SourceName: "openssl", SourceVersion: c.version}))
		if err != nil {
			t.Fatal(err)
		}
		m := find(rep, "openssl", "CVE-2023-5678")
		if (m != nil) != c.want {
			t.Errorf("openssl %s: matched CVE-2023-5678 = %v, want %v", c.version, m != nil, c.want)
			continue
		}
		if m == nil {
			continue
		}
		if m.Fixed != fixed || m.Ecosystem != "Debian:12" || m.Package.Name != "libssl3" {
			t.Errorf("openssl %s: %+v, want fixed %s in Debian:12 for libssl3", c.version, m, fixed)
		}
		if !m.Score.IsCVSS() || m.Score.Vector != rec.Severity[0].Score {
			t.Errorf("score %+v, want the record's vector %s", m.Score, rec.Severity[0].Score)
		}
	}
}

// Epochs and tildes: glibc's +deb12uN and openssh's 1: epoch order as dpkg
// orders them, so nothing is reported for versions past the fix.
func TestDebianEpochTilde(t *testing.T) {
	db := realDB(t, "Debian")
	rec := zipRecord(t, "Debian", "CVE-2023-38408") // openssh, fixed with an epoch
	fixed := fixedIn(rec, "Debian:12", "openssh")
	if !strings.HasPrefix(fixed, "1:") {
		t.Fatalf("CVE-2023-38408's Debian:12 fix %q has no epoch", fixed)
	}
	withoutEpoch := strings.TrimPrefix(fixed, "1:")
	rep, err := db.Match(debianInv(
		inventory.Package{Name: "openssh-client", Version: "1:9.2p1-2", SourceName: "openssh", SourceVersion: "1:9.2p1-2"},
	))
	if err != nil {
		t.Fatal(err)
	}
	if find(rep, "openssh", "CVE-2023-38408") == nil {
		t.Error("openssh 1:9.2p1-2 is below the fix and must be matched")
	}
	// Without its epoch the fixed version sorts below every 1: version:
	// a package at 1:<fixed> is past it.
	rep, err = db.Match(debianInv(
		inventory.Package{Name: "openssh-client", Version: "1:" + withoutEpoch, SourceName: "openssh", SourceVersion: "1:" + withoutEpoch},
	))
	if err != nil {
		t.Fatal(err)
	}
	if m := find(rep, "openssh", "CVE-2023-38408"); m != nil {
		t.Errorf("openssh at the fixed version matched: %+v", m)
	}
}

// A DSA that bundles CVE fixes is listed with the CVE it relates to, not
// reported a second time.
func TestDebianDSAFoldedIntoCVE(t *testing.T) {
	db := realDB(t, "Debian")
	dsa := zipRecord(t, "Debian", "DSA-5532-1")
	if len(dsa.Related) != 1 || dsa.Related[0] != "CVE-2023-5363" {
		t.Fatalf("DSA-5532-1 relates %v, the test expects CVE-2023-5363", dsa.Related)
	}
	rep, err := db.Match(debianInv(inventory.Package{Name: "libssl3", Version: "3.0.11-1~deb12u1", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u1"}))
	if err != nil {
		t.Fatal(err)
	}
	m := find(rep, "openssl", "CVE-2023-5363")
	if m == nil {
		t.Fatal("CVE-2023-5363 not matched for openssl 3.0.11-1~deb12u1")
	}
	if m.ID != "CVE-2023-5363" || !contains(m.IDs, "DSA-5532-1") {
		t.Errorf("ids %v (main %s): want CVE-2023-5363 with DSA-5532-1", m.IDs, m.ID)
	}
	for _, x := range rep.Matches {
		if x.ID == "DSA-5532-1" {
			t.Errorf("DSA-5532-1 reported on its own: %+v", x)
		}
	}
	seen := map[string]bool{}
	for _, x := range rep.Matches {
		if seen[x.ID] {
			t.Errorf("%s reported twice for one package", x.ID)
		}
		seen[x.ID] = true
	}
}

// Debian source packages without a record and packages of another release
// are not matched.
func TestDebianOtherRelease(t *testing.T) {
	db := realDB(t, "Debian")
	inv := debianInv(inventory.Package{Name: "libssl3", Version: "3.0.11-1~deb12u1", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u1"})
	inv.OS.VersionID = "99"
	rep, err := db.Match(inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Matches) != 0 {
		t.Errorf("a release without data matched %d vulnerabilities", len(rep.Matches))
	}
	if len(rep.Gaps) != 1 || rep.Gaps[0].Ecosystem != "Debian:99" {
		t.Errorf("gaps %+v, want Debian:99 reported as not evaluated", rep.Gaps)
	}
}

// Go: a pseudo-version of golang.org/x/net inside GO-2022-0969's range is
// matched, the fixing pseudo-version is not; stdlib from the toolchain
// version; the CVSS comes from the CVE alias in the Debian data, said so.
func TestGoPseudoVersionAndStdlib(t *testing.T) {
	db := realDB(t, "Go", "Debian")
	rec := zipRecord(t, "Go", "GO-2022-0969")
	fixed := fixedIn(rec, "Go", "golang.org/x/net")
	if !strings.HasPrefix(fixed, "0.0.0-2022") {
		t.Fatalf("GO-2022-0969 fix %q", fixed)
	}
	rep, err := db.Match(langInv("Go", "golang.org/x/net", "v0.0.0-20210226172049-e18ecbb05110", "stdlib", "go1.18.5"))
	if err != nil {
		t.Fatal(err)
	}
	m := find(rep, "golang.org/x/net", "GO-2022-0969")
	if m == nil {
		t.Fatalf("x/net pseudo-version not matched by GO-2022-0969; matches %d", len(rep.Matches))
	}
	if m.Fixed != fixed || !contains(m.IDs, "CVE-2022-27664") {
		t.Errorf("%+v: want fixed %s and the CVE alias", m, fixed)
	}
	if !m.Score.IsCVSS() || !strings.Contains(m.Score.Basis, "alias CVE-2022-27664") || m.Score.Value < 7 {
		t.Errorf("score %+v: want the CVSS of CVE-2022-27664 from the Debian data", m.Score)
	}
	if find(rep, "stdlib", "GO-2022-0969") == nil {
		t.Error("stdlib go1.18.5 (fixed in 1.18.6) not matched by GO-2022-0969")
	}
	rep, err = db.Match(langInv("Go", "golang.org/x/net", "v"+fixed, "stdlib", "1.19.1"))
	if err != nil {
		t.Fatal(err)
	}
	if find(rep, "golang.org/x/net", "GO-2022-0969") != nil || find(rep, "stdlib", "GO-2022-0969") != nil {
		t.Error("fixed versions matched GO-2022-0969")
	}
}

// The Go toolchain of a binary is matched as stdlib even when the inventory
// has no Go packages.
func TestGoStdlibFromBinary(t *testing.T) {
	db := realDB(t, "Go")
	inv := &inventory.Inventory{Binaries: map[string]*inventory.Binary{
		"/usr/local/bin/app": {Path: "/usr/local/bin/app", Layer: 2, Format: "elf", GoVersion: "go1.18.5"},
	}}
	rep, err := db.Match(inv)
	if err != nil {
		t.Fatal(err)
	}
	m := find(rep, "stdlib", "GO-2022-0969")
	if m == nil {
		t.Fatal("stdlib of go1.18.5 not matched")
	}
	if m.Package.Path != "/usr/local/bin/app" || m.Package.Layer != 2 || m.Version != "1.18.5" {
		t.Errorf("package %+v version %s", m.Package, m.Version)
	}
}

// npm lodash 4.17.15 is affected by the prototype pollution fixed in 4.17.19,
// with GHSA's CVSS vector; 4.17.21 is not.
func TestNpmLodash(t *testing.T) {
	db := realDB(t, "npm")
	rec := zipRecord(t, "npm", "GHSA-p6mc-m468-83gw")
	rep, err := db.Match(langInv("npm", "lodash", "4.17.15"))
	if err != nil {
		t.Fatal(err)
	}
	m := find(rep, "lodash", "GHSA-p6mc-m468-83gw")
	if m == nil {
		t.Fatalf("lodash 4.17.15 not matched; %d matches", len(rep.Matches))
	}
	if m.ID != "GHSA-p6mc-m468-83gw" || !contains(m.IDs, "CVE-2020-8203") || m.Fixed != fixedIn(rec, "npm", "lodash") || m.Score.Vector != rec.Severity[0].Score {
		t.Errorf("%+v", m)
	}
	if m.Score.Value < 7 || m.Score.Rating != "high" {
		t.Errorf("score %+v, want high (CVSS 7.4)", m.Score)
	}
	rep, err = db.Match(langInv("npm", "lodash", "4.17.21"))
	if err != nil {
		t.Fatal(err)
	}
	if find(rep, "lodash", "GHSA-p6mc-m468-83gw") != nil {
		t.Error("lodash 4.17.21 matched a vulnerability fixed in 4.17.19")
	}
}

// PyPI: names are compared in their PEP 503 form and versions in PEP 440
// order ("Django" and "django", 3.2.4 < 3.2.5 < 3.2.10).
func TestPyPINormalisedName(t *testing.T) {
	db := realDB(t, "PyPI")
	rec := zipRecord(t, "PyPI", "GHSA-xpfp-f569-q3p2") // Django SQL injection, CVE-2021-35042
	fixed := ""
	for _, a := range rec.Affected {
		for _, rg := range a.Ranges {
			for _, e := range rg.Events {
				if e.Fixed != "" && strings.HasPrefix(e.Fixed, "3.2") {
					fixed = e.Fixed
				}
			}
		}
	}
	if fixed != "3.2.5" {
		t.Fatalf("fix %q", fixed)
	}
	rep, err := db.Match(langInv("PyPI", "Django", "3.2.4"))
	if err != nil {
		t.Fatal(err)
	}
	if find(rep, "Django", "GHSA-xpfp-f569-q3p2") == nil {
		t.Errorf("Django 3.2.4 not matched; %d matches", len(rep.Matches))
	}
	rep, err = db.Match(langInv("PyPI", "django", "3.2.10"))
	if err != nil {
		t.Fatal(err)
	}
	if find(rep, "django", "GHSA-xpfp-f569-q3p2") != nil {
		t.Error("3.2.10 is past 3.2.5 (PEP 440, not string order)")
	}
}

// Alpine packages are matched by origin in Alpine:vX.Y with apk ordering.
func TestAlpineOrigin(t *testing.T) {
	db := realDB(t, "Alpine")
	rec := zipRecord(t, "Alpine", "CVE-2023-5678")
	fixed := fixedIn(rec, "Alpine:v3.18", "openssl")
	if fixed == "" {
		t.Fatal("no Alpine:v3.18 fix for openssl in CVE-2023-5678")
	}
	inv := &inventory.Inventory{
		OS: &inventory.OS{ID: "alpine", VersionID: "3.18.4"},
		Packages: []inventory.Package{
			{Name: "libcrypto3", Version: "3.1.4-r0", SourceName: "openssl", SourceVersion: "3.1.4-r0", Ecosystem: "apk", Path: "/lib/apk/db/installed"},
		},
	}
	rep, err := db.Match(inv)
	if err != nil {
		t.Fatal(err)
	}
	m := find(rep, "openssl", "CVE-2023-5678")
	if m == nil || m.Ecosystem != "Alpine:v3.18" || m.Fixed != fixed {
		t.Fatalf("%+v: want a match in Alpine:v3.18 fixed in %s", m, fixed)
	}
	inv.Packages[0].Version, inv.Packages[0].SourceVersion = fixed, fixed
	if rep, err = db.Match(inv); err != nil {
		t.Fatal(err)
	}
	if find(rep, "openssl", "CVE-2023-5678") != nil {
		t.Error("the fixed apk version matched")
	}
}

// Withdrawn advisories are not stored and never matched.
func TestWithdrawnIgnored(t *testing.T) {
	db := realDB(t, "Go")
	_, n, id := zipCounts(t, "Go")
	if n == 0 {
		t.Skip("no withdrawn record in the Go export")
	}
	for _, s := range db.sources {
		rows, err := s.byID(id)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > 0 {
			t.Errorf("withdrawn %s stored in %s", id, s.info.Name)
		}
	}
}

// Packages of ecosystems without installed data are reported as gaps, never
// silently passed.
func TestGapsForMissingEcosystems(t *testing.T) {
	dir := t.TempDir()
	if _, err := Import(context.Background(), dir, osvZip(t, "Go"), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	inv := langInv("npm", "lodash", "4.17.15")
	inv.Packages = append(inv.Packages, inventory.Package{Name: "weird", Version: "1", Ecosystem: "binary"})
	rep, err := db.Match(inv)
	if err != nil {
		t.Fatal(err)
	}
	var npm, other bool
	for _, g := range rep.Gaps {
		npm = npm || (g.Ecosystem == "npm" && strings.Contains(g.Reason, "db update"))
		other = other || g.Ecosystem == "binary"
	}
	if !npm || !other {
		t.Errorf("gaps %+v: want npm (no data installed) and binary (no OSV ecosystem)", rep.Gaps)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// The same export gives the same database and the same matches, whatever
// order the import workers finish in.
func TestDeterministic(t *testing.T) {
	inv := langInv("Go", "golang.org/x/net", "v0.0.0-20210226172049-e18ecbb05110", "stdlib", "go1.19.8", "golang.org/x/text", "v0.3.3")
	var first string
	for i := 0; i < 2; i++ {
		dir := t.TempDir()
		if _, err := Import(context.Background(), dir, osvZip(t, "Go"), ImportOptions{Workers: 1 + 3*i}); err != nil {
			t.Fatal(err)
		}
		db, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := db.Match(inv)
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, m := range rep.Matches {
			fmt.Fprintf(&b, "%s %s %s %v %s %.1f\n", m.Name, m.ID, m.Fixed, m.IDs, m.Introduced, m.Score.Value)
		}
		if i == 0 {
			first = b.String()
			if len(rep.Matches) < 50 {
				t.Fatalf("only %d matches", len(rep.Matches))
			}
		} else if b.String() != first {
			t.Errorf("second import matches differently:\n%s\nvs\n%s", b.String(), first)
		}
	}
}
