package vulndb

import (
	"testing"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// bookwormGlibcOpenSSL is a Debian 12 image with glibc 2.36-9+deb12u4
// (libc6, libc-bin) and an openssl before DSA-5532-1.
func bookwormGlibcOpenSSL() *inventory.Inventory {
	return debianInv(
		inventory.Package{Name: "libc6", Version: "2.36-9+deb12u4", SourceName: "glibc", SourceVersion: "2.36-9+deb12u4", Type: "os"},
		inventory.Package{Name: "libc-bin", Version: "2.36-9+deb12u4", SourceName: "glibc", SourceVersion: "2.36-9+deb12u4", Type: "os"},
		inventory.Package{Name: "libssl3", Version: "3.0.11-1~deb12u1", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u1", Type: "os"},
	)
}

// Debian's own urgency ranks a Debian vulnerability, as Trivy's vendor
// severity does; the CVSS score is kept. glibc's CVE-2019-1010022 (CVSS
// 9.8, which Debian marks unimportant: "a non-security bug") used to top
// every Debian report.
func TestDebianUrgencyRanks(t *testing.T) {
	db := realDB(t, "Debian")
	rep, err := db.Match(bookwormGlibcOpenSSL())
	if err != nil {
		t.Fatal(err)
	}
	m := find(rep, "glibc", "CVE-2019-1010022")
	if m == nil {
		t.Fatal("CVE-2019-1010022 not matched")
	}
	if m.Vendor == nil || m.Vendor.Value != "unimportant" || m.Vendor.Source != "Debian" {
		t.Fatalf("vendor severity %+v, want Debian unimportant", m.Vendor)
	}
	if m.Rating() != "low" || m.RatingSource() != "Debian urgency unimportant" {
		t.Errorf("rating %q (%s), want low from Debian's urgency", m.Rating(), m.RatingSource())
	}
	if m.Score.Value != 9.8 || m.Score.Vector == "" {
		t.Errorf("CVSS %v %q: the score must be kept", m.Score.Value, m.Score.Vector)
	}
	if rep.Matches[0].ID == "CVE-2019-1010022" || rep.Matches[0].Rating() == "low" {
		t.Errorf("first match %s (%s): an unimportant one ranks below the others", rep.Matches[0].ID, rep.Matches[0].Rating())
	}
	// "not yet assigned" says nothing: CVE-2023-5363 ranks by its CVSS.
	o := find(rep, "openssl", "CVE-2023-5363")
	if o == nil || o.Vendor != nil || o.Rating() != o.Score.Rating || o.Score.Value < 7 {
		t.Fatalf("CVE-2023-5363: %+v", o)
	}
	for i := 1; i < len(rep.Matches); i++ {
		if ratingRank(rep.Matches[i-1].Rating()) < ratingRank(rep.Matches[i].Rating()) {
			t.Fatalf("matches not ordered by rating: %s (%s) before %s (%s)", rep.Matches[i-1].ID, rep.Matches[i-1].Rating(), rep.Matches[i].ID, rep.Matches[i].Rating())
		}
	}
}

// The structured form carries what a report's vulnerabilities[] needs.
func TestVulnerabilityStructured(t *testing.T) {
	db := realDB(t, "Debian")
	rep, err := db.Match(bookwormGlibcOpenSSL())
	if err != nil {
		t.Fatal(err)
	}
	var got *Vulnerability
	for _, v := range rep.Vulnerabilities() {
		if v.ID == "CVE-2023-5363" {
			got = &v
		}
	}
	if got == nil {
		t.Fatal("CVE-2023-5363 missing from Vulnerabilities")
	}
	want := Vulnerability{ID: "CVE-2023-5363", Package: "deb/openssl", Name: "openssl", Ecosystem: inventory.Deb, OSVEcosystem: "Debian:12",
		Installed: "3.0.11-1~deb12u1", Fixed: "3.0.11-1~deb12u2", HasFix: true, Path: "/var/lib/dpkg/status"}
	if got.Package != want.Package || got.Name != want.Name || got.Ecosystem != want.Ecosystem || got.OSVEcosystem != want.OSVEcosystem ||
		got.Installed != want.Installed || got.Fixed != want.Fixed || got.HasFix != want.HasFix || got.Path != want.Path {
		t.Errorf("got %+v", *got)
	}
	if len(got.Aliases) == 0 || !contains(got.Aliases, "DSA-5532-1") || contains(got.Aliases, "CVE-2023-5363") {
		t.Errorf("aliases %v: want the DSA, not the main id", got.Aliases)
	}
	if got.CVSS == nil || got.CVSS.Score < 7 || got.CVSS.Version == "" || got.CVSS.Vector == "" || got.Severity != "high" || got.SeveritySource == "" {
		t.Errorf("severity: %+v %+v", got.CVSS, got)
	}
	if got.InstalledPackages[0] != "libssl3" {
		t.Errorf("installed packages %v", got.InstalledPackages)
	}
	// Unfixed: no fix known (what --ignore-unfixed filters on).
	for _, v := range rep.Vulnerabilities() {
		if v.ID == "CVE-2019-1010022" && (v.HasFix || v.Fixed != "" || v.Severity != "low" || v.Vendor == nil) {
			t.Errorf("CVE-2019-1010022: %+v", v)
		}
	}
}
