package vulndb

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// BenchmarkImportDebian imports the full Debian export (44,152 records).
//
//	go test -run '^$' -bench ImportDebian -benchtime 1x ./internal/vulndb/
func BenchmarkImportDebian(b *testing.B) {
	zip := osvZip(b, "Debian")
	cpu := cpuTime()
	for b.Loop() {
		if _, err := Import(context.Background(), b.TempDir(), zip, ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(44152, "records/op")
}

// benchInventory is 1,000 packages drawn from the real data: 600 Debian
// source packages (linux, glibc, openssl and curl, which have the most
// records, among them) and 400 npm, PyPI and Go packages. Each is at the
// newest fixed version its records name (an up-to-date image: only
// unfixed vulnerabilities match) or, with old, at the fixed version of its
// first record (an old image: hundreds of its vulnerabilities match).
func benchInventory(b testing.TB, db *DB, old bool) *inventory.Inventory {
	inv := mixInventory(b, db, old, &inventory.OS{ID: "debian", VersionID: "12"}, []ecoCount{{"Debian:12", 600}, {"npm", 200}, {"PyPI", 150}, {"Go", 50}})
	if len(inv.Packages) != 1000 {
		b.Fatalf("%d packages", len(inv.Packages))
	}
	return inv
}

// ecoCount is how many packages of an OSV ecosystem an inventory draws.
type ecoCount struct {
	eco string
	n   int
}

// mixInventory draws packages of each ecosystem from the real data, as
// benchInventory says.
func mixInventory(b testing.TB, db *DB, old bool, osr *inventory.OS, want []ecoCount) *inventory.Inventory {
	inv := &inventory.Inventory{OS: osr}
	add := func(eco string, want int, mk func(name, version string) inventory.Package) {
		var src *source
		for _, s := range db.sources {
			if s.info.Name == BaseEcosystem(eco) {
				src = s
			}
		}
		if src == nil {
			b.Fatalf("no %s source", eco)
		}
		names, err := src.db.Query(`SELECT DISTINCT name FROM affected WHERE ecosystem = ? ORDER BY (name IN ('linux','glibc','openssl','curl')) DESC, name LIMIT ?`, eco, want)
		if err != nil {
			b.Fatal(err)
		}
		var list []string
		for names.Next() {
			var n string
			names.Scan(&n)
			list = append(list, n)
		}
		names.Close()
		c := newVersionCache(eco)
		for _, name := range list {
			rows, err := src.lookup(eco, name)
			if err != nil {
				b.Fatal(err)
			}
			v := ""
			for i, r := range rows {
				if r.data.Name != "" {
					name = r.data.Name
				}
				for _, evs := range r.data.Ranges {
					for _, e := range evs {
						if e.K != 'f' {
							continue
						}
						if old && i == 0 {
							v = e.V
						} else if !old && (v == "" || greater(c, e.V, v)) {
							v = e.V
						}
					}
				}
			}
			if v == "" {
				v = "1.0.0"
			}
			inv.Packages = append(inv.Packages, mk(name, v))
		}
	}
	for _, w := range want {
		switch BaseEcosystem(w.eco) {
		case "Debian":
			add(w.eco, w.n, func(n, v string) inventory.Package {
				return inventory.Package{Name: n, Version: v, SourceName: n, SourceVersion: v, Ecosystem: "deb", Type: "os", Path: "/var/lib/dpkg/status"}
			})
		case "Alpine":
			add(w.eco, w.n, func(n, v string) inventory.Package {
				return inventory.Package{Name: n, Version: v, SourceName: n, Ecosystem: "apk", Type: "os", Path: "/lib/apk/db/installed"}
			})
		default:
			add(w.eco, w.n, func(n, v string) inventory.Package {
				return inventory.Package{Name: n, Version: v, Ecosystem: w.eco, Type: "lang", Path: "/app/" + n}
			})
		}
	}
	return inv
}

func benchMatch(b *testing.B, old bool) {
	db := realDB(b, "Debian", "npm", "PyPI", "Go")
	inv := benchInventory(b, db, old)
	matches := 0
	cpu := cpuTime()
	for b.Loop() {
		// A fresh handle per run, so that no cache carries over between runs.
		fresh, err := Open(db.Dir)
		if err != nil {
			b.Fatal(err)
		}
		rep, err := fresh.Match(inv)
		if err != nil {
			b.Fatal(err)
		}
		matches = len(rep.Matches)
		fresh.Close()
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(matches), "matches")
}

// BenchmarkMatch1000 matches 1,000 up-to-date packages against the Debian,
// npm, PyPI and Go exports, opening the database as `check` does.
//
//	go test -run '^$' -bench Match1000 ./internal/vulndb/
func BenchmarkMatch1000(b *testing.B) { benchMatch(b, false) }

// BenchmarkMatch1000Old is the same with old package versions (over ten
// thousand matches).
func BenchmarkMatch1000Old(b *testing.B) { benchMatch(b, true) }

// cpuTime is the process's user+system CPU time so far: on a shared machine
// it says more than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the CPU milliseconds per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
	}
}

// match300 are ~300 packages across every ecosystem of the shared data: a
// Debian 12 image with npm, PyPI and Go packages (250), and an Alpine 3.20
// image (50); one operation matches both, on one opened database.
func match300(b testing.TB, db *DB, old bool) []*inventory.Inventory {
	deb := mixInventory(b, db, old, &inventory.OS{ID: "debian", VersionID: "12"}, []ecoCount{{"Debian:12", 130}, {"npm", 50}, {"PyPI", 40}, {"Go", 30}})
	alp := mixInventory(b, db, old, &inventory.OS{ID: "alpine", VersionID: "3.20.3"}, []ecoCount{{"Alpine:v3.20", 50}})
	return []*inventory.Inventory{deb, alp}
}

// BenchmarkMatch300 matches ~300 packages of the five ecosystems of the
// shared data (Debian, Alpine, npm, PyPI, Go), opening the database as
// `check` does: up to date (only unfixed vulnerabilities match), and old
// (thousands of matches). The target is under 50 ms per operation.
//
//	go test -run '^$' -bench Match300 ./internal/vulndb/
func BenchmarkMatch300(b *testing.B) {
	for _, c := range []struct {
		name string
		old  bool
	}{{"current", false}, {"old", true}} {
		b.Run(c.name, func(b *testing.B) {
			db := realDB(b, "Debian", "Alpine", "npm", "PyPI", "Go")
			invs := match300(b, db, c.old)
			matches := 0
			cpu := cpuTime()
			for b.Loop() {
				fresh, err := Open(db.Dir)
				if err != nil {
					b.Fatal(err)
				}
				matches = 0
				for _, inv := range invs {
					rep, err := fresh.Match(inv)
					if err != nil {
						b.Fatal(err)
					}
					matches += len(rep.Matches)
				}
				fresh.Close()
			}
			reportCPU(b, cpu)
			b.ReportMetric(float64(matches), "matches")
			b.ReportMetric(float64(len(invs[0].Packages)+len(invs[1].Packages)), "packages")
		})
	}
}
