package imagetest

import (
	"archive/zip"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

// SharedData returns the directory of the shared reference data
// (../shared/data beside the repository), found from the working directory
// upwards. Without it the test is skipped, or fails under CI.
func SharedData(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "data")
		if fi, err := os.Stat(filepath.Join(p, "osv")); err == nil && fi.IsDir() {
			return p
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("the shared reference data (../shared/data) is missing above %s", dir)
	}
	t.Skipf("the shared reference data (../shared/data) is not found above %s", dir)
	return ""
}

// OSVRecords copies the records ids of the shared OSV export of ecosystem
// ("Debian", "npm", ...) into a new directory, for vulndb.Import or
// `shipshape db import`.
func OSVRecords(t testing.TB, ecosystem string, ids ...string) string {
	t.Helper()
	zr, err := zip.OpenReader(filepath.Join(SharedData(t), "osv", ecosystem, "all.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	dir := t.TempDir()
	for _, id := range ids {
		f, err := zr.Open(id + ".json")
		if err != nil {
			t.Fatalf("%s record %s: %v", ecosystem, id, err)
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, id+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// OSVDir imports the records ids of ecosystem into a new advisory database
// directory and returns it.
func OSVDir(t testing.TB, ecosystem string, ids ...string) string {
	t.Helper()
	src := OSVRecords(t, ecosystem, ids...)
	dir := t.TempDir()
	if _, err := vulndb.Import(context.Background(), dir, src, vulndb.ImportOptions{Source: ecosystem}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// OSVDB is OSVDir, opened; it is closed when the test ends.
func OSVDB(t testing.TB, ecosystem string, ids ...string) *vulndb.DB {
	t.Helper()
	db, err := vulndb.Open(OSVDir(t, ecosystem, ids...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
