package checks_test

import (
	"context"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/source"
	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

// realRecords installs real records of the shared OSV exports, by source.
func realRecords(t *testing.T, bySource map[string][]string) *vulndb.DB {
	t.Helper()
	dir := t.TempDir()
	for eco, ids := range bySource {
		if _, err := vulndb.Import(context.Background(), dir, imagetest.OSVRecords(t, eco, ids...), vulndb.ImportOptions{Source: eco}); err != nil {
			t.Fatal(err)
		}
	}
	db, err := vulndb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// judgeMixed scans a Debian 12 image with glibc, an old openssl and the same
// lodash 4.17.20 under two applications (two paths, two layers).
func judgeMixed(t *testing.T, db *vulndb.DB) *report.Report {
	t.Helper()
	status := "Package: libc6\nStatus: install ok installed\nSource: glibc\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\n\n" +
		"Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.11-1~deb12u1\nArchitecture: amd64\n\n"
	lodash := `{"name":"lodash","version":"4.17.20","license":"MIT"}`
	spec := imagetest.Spec{Layers: [][]imagetest.File{imagetest.Debian(),
		{imagetest.Text("/var/lib/dpkg/status", status), imagetest.Text("/app/node_modules/lodash/package.json", lodash)},
		{imagetest.Text("/srv/admin/node_modules/lodash/package.json", lodash)}},
		Config: v1.Config{Entrypoint: []string{"/usr/bin/dash"}, User: "app"}, Created: now}
	img := imagetest.Image(t, spec)
	input := imagetest.WriteLayout(t, t.TempDir(), img, "registry.example/app:1.0")
	opened, err := source.Open(context.Background(), input, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	eng, err := engine.New(engine.Deps{Vulns: db})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eng.Scan(context.Background(), opened, engine.ObserveOptions{NoCache: true, SkipSupply: true}, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// SEC-020 findings carry the package (within its ecosystem), the advisory
// id and its aliases, so that exceptions by vulnerability or package match
// them; the title and these fields do not depend on where the package was
// found, which only the evidence says.
func TestSEC020FindingIdentity(t *testing.T) {
	db := realRecords(t, map[string][]string{
		"Debian": {"CVE-2023-5363", "DSA-5532-1", "CVE-2019-1010022"},
		"npm":    {"GHSA-35jh-r3h4-6jhm", "GHSA-29mw-wpgm-hmr9"},
	})
	rep := judgeMixed(t, db)
	r := result(t, rep, "SEC-020")
	byKey := map[string][]checks.Finding{}
	for _, f := range r.Findings {
		if f.Vulnerability != "" {
			byKey[f.Package+" "+f.Vulnerability] = append(byKey[f.Package+" "+f.Vulnerability], f)
		}
	}
	ssl := byKey["deb/openssl CVE-2023-5363"]
	if len(ssl) != 1 || !containsStr(ssl[0].Aliases, "DSA-5532-1") || !ssl[0].Veto {
		t.Fatalf("openssl: %+v (all: %v)", ssl, keys(byKey))
	}
	// Debian marks it unimportant: low, though CVSS says 9.8 (kept in the title).
	if g := byKey["deb/glibc CVE-2019-1010022"]; len(g) != 1 || g[0].Veto || g[0].Severity != checks.Low ||
		!strings.Contains(g[0].Title, "CVSS 9.8 critical, Debian urgency unimportant") {
		t.Errorf("glibc: %+v", g)
	}
	// lodash at two paths: two findings (each copy is fixed separately),
	// the same identity and title; the paths differ in the evidence only.
	lo := byKey["npm/lodash GHSA-35jh-r3h4-6jhm"]
	if len(lo) != 2 {
		t.Fatalf("lodash GHSA-35jh-r3h4-6jhm: %d findings, want one per path: %v", len(lo), keys(byKey))
	}
	if lo[0].Title != lo[1].Title || !containsStr(lo[0].Aliases, "CVE-2021-23337") {
		t.Errorf("lodash findings differ in identity: %q / %q, aliases %v", lo[0].Title, lo[1].Title, lo[0].Aliases)
	}
	if p0, p1 := lo[0].Evidence[0].Path, lo[1].Evidence[0].Path; p0 == p1 || !strings.Contains(p0+p1, "/srv/admin/") {
		t.Errorf("evidence paths %q, %q", p0, p1)
	}
	for _, f := range r.Findings {
		if f.Vulnerability == "" {
			continue
		}
		if strings.Contains(f.Title, "/") && !strings.HasPrefix(f.Package, "npm/") || strings.Contains(f.Title, "sha256:") || strings.Contains(f.Title, "node_modules") {
			t.Errorf("title names a path or digest: %q", f.Title)
		}
	}

	// Exceptions by vulnerability (an alias) and by package now match.
	pol, err := policy.Parse("policy.yaml", []byte(`exceptions:
  - vulnerability: DSA-5532-1
    package: deb/openssl
    reason: test
  - vulnerability: CVE-2021-23337
    package: npm/lodash
    reason: test
`))
	if err != nil {
		t.Fatal(err)
	}
	_, w := pol.Apply(rep.Results, "registry.example/app:1.0", now)
	waived := map[string]int{}
	for _, a := range w.Applied {
		waived[a.Finding.Package+" "+a.Finding.Vulnerability]++
	}
	if waived["deb/openssl CVE-2023-5363"] != 1 || waived["npm/lodash GHSA-35jh-r3h4-6jhm"] != 2 || len(w.Applied) != 3 {
		t.Errorf("waived %v", waived)
	}
}

func containsStr(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func keys(m map[string][]checks.Finding) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
