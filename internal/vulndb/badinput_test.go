package vulndb

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// installGo imports the real Go export into a fresh directory and returns
// the directory and the installed source.
func installGo(t *testing.T) (string, SourceInfo) {
	t.Helper()
	dir := t.TempDir()
	res, err := Import(context.Background(), dir, osvZip(t, "Go"), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return dir, res[0].Info
}

// sameSource checks that the installed Go source is the one installed first.
func sameSource(t *testing.T, dir string, want SourceInfo) {
	t.Helper()
	db, err := Open(dir)
	if err != nil {
		t.Fatalf("the old database is broken: %v", err)
	}
	defer db.Close()
	got := db.Sources()
	if len(got) != 1 || got[0].Records != want.Records || !got[0].ImportedAt.Equal(want.ImportedAt) {
		t.Errorf("installed source changed: %+v, want %+v", got, want)
	}
	rep, err := db.Match(langInv("Go", "golang.org/x/net", "v0.0.0-20210226172049-e18ecbb05110"))
	if err != nil || len(rep.Matches) == 0 {
		t.Errorf("the old database no longer matches: %v %d", err, len(rep.Matches))
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// A truncated export is an error naming it, and the installed data stays.
func TestImportTruncatedZip(t *testing.T) {
	dir, before := installGo(t)
	b, err := os.ReadFile(osvZip(t, "Go"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "Go", "all.zip")
	os.MkdirAll(filepath.Dir(cut), 0o755)
	if err := os.WriteFile(cut, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Import(context.Background(), dir, cut, ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "not a complete zip archive") {
		t.Fatalf("truncated zip: err %v", err)
	}
	sameSource(t, dir, before)
}

// Corrupt compressed data inside an intact archive stops the import.
func TestImportCorruptEntry(t *testing.T) {
	dir, before := installGo(t)
	b, err := os.ReadFile(osvZip(t, "Go"))
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte{}, b...)
	for i := len(bad) / 3; i < len(bad)/3+4096; i++ {
		bad[i] ^= 0x5a
	}
	p := filepath.Join(t.TempDir(), "all.zip")
	if err := os.WriteFile(p, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Import(context.Background(), dir, p, ImportOptions{Source: "Go"})
	if err == nil || !strings.Contains(err.Error(), "installed database is unchanged") {
		t.Fatalf("corrupt zip: err %v", err)
	}
	sameSource(t, dir, before)
}

// Bad records in a directory of OSV JSON: each kind is a warning naming the
// record, the good records are stored, withdrawn ones are left out.
func TestImportBadRecords(t *testing.T) {
	src := t.TempDir()
	files := map[string]string{
		"good.json":       `{"id":"TEST-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"left-pad"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.3.0"}]}]}],"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}`,
		"notjson.json":    `{"id": "TEST-2", "affected": [`,
		"noid.json":       `{"affected":[]}`,
		"unknown.json":    `{"id":"TEST-3","affected":[{"package":{"ecosystem":"NoSuchEco","name":"x"},"versions":["1"]}]}`,
		"badver.json":     `{"id":"TEST-4","affected":[{"package":{"ecosystem":"Debian:12","name":"x"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"not-a-version"}]}]}]}`,
		"twofields.json":  `{"id":"TEST-5","affected":[{"package":{"ecosystem":"npm","name":"y"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1.0.0"}]}]}]}`,
		"badcvss.json":    `{"id":"TEST-6","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:X"}],"affected":[{"package":{"ecosystem":"npm","name":"z"},"versions":["1.0.0"]}]}`,
		"withdrawn.json":  `{"id":"TEST-7","withdrawn":"2024-02-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"left-pad"},"versions":["1.0.0"]}]}`,
		"weirdspec.json":  `{"id":"TEST-8","database_specific":"not an object","affected":[{"package":{"ecosystem":"npm","name":"w"},"versions":["2.0.0"],"ecosystem_specific":[1,2]}]}`,
		"gitonly.json":    `{"id":"TEST-9","affected":[{"ranges":[{"type":"GIT","repo":"https://example.com/r","events":[{"introduced":"0"},{"fixed":"abc"}]}]}]}`,
		"notes.txt":       "not a record",
		"sub/nested.json": `{"id":"TEST-10","affected":[{"package":{"ecosystem":"npm","name":"nested"},"versions":["0.1.0"]}]}`,
	}
	for name, body := range files {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	res, err := Import(context.Background(), dir, src, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if r.Info.Name != "npm" {
		t.Errorf("source %q, want npm (the ecosystem most records name)", r.Info.Name)
	}
	// Stored: 1 good, 3 unknown-eco/bad-version/two-fields records kept for
	// aliases, the bad-CVSS one, the odd database_specific one, git-only, nested.
	if r.Info.Withdrawn != 1 {
		t.Errorf("withdrawn %d, want 1", r.Info.Withdrawn)
	}
	all := strings.Join(r.Warnings, "\n")
	for _, want := range []string{"notjson.json", "noid.json", "TEST-3 (NoSuchEco)", "TEST-4", "not-a-version", "TEST-5", "exactly one", "TEST-6", "invalid CVSS"} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings do not mention %q:\n%s", want, all)
		}
	}
	for _, quiet := range []string{"TEST-1", "TEST-8", "TEST-9", "TEST-10", "notes.txt"} {
		if strings.Contains(all, quiet+" ") || strings.Contains(all, quiet+";") {
			t.Errorf("warning about %s, which is fine:\n%s", quiet, all)
		}
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := db.Match(langInv("npm", "left-pad", "1.0.0", "w", "2.0.0", "nested", "0.1.0", "z", "1.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, id string }{{"left-pad", "TEST-1"}, {"w", "TEST-8"}, {"nested", "TEST-10"}, {"z", "TEST-6"}} {
		if find(rep, c.name, c.id) == nil {
			t.Errorf("%s not matched by %s: %+v", c.name, c.id, rep.Matches)
		}
	}
	if m := find(rep, "left-pad", "TEST-7"); m != nil {
		t.Error("withdrawn TEST-7 matched")
	}
	if m := find(rep, "left-pad", "TEST-1"); m != nil && (m.Score.Value != 9.8 || m.Fixed != "1.3.0") {
		t.Errorf("TEST-1: %+v", m)
	}
}

// Only bad records: the import fails rather than installing an empty source.
func TestImportNothingUsable(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "a.json"), []byte(`{"nope":1}`), 0o644)
	_, err := Import(context.Background(), t.TempDir(), src, ImportOptions{Source: "npm"})
	if err == nil || !strings.Contains(err.Error(), "no usable OSV records") {
		t.Fatalf("err %v", err)
	}
	if _, err := Import(context.Background(), t.TempDir(), t.TempDir(), ImportOptions{}); err == nil {
		t.Fatal("an empty directory imported")
	}
}

// A source written by a newer shipshape is refused with a clear error.
func TestNewerSchema(t *testing.T) {
	dir, _ := installGo(t)
	p := filepath.Join(dir, "Go.db")
	db, err := sql.Open("sqlite", p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(dir)
	if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "newer") || !strings.Contains(err.Error(), "Go.db") {
		t.Fatalf("err %v", err)
	}
}

// Files that are not shipshape databases, and directories without any.
func TestOpenErrors(t *testing.T) {
	if _, err := Open(t.TempDir()); !errors.Is(err, ErrNoDB) {
		t.Errorf("empty dir: %v", err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Go.db"), []byte("this is not sqlite at all, just text padding it out"), 0o644)
	if _, err := Open(dir); err == nil || errors.Is(err, ErrNoDB) {
		t.Errorf("garbage file: %v", err)
	}
	dir = t.TempDir()
	db, _ := sql.Open("sqlite", filepath.Join(dir, "x.db"))
	db.Exec("CREATE TABLE t(a)")
	db.Close()
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "not a shipshape vulnerability database") {
		t.Errorf("foreign sqlite file: %v", err)
	}
}

// An installed version that does not parse is a warning in the report.
func TestInvalidInstalledVersion(t *testing.T) {
	db := realDB(t, "Debian")
	rep, err := db.Match(debianInv(inventory.Package{Name: "libssl3", Version: "x:1", SourceName: "openssl", SourceVersion: "x:1"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) == 0 || !strings.Contains(rep.Warnings[0], "openssl x:1") {
		t.Errorf("warnings %v", rep.Warnings)
	}
}

// An export zip with another file name is named after the ecosystem most of
// its records name, and keeps only that ecosystem's entries: the Alpine
// export's combined CVE records also carry Debian entries.
func TestImportUnnamedZip(t *testing.T) {
	b, err := os.ReadFile(osvZip(t, "Alpine"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "export.zip")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Import(context.Background(), t.TempDir(), p, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	info := res[0].Info
	if info.Name != "Alpine" || len(info.Ecosystems) < 10 {
		t.Fatalf("source %q with %d ecosystems", info.Name, len(info.Ecosystems))
	}
	for eco := range info.Ecosystems {
		if !strings.HasPrefix(eco, "Alpine:") {
			t.Errorf("the Alpine source holds %s entries", eco)
		}
	}
}
