package secrets

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds "MB/cpu-s", throughput per CPU second, which a busy shared
// machine does not distort the way wall-clock MB/s is.
func reportCPU(b *testing.B, bytes int64, start time.Duration) {
	if d := cpuTime() - start; d > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/1e6/d.Seconds(), "MB/cpu-s")
	}
}

// The benchmarks scan real files held in memory, so that they measure the
// scanner alone (MB/s per core with -cpu 1). Text files only: binaries are
// dropped after IsBinary looks at their first 8000 bytes, whatever their size.
//
//	go test -run '^$' -bench . -cpu 1 ./internal/secrets/

func benchScan(b *testing.B, files []realFile) {
	s, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, f := range files {
		total += int64(len(f.data))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for b.Loop() {
		for _, f := range files {
			if _, err := s.Scan(Input{Path: f.path, Data: f.data}); err != nil {
				b.Fatalf("%s: %v", f.path, err)
			}
		}
	}
	reportCPU(b, total, start)
}

// BenchmarkScanBaseRootfs scans every text file of the fixtures' debootstrap
// rootfs, without the path allowlists' shortcut (every file is read).
func BenchmarkScanBaseRootfs(b *testing.B) {
	files := textOnly(readTar(b, cacheDir("fixtures")+"/base-rootfs.tar", false, DefaultMaxFileSize))
	benchScan(b, files)
}

// BenchmarkScanLargeImage scans every text file of every layer of the ~1 GB
// benchmark image (bench/large-image.sh).
func BenchmarkScanLargeImage(b *testing.B) {
	files := textOnly(readTar(b, cacheDir("bench")+"/large.tar", true, DefaultMaxFileSize))
	benchScan(b, files)
}

// BenchmarkKeywords is the keyword pass alone over the same files.
func BenchmarkKeywords(b *testing.B) {
	files := textOnly(readTar(b, cacheDir("fixtures")+"/base-rootfs.tar", false, DefaultMaxFileSize))
	s, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, f := range files {
		total += int64(len(f.data))
	}
	b.SetBytes(total)
	n := 0
	start := cpuTime()
	for b.Loop() {
		for _, f := range files {
			s.kw.scan(f.data, func(int, int) { n++ })
		}
	}
	reportCPU(b, total, start)
	b.ReportMetric(float64(n)/float64(b.N)/float64(total)*1e6, "hits/MB")
}
