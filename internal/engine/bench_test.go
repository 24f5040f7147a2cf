package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/facts"
	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

// benchSetup observes a real image once and opens a real advisory database
// with every ecosystem imported: SHIPSHAPE_BENCH_VULNDB (bench/judge.sh
// imports the shared OSV exports there) and SHIPSHAPE_BENCH_IMAGE (default
// the langapps fixture: Debian 12 with ~480 deb, ~100 npm, Go and Maven
// packages).
func benchSetup(b *testing.B) (*engine.Engine, *facts.Facts) {
	b.Helper()
	dir := os.Getenv("SHIPSHAPE_BENCH_VULNDB")
	if dir == "" {
		b.Skip("SHIPSHAPE_BENCH_VULNDB is not set: run bench/judge.sh")
	}
	img := os.Getenv("SHIPSHAPE_BENCH_IMAGE")
	if img == "" {
		home, _ := os.UserHomeDir()
		img = filepath.Join(home, ".cache", "shipshape", "fixtures", "langapps.tar")
	}
	if _, err := os.Stat(img); err != nil {
		b.Skipf("no benchmark image: %v (testdata/fixtures/build.sh)", err)
	}
	db, err := vulndb.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	e, err := engine.New(engine.Deps{Vulns: db})
	if err != nil {
		b.Fatal(err)
	}
	fs, err := e.Observe(context.Background(), "docker-archive:"+img, engine.ObserveOptions{NoCache: true, SkipSupply: true})
	if err != nil {
		b.Fatal(err)
	}
	return e, fs
}

// BenchmarkJudge is the judgement of stored facts: vulnerability match
// against every imported ecosystem, every check, the policy (target: under
// 50 ms for ~300 packages).
func BenchmarkJudge(b *testing.B) {
	e, fs := benchSetup(b)
	now := time.Now()
	b.ReportMetric(float64(len(fs.Inventory.Packages)), "packages")
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Judge(context.Background(), fs, nil, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJudgeConcurrent100 runs 100 Judge calls at once on one engine per
// iteration and reports the heap in use after them (memory stays bounded:
// nothing accumulates across calls).
func BenchmarkJudgeConcurrent100(b *testing.B) {
	e, fs := benchSetup(b)
	now := time.Now()
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				if _, err := e.Judge(context.Background(), fs, nil, now); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	b.StopTimer()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "MiB-heap-after")
}
