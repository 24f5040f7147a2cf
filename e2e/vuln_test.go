package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/osv-scalibr/semantic"
	_ "modernc.org/sqlite" // to spoil a database in a test

	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

// osvData is the real OSV corpus beside the repository.
var osvData = filepath.Join("..", "..", "shared", "data", "osv")

func needOSV(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(osvData, "Debian", "all.zip")); err != nil {
		t.Skipf("real OSV data not found (%v)", err)
	}
}

// runVuln runs the binary with the vulnerability database in dbDir ("" for
// none) and without SHIPSHAPE_SKIP_VULNS from the test's environment.
func runVuln(t *testing.T, dbDir string, args ...string) run {
	t.Helper()
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "SHIPSHAPE_SKIP_VULNS=") && !strings.HasPrefix(e, "SHIPSHAPE_VULNDB_DIR=") {
			env = append(env, e)
		}
	}
	if dbDir == "" {
		dbDir = filepath.Join(t.TempDir(), "empty")
	}
	return runWith(t, append(env, "SHIPSHAPE_VULNDB_DIR="+dbDir), args...)
}

func vulnJSON(t *testing.T, dbDir string, wantCode int, args ...string) (jsonReport, run) {
	t.Helper()
	r := runVuln(t, dbDir, append([]string{"check", "--format", "json"}, args...)...)
	if r.code != wantCode {
		t.Fatalf("exit code %d, want %d\nstderr: %s\nstdout: %.2000s", r.code, wantCode, r.stderr, r.stdout)
	}
	var rep jsonReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%.500s", err, r.stdout)
	}
	return rep, r
}

// The real OSV exports, imported once through `shipshape db import`.
var imported struct {
	once sync.Once
	dir  string
	out  run
}

func importedDB(t *testing.T) string {
	t.Helper()
	needOSV(t)
	imported.once.Do(func() {
		// Beside the binary: TestMain removes that directory at the end.
		d := filepath.Join(filepath.Dir(bin), "vulndb")
		imported.dir = d
		imported.out = runVuln(t, d, "db", "import", osvData)
	})
	if imported.out.code != 0 {
		t.Fatalf("db import: exit %d\n%s%s", imported.out.code, imported.out.stdout, imported.out.stderr)
	}
	return imported.dir
}

// `db import` of the exports directory, then `db status`.
func TestVulnDBImportStatus(t *testing.T) {
	dir := importedDB(t)
	for _, eco := range []string{"Debian: 44152 records", "Go: ", "npm: 23224 records", "PyPI: 15555 records", "Alpine: 3655 records"} {
		if !strings.Contains(imported.out.stdout, eco) {
			t.Errorf("import output lacks %q:\n%s", eco, imported.out.stdout)
		}
	}
	if !strings.Contains(imported.out.stderr, "DSA-423") {
		t.Errorf("the one invalid Debian version (DSA-423) is not warned about:\n%s", imported.out.stderr)
	}
	st := runVuln(t, dir, "db", "status")
	if st.code != 0 || !strings.Contains(st.stdout, "44152 records") || !strings.Contains(st.stdout, "newest record 2025-02-12") || !strings.Contains(st.stdout, "end-of-life data") {
		t.Errorf("db status: %d\n%s%s", st.code, st.stdout, st.stderr)
	}
}

// sec020 returns the SEC-020 findings, each with its evidence fields.
func sec020(t *testing.T, rep jsonReport) (string, []finding) {
	t.Helper()
	st, fs := rep.status("SEC-020")
	if st == "" {
		t.Fatal("no SEC-020 result")
	}
	return st, fs
}

func evidence(f finding, field string) string {
	for _, e := range f.Evidence {
		if e.Field == field {
			return e.Value
		}
	}
	return ""
}

// The oldpkgs fixture: old curl from bookworm-security, a Go binary built
// with Go 1.19.8 against a 2021 golang.org/x/net, and old lodash, minimist
// and express. Known vulnerabilities are reported with fixed versions and
// CVSS scores, fixable CVSS >= 7 ones are vetoes, and nothing is reported
// for a version past its fix.
func TestVulnsOldPackages(t *testing.T) {
	dir := importedDB(t)
	rep, r := vulnJSON(t, dir, 1, fixture(t, "oldpkgs"))
	if strings.Contains(r.stderr, "last refreshed") {
		t.Errorf("a fresh database is reported stale: %s", r.stderr)
	}
	st, fs := sec020(t, rep)
	if st != "fail" {
		t.Fatalf("SEC-020 %s", st)
	}
	type want struct {
		title, fixed string
		veto         bool
	}
	wants := []want{
		{"curl 7.88.1-10+deb12u5: CVE-2024-7264 (CVSS 6.5 medium)", "7.88.1-10+deb12u7", false},
		{"lodash 4.17.15: GHSA-p6mc-m468-83gw (CVSS 7.4 high)", "4.17.19", true},
		{"minimist 1.2.5: GHSA-xvch-5gv4-984h (CVSS 9.8 critical)", "1.2.6", true},
		{"express 4.17.1: GHSA-rv95-896h-c2vc (CVSS 6.1 medium)", "4.19.2", false},
		{"golang.org/x/net v0.0.0-20210226172049-e18ecbb05110: GO-2022-0969 (CVSS 7.5 high)", "0.0.0-20220906165146-f3363e06e74c", true},
		{"stdlib 1.19.8: GO-2023-1752 (CVSS 9.8 critical)", "1.19.9", true},
	}
	for _, w := range wants {
		var got *finding
		for i := range fs {
			if strings.HasPrefix(fs[i].Title, w.title) {
				got = &fs[i]
			}
		}
		if got == nil {
			t.Errorf("no SEC-020 finding %q", w.title)
			continue
		}
		if fx := evidence(*got, "fixed version"); fx != w.fixed || got.Veto != w.veto {
			t.Errorf("%s: fixed %q veto %v, want %q %v", w.title, fx, got.Veto, w.fixed, w.veto)
		}
		if evidence(*got, "CVSS vector") == "" || evidence(*got, "ids") == "" {
			t.Errorf("%s: no vector or ids: %+v", w.title, got.Evidence)
		}
		if e := got.Evidence[0]; e.Path == "" || e.Layer == nil || !strings.HasPrefix(e.LayerDigest, "sha256:") {
			t.Errorf("%s: package evidence without path and layer: %+v", w.title, e)
		}
	}
	vetoes := 0
	for _, v := range rep.Verdict.Vetoes {
		if v.CheckID == "SEC-020" {
			vetoes++
		}
	}
	if vetoes == 0 {
		t.Error("no SEC-020 veto in the verdict")
	}
	// Nothing past its fix: every installed version is below its fixed version.
	checked := 0
	for _, f := range fs {
		fixed, installed, pkg := evidence(f, "fixed version"), evidence(f, "installed version"), evidence(f, "package")
		if installed == "" || fixed == "" || strings.HasPrefix(fixed, "no fix") {
			continue
		}
		eco := pkg[strings.LastIndex(pkg, ", ")+2:]
		iv := strings.TrimSuffix(strings.TrimPrefix(installed, "v"), "+incompatible")
		v, err := semantic.Parse(iv, eco)
		if err != nil {
			t.Errorf("%s: %v", f.Title, err)
			continue
		}
		if c, err := v.CompareStr(fixed); err != nil || c >= 0 {
			t.Errorf("%s: installed %s is not below the fix %s (%s)", f.Title, installed, fixed, eco)
		}
		checked++
	}
	if checked < 20 {
		t.Errorf("only %d fixable findings checked", checked)
	}
	rep.evidenceEverywhere(t)
}

// Current packages against older data: vulnerabilities without a fix are
// reported, but no veto fires.
func TestVulnsCurrentPackagesNoVeto(t *testing.T) {
	dir := importedDB(t)
	rep, _ := vulnJSON(t, dir, 1, fixture(t, "nginx")) // nginx fails on root, not on vulnerabilities
	_, fs := sec020(t, rep)
	if len(fs) < 2 {
		t.Fatalf("SEC-020 findings %d: the 2025 data still lists unfixed vulnerabilities of bookworm", len(fs))
	}
	for _, f := range fs {
		if f.Veto {
			t.Errorf("veto on a current package: %s", f.Title)
		}
	}
	wa, _ := vulnJSON(t, dir, 0, fixture(t, "webapp"))
	if st, _ := sec020(t, wa); st == "" || st == "error" {
		t.Errorf("webapp SEC-020 %s", st)
	}
}

// No database: everything else still runs, SEC-020 fails the gate with the
// command that fixes it; --skip-vulns says the omission is intended.
func TestVulnsWithoutDatabase(t *testing.T) {
	rep, _ := vulnJSON(t, "", 1, fixture(t, "webapp"))
	st, fs := sec020(t, rep)
	if st != "fail" || len(fs) != 1 || !fs[0].Veto || !strings.Contains(fs[0].Title, "not evaluated") || !strings.Contains(fs[0].Remediation, "shipshape db update") {
		t.Fatalf("SEC-020 %s %+v", st, fs)
	}
	if len(rep.Results) < 20 {
		t.Errorf("only %d checks ran", len(rep.Results))
	}
	rep, _ = vulnJSON(t, "", 0, "--skip-vulns", fixture(t, "webapp"))
	if st, _ := sec020(t, rep); st != "skipped" {
		t.Errorf("--skip-vulns: SEC-020 %s", st)
	}
}

// A database last refreshed over three days ago gives a warning on stderr.
func TestVulnsStaleWarning(t *testing.T) {
	needOSV(t)
	dir := t.TempDir()
	if _, err := vulndb.Import(context.Background(), dir, filepath.Join(osvData, "Go", "all.zip"), vulndb.ImportOptions{Now: time.Now().Add(-100 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	_, r := vulnJSON(t, dir, 0, fixture(t, "webapp"))
	if !strings.Contains(r.stderr, "last refreshed") || !strings.Contains(r.stderr, "db update") {
		t.Errorf("no stale warning: %s", r.stderr)
	}
}

// A database file from a newer shipshape, or one that is not a database:
// a clear error in the report and on stderr, and the gate fails.
func TestVulnsUnusableDatabase(t *testing.T) {
	needOSV(t)
	for _, c := range []struct {
		name  string
		spoil func(path string) error
		want  string
	}{
		{"newer schema", func(p string) error {
			db, err := sql.Open("sqlite", p)
			if err != nil {
				return err
			}
			defer db.Close()
			_, err = db.Exec("PRAGMA user_version = 99")
			return err
		}, "newer than this shipshape reads"},
		{"not a database", func(p string) error { return os.WriteFile(p, []byte("not a database"), 0o644) }, "Go.db"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := vulndb.Import(context.Background(), dir, filepath.Join(osvData, "Go", "all.zip"), vulndb.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := c.spoil(filepath.Join(dir, "Go.db")); err != nil {
				t.Fatal(err)
			}
			rep, r := vulnJSON(t, dir, 1, fixture(t, "webapp"))
			_, fs := sec020(t, rep)
			if len(fs) != 1 || !fs[0].Veto || !strings.Contains(fs[0].Title, c.want) || !strings.Contains(r.stderr, c.want) {
				t.Errorf("findings %+v\nstderr %s", fs, r.stderr)
			}
		})
	}
}

// `db import` still takes end-of-life data (recognised by its index.json).
func TestDBImportEOL(t *testing.T) {
	src := filepath.Join("..", "..", "shared", "data", "eol")
	if _, err := os.Stat(filepath.Join(src, "index.json")); err != nil {
		t.Skipf("no end-of-life data: %v", err)
	}
	eolDir := filepath.Join(t.TempDir(), "eol")
	r := runVuln(t, "", "db", "import", "--eol-dir", eolDir, src)
	if r.code != 0 || !strings.Contains(r.stdout, "end-of-life data: 464 products") {
		t.Fatalf("db import of eol data: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	st := runVuln(t, "", "db", "status", "--eol-dir", eolDir)
	if !strings.Contains(st.stdout, "end-of-life data: 464 products") || !strings.Contains(st.stdout, "vulnerability database: none") {
		t.Errorf("db status:\n%s", st.stdout)
	}
}
