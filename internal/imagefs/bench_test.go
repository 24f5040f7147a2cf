package imagefs

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
)

const (
	benchFiles    = 16 << 10 // 16384 files...
	benchFileSize = 4 << 10  // ...of 4 KiB: 64 MiB of content
)

// benchLayer returns a synthetic layer of many small files, as a plain tar and
// gzip- and zstd-compressed. The content is random text (about 5 bits a byte),
// so that neither compressor gets it much below 60%.
var (
	benchOnce sync.Once
	benchData map[string][]byte
)

func benchLayer(tb testing.TB) map[string][]byte {
	benchOnce.Do(func() {
		rng := rand.New(rand.NewPCG(64, 64))
		const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 \n"
		content := make([]byte, benchFileSize)
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for d := 0; d < benchFiles/256; d++ {
			if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("usr/share/pkg%03d/", d), Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch}); err != nil {
				tb.Fatal(err)
			}
			for f := 0; f < 256; f++ {
				h := &tar.Header{Name: fmt.Sprintf("usr/share/pkg%03d/file%03d.txt", d, f), Typeflag: tar.TypeReg, Mode: 0o644, Size: benchFileSize, ModTime: epoch}
				if err := tw.WriteHeader(h); err != nil {
					tb.Fatal(err)
				}
				for i := range content {
					content[i] = alphabet[rng.IntN(len(alphabet))]
				}
				if _, err := tw.Write(content); err != nil {
					tb.Fatal(err)
				}
			}
		}
		if err := tw.Close(); err != nil {
			tb.Fatal(err)
		}
		plain := buf.Bytes()
		benchData = map[string][]byte{"none": plain, "gzip": gzipBytes(tb, plain), "zstd": zstdBytes(tb, plain)}
	})
	if benchData == nil {
		tb.Fatal("building the benchmark layer failed")
	}
	return benchData
}

// readAll reads every file it is fed, as a package-database parser would.
type readAll struct{ want Want }

func (r readAll) Want() Want { return r.want }
func (r readAll) Analyze(f *File, rd io.Reader) error {
	_, err := io.Copy(io.Discard, rd)
	return err
}

// BenchmarkWalk walks a ~64 MiB layer of 16384 small files; MB/s is of the
// uncompressed tar.
func BenchmarkWalk(b *testing.B) {
	layers := benchLayer(b)
	some := readAll{Want{Globs: []string{"/usr/share/pkg00*/*"}}} // 10 of the 64 dirs
	all := readAll{Want{Match: func(*File) bool { return true }}}
	for _, tc := range []struct {
		name string
		comp string
		as   []Analyzer
	}{
		{"gzip", "gzip", nil},
		{"gzip/read-some", "gzip", []Analyzer{some}},
		{"gzip/read-all", "gzip", []Analyzer{all}},
		{"gzip/read-all-twice", "gzip", []Analyzer{all, all}},
		{"zstd", "zstd", nil},
		{"none", "none", nil},
	} {
		b.Run(tc.name, func(b *testing.B) {
			raw := layers[tc.comp]
			blob := Blob{Digest: sha(raw), DiffID: sha(layers["none"]), Open: opener(raw)}
			b.SetBytes(int64(len(layers["none"])))
			b.ReportAllocs()
			for b.Loop() {
				res, err := Walk(context.Background(), []Blob{blob}, tc.as, Limits{})
				if err != nil {
					b.Fatal(err)
				}
				if res.FS.Entries() != benchFiles+benchFiles/256 {
					b.Fatalf("%d entries", res.FS.Entries())
				}
			}
			b.ReportMetric(float64(len(raw))/float64(len(layers["none"])), "ratio")
		})
	}
}

// BenchmarkStat resolves paths through symlinked directories in a large tree.
func BenchmarkStat(b *testing.B) {
	layers := benchLayer(b)
	links := mkTar(b, sym("share", "usr/share"), sym("usr/share/cur", "pkg042"), sym("usr/share/alt", "/share/cur"))
	res, err := Walk(context.Background(), []Blob{rawBlob(layers["none"]), rawBlob(links)}, nil, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := res.FS.Stat("/share/alt/file123.txt"); err != nil {
			b.Fatal(err)
		}
	}
}
