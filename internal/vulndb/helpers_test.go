package vulndb

import (
	"archive/zip"
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// sharedData is the real OSV corpus beside the repository (../shared/data).
var sharedData = filepath.Join("..", "..", "..", "shared", "data", "osv")

// osvZip returns the path of a real OSV export, skipping the test without it.
func osvZip(t testing.TB, eco string) string {
	t.Helper()
	p := filepath.Join(sharedData, eco, "all.zip")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("real OSV data not found (%v); it lives in ../shared/data/osv beside the repository", err)
	}
	return p
}

// realDir holds the sources imported from the real data, once per test binary.
var realDir struct {
	sync.Mutex
	dir  string
	done map[string]ImportResult
}

func TestMain(m *testing.M) {
	code := m.Run()
	if realDir.dir != "" {
		os.RemoveAll(realDir.dir)
	}
	os.Exit(code)
}

// realDB opens a database holding the real exports of the given ecosystems,
// importing each once per test binary.
func realDB(t testing.TB, ecos ...string) *DB {
	t.Helper()
	realDir.Lock()
	defer realDir.Unlock()
	if realDir.dir == "" {
		d, err := os.MkdirTemp("", "shipshape-vulndb-test")
		if err != nil {
			t.Fatal(err)
		}
		realDir.dir, realDir.done = d, map[string]ImportResult{}
	}
	for _, e := range ecos {
		if _, ok := realDir.done[e]; ok {
			continue
		}
		res, err := Import(context.Background(), realDir.dir, osvZip(t, e), ImportOptions{})
		if err != nil {
			t.Fatalf("importing %s: %v", e, err)
		}
		realDir.done[e] = res[0]
	}
	db, err := Open(realDir.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// zipRecord reads one record of a real export.
func zipRecord(t testing.TB, eco, id string) *Record {
	t.Helper()
	zr, err := zip.OpenReader(osvZip(t, eco))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open(id + ".json")
	if err != nil {
		t.Fatalf("%s not in the %s export: %v", id, eco, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := ParseRecord(b)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return r
}

// zipCounts counts a real export's records and its withdrawn ones.
func zipCounts(t testing.TB, eco string) (records, withdrawn int, withdrawnID string) {
	t.Helper()
	zr, err := zip.OpenReader(osvZip(t, eco))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		r, _, err := ParseRecord(b)
		if err != nil {
			continue
		}
		records++
		if r.Withdrawn != "" {
			withdrawn++
			withdrawnID = r.ID
		}
	}
	return records, withdrawn, withdrawnID
}

// fixedIn returns the fixed event of the record's first range for (eco, name).
func fixedIn(r *Record, eco, name string) string {
	for _, a := range r.Affected {
		if a.Package.Ecosystem == eco && a.Package.Name == name {
			for _, rg := range a.Ranges {
				for _, e := range rg.Events {
					if e.Fixed != "" {
						return e.Fixed
					}
				}
			}
		}
	}
	return ""
}

func debianInv(pkgs ...inventory.Package) *inventory.Inventory {
	for i := range pkgs {
		pkgs[i].Ecosystem = "deb"
		pkgs[i].Path, pkgs[i].Layer = "/var/lib/dpkg/status", 0
	}
	return &inventory.Inventory{OS: &inventory.OS{ID: "debian", VersionID: "12"}, Packages: pkgs}
}

func langInv(eco string, kv ...string) *inventory.Inventory {
	inv := &inventory.Inventory{}
	for i := 0; i+1 < len(kv); i += 2 {
		inv.Packages = append(inv.Packages, inventory.Package{Name: kv[i], Version: kv[i+1], Ecosystem: eco, Type: "lang", Path: "/app/" + kv[i], Layer: 1})
	}
	return inv
}

// find returns the match of a package for an id (main id or any of its ids).
func find(r *Report, name, id string) *Match {
	for i, m := range r.Matches {
		if m.Name != name {
			continue
		}
		for _, x := range m.IDs {
			if x == id {
				return &r.Matches[i]
			}
		}
	}
	return nil
}
