package imagefs

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

func TestPathEscapes(t *testing.T) {
	t.Parallel()
	for _, e := range []ent{
		file("../../etc/passwd", "pwned"),
		file("a/../../x", "x"),
		file("/../x", "x"),
		file("./../x", "x"),
		file("a/b/../../../etc/shadow", "x"),
		file("..", ""),
		dir("../"),
		dir("../evil/"),
		sym("../link", "/etc/passwd"),
		wh("../x"),
		file("../.wh..wh..opq", ""),
		hard("../hl", "etc/passwd"),
	} {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			bs := blobs(t, []ent{file("etc/passwd", "root")}, []ent{file("ok", ""), e, file("after", "")})
			_, err := Walk(t.Context(), bs, nil, Limits{})
			le := asLayerError(t, err)
			if le.Index != 1 || le.Path != e.name || le.Digest != bs[1].Digest {
				t.Errorf("LayerError{Index: %d, Path: %q, Digest: %q}, want 1, %q, %q", le.Index, le.Path, le.Digest, e.name, bs[1].Digest)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "layer 1 ") || !strings.Contains(msg, e.name) || !strings.Contains(msg, "climbs out") {
				t.Errorf("error %q should name layer 1, the path and the cause", msg)
			}
		})
	}
}

func TestHardLinkTargetEscape(t *testing.T) {
	t.Parallel()
	for _, target := range []string{"../../etc/shadow", "a/../../b", "/../x"} {
		_, err := Walk(t.Context(), blobs(t, []ent{file("a", ""), hard("evil", target)}), nil, Limits{})
		le := asLayerError(t, err)
		if le.Index != 0 || le.Path != "/evil" || !strings.Contains(err.Error(), "hard link target") || !strings.Contains(err.Error(), target) {
			t.Errorf("target %q: error %v", target, err)
		}
	}
}

// TestHarmlessDotsAccepted: names with "." and ".." that stay inside the root are fine.
func TestHarmlessDotsAccepted(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{{
		file("a/../b", "b"), file("./c/./d", "d"), file("/abs/path", "p"), file("e//f", "f"), file("g/h/../../i", "i"),
		hard("j", "./c/../b"), hard("k", "/c/d"), sym("l", "../../../../b"),
	}})
	want := []string{"/abs/", "/abs/path", "/b", "/c/", "/c/d", "/e/", "/e/f", "/i", "/j=", "/k=", "/l@"}
	if got := paths(t, res.FS); !slices.Equal(got, want) {
		t.Errorf("tree = %v\nwant %v", got, want)
	}
	if n := mustLookup(t, res.FS, "/j"); n.Link != "/b" {
		t.Errorf("hard link target %q, want /b", n.Link)
	}
	if _, rp, err := res.FS.Stat("/l"); err != nil || rp != "/b" {
		t.Errorf("Stat(/l) = %q, %v", rp, err)
	}
}

// paxRecord formats one PAX extended header record.
func paxRecord(k, v string) string {
	rec := " " + k + "=" + v + "\n"
	n := len(rec)
	for {
		s := fmt.Sprintf("%d%s", n, rec)
		if len(s) == n {
			return s
		}
		n = len(s)
	}
}

func TestNULInName(t *testing.T) {
	t.Parallel()
	// A PAX path holding a NUL: archive/tar rejects the header.
	pax := append(rawEntry("PaxHeaders/x", tar.TypeXHeader, []byte(paxRecord("path", "evil\x00/../../etc/passwd"))),
		rawEntry("placeholder", tar.TypeReg, []byte("data"))...)
	pax = append(pax, endOfArchive...)
	if _, err := Walk(t.Context(), []Blob{rawBlob(pax)}, nil, Limits{}); err == nil {
		t.Error("a PAX path with a NUL walked")
	} else {
		asLayerError(t, err)
	}
	// A GNU long name and a USTAR name holding a NUL: archive/tar cuts the name
	// at the NUL. Either way no NUL reaches the tree.
	gnu := append(rawEntry("././@LongLink", tar.TypeGNULongName, []byte("evil\x00/../../etc/passwd\x00")),
		rawEntry("placeholder", tar.TypeReg, []byte("data"))...)
	gnu = append(gnu, rawEntry("ustar\x00/../../x", tar.TypeReg, []byte("u"))...)
	gnu = append(gnu, endOfArchive...)
	res, err := Walk(t.Context(), []Blob{rawBlob(gnu)}, nil, Limits{})
	if err == nil {
		got := paths(t, res.FS)
		for _, p := range got {
			if strings.ContainsRune(p, 0) {
				t.Errorf("NUL in tree path %q", p)
			}
		}
		if !slices.Equal(got, []string{"/evil", "/ustar"}) {
			t.Errorf("tree = %q", got)
		}
	}
	// cleanPath itself refuses NULs.
	if _, err := cleanPath("a\x00b", 4096); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("cleanPath with NUL: %v", err)
	}
}

func TestOverlongPath(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("d/", 2500) + "file" // 5004 bytes, over the default 4096
	_, err := Walk(t.Context(), blobs(t, []ent{file(long, "x")}), nil, Limits{})
	le := asLayerError(t, err)
	if le.Path != long || !strings.Contains(err.Error(), "over the limit of 4096") {
		t.Errorf("error %.200q", err.Error())
	}
	// A tight limit, on the entry and on a hard link target.
	name := strings.Repeat("x", 65)
	for _, e := range []ent{file(name, ""), hard("short", name)} {
		_, err = Walk(t.Context(), blobs(t, []ent{e}), nil, Limits{MaxPathLen: 64})
		if asLayerError(t, err); !strings.Contains(err.Error(), "over the limit of 64") {
			t.Errorf("%s: error %v", e.name, err)
		}
	}
	// At the limit is fine.
	if _, err := Walk(t.Context(), blobs(t, []ent{file(name[:64], "")}), nil, Limits{MaxPathLen: 64}); err != nil {
		t.Errorf("path at the limit: %v", err)
	}
}

func TestOverlongPathIsErrLimit(t *testing.T) {
	// Regression (was a bug): file.go:81 cleanPath's length error does not wrap ErrLimit, so a
	// MaxPathLen violation is the only Limits error for which errors.Is(err, ErrLimit) is false
	t.Parallel()
	_, err := Walk(t.Context(), blobs(t, []ent{file(strings.Repeat("x", 65), "")}), nil, Limits{MaxPathLen: 64})
	if !errors.Is(err, ErrLimit) {
		t.Errorf("error %v does not wrap ErrLimit", err)
	}
}

func TestDeepPath(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("a/", 2000) + "f" // 4001 bytes, 2001 elements
	res := walkOK(t, [][]ent{{file(deep, "deep"), sym("up", deep)}})
	if _, rp, err := res.FS.Stat("/up"); err != nil || rp != "/"+deep {
		t.Errorf("Stat(/up) = %.40q, %v", rp, err)
	}
	if n := len(paths(t, res.FS)); n != 2002 {
		t.Errorf("%d nodes", n)
	}
}

// gzipTar is a small valid gzip layer for the corruption tests.
func gzipTar(t *testing.T) (tarb, gz []byte) {
	t.Helper()
	tarb = mkTar(t, dir("etc/"), file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"), exe("bin/sh", randomText(1, 300)))
	return tarb, gzipBytes(t, tarb)
}

func TestTruncatedLayers(t *testing.T) {
	t.Parallel()
	tarb, gz := gzipTar(t)
	zs := zstdBytes(t, tarb)
	for name, raw := range map[string][]byte{"gzip": gz, "zstd": zs} {
		for cut := 1; cut < len(raw); cut++ {
			_, err := Walk(t.Context(), []Blob{rawBlob(raw[:cut])}, []Analyzer{newRecorder(Want{Names: []string{"sh"}})}, Limits{})
			if err == nil {
				t.Errorf("%s cut at %d of %d walked", name, cut, len(raw))
				continue
			}
			asLayerError(t, err)
		}
	}
	// A plain tar cut at an entry boundary reads as a shorter archive; the diff ID catches it.
	for cut := 1; cut < len(tarb); cut += 97 {
		_, err := Walk(t.Context(), []Blob{{DiffID: sha(tarb), Open: opener(tarb[:cut])}}, nil, Limits{})
		if err == nil {
			t.Errorf("plain tar cut at %d walked", cut)
		}
	}
}

func TestCorruptedGzip(t *testing.T) {
	t.Parallel()
	tarb, gz := gzipTar(t)
	// A flipped byte of the deflate data or of the trailer is an error, unless
	// it lies in bits the decoder ignores and the content comes out the same
	// (deflate has such bits; the CRC-32 guards the content).
	errs := 0
	for i := 10; i < len(gz); i++ {
		bad := slices.Clone(gz)
		bad[i] ^= 0xff
		res, err := Walk(t.Context(), []Blob{rawBlob(bad)}, nil, Limits{})
		if err == nil {
			if got := res.FS.Layers()[0].DiffID; got != sha(tarb) {
				t.Errorf("gzip with byte %d of %d flipped walked, to other content", i, len(gz))
			}
			continue
		}
		errs++
	}
	if errs < (len(gz)-10)*9/10 {
		t.Errorf("only %d of %d flips were errors", errs, len(gz)-10)
	}
	// The header's mtime and OS bytes do not matter to gzip; the digest catches them.
	for i := 4; i < 10; i++ {
		bad := slices.Clone(gz)
		bad[i] ^= 0xff
		_, err := Walk(t.Context(), []Blob{{Digest: sha(gz), Open: opener(bad)}}, nil, Limits{})
		if err == nil || !strings.Contains(err.Error(), "digest mismatch") {
			t.Errorf("gzip with header byte %d flipped: %v", i, err)
		}
	}
	// A broken header.
	for _, bad := range [][]byte{{0x1f, 0x8b}, {0x1f, 0x8b, 99, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}, append([]byte{0x1f, 0x8b, 8, 0xff}, gz[4:]...)} {
		_, err := Walk(t.Context(), []Blob{rawBlob(bad)}, nil, Limits{})
		if err == nil {
			t.Errorf("bad gzip header %x walked", bad[:4])
		}
	}
	// Trailing garbage after the gzip member.
	if _, err := Walk(t.Context(), []Blob{rawBlob(append(slices.Clone(gz), "trailing junk"...))}, nil, Limits{}); err == nil {
		t.Error("gzip with trailing junk walked")
	}
}

func TestCorruptedZstd(t *testing.T) {
	t.Parallel()
	tarb, _ := gzipTar(t)
	zs := zstdBytes(t, tarb)
	rng := rand.New(rand.NewPCG(7, 7))
	for k := 0; k < 300; k++ {
		bad := slices.Clone(zs)
		bad[4+rng.IntN(len(bad)-4)] ^= byte(1 + rng.IntN(255))
		// Not every flip is a decoding error (a larger window descriptor still
		// decodes), but none may panic, and with the digest set every one is caught.
		Walk(t.Context(), []Blob{rawBlob(bad)}, nil, Limits{})
		_, err := Walk(t.Context(), []Blob{{Digest: sha(zs), DiffID: sha(tarb), Open: opener(bad)}}, nil, Limits{})
		if err == nil {
			t.Errorf("zstd with a flipped byte walked under a digest")
		}
	}
}

func TestGarbageLayers(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		n := 1 + rng.IntN(4096)
		if i%10 == 0 {
			n = 513 + rng.IntN(100_000)
		}
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(rng.UintN(256))
		}
		switch i % 3 {
		case 1:
			copy(b, []byte{0x1f, 0x8b, 8, 0})
		case 2:
			copy(b, []byte{0x28, 0xb5, 0x2f, 0xfd})
		}
		res, err := Walk(t.Context(), []Blob{rawBlob(b)}, []Analyzer{newRecorder(Want{Match: func(*File) bool { return true }})}, Limits{})
		if err == nil {
			t.Errorf("%d random bytes (%x...) walked: %v", n, b[:min(8, n)], paths(t, res.FS))
		}
	}
	// Valid gzip and zstd streams of garbage.
	g := []byte(randomText(3, 5000))
	for _, raw := range [][]byte{gzipBytes(t, g), zstdBytes(t, g)} {
		if _, err := Walk(t.Context(), []Blob{rawBlob(raw)}, nil, Limits{}); err == nil {
			t.Error("compressed garbage walked")
		}
	}
}

// TestReadErrorPropagates: an I/O error of the source comes back wrapped.
func TestReadErrorPropagates(t *testing.T) {
	t.Parallel()
	tarb, gz := gzipTar(t)
	netErr := errors.New("connection reset")
	for name, raw := range map[string][]byte{"plain": tarb, "gzip": gz, "zstd": zstdBytes(t, tarb)} {
		open := func() (io.ReadCloser, error) {
			return io.NopCloser(io.MultiReader(bytes.NewReader(raw[:len(raw)/2]), readerFunc(func([]byte) (int, error) { return 0, netErr }))), nil
		}
		_, err := Walk(t.Context(), []Blob{{Open: open}}, nil, Limits{})
		if asLayerError(t, err); !errors.Is(err, netErr) {
			t.Errorf("%s: error %v does not wrap the read error", name, err)
		}
	}
}

// tarHeaderBlock is the 512-byte header of a regular file of n bytes.
func tarHeaderBlock(name string, n int64) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: n, Mode: 0o644, ModTime: epoch}); err != nil {
		panic(err)
	}
	return buf.Bytes()[:512]
}

const (
	bombSize   = 200 << 20 // the file of zeros in the gzip and zstd bombs
	bombChunk  = 1 << 20
	bombPrefix = 64 << 10
)

// bombTar is the uncompressed content of gzipBomb(n).
func bombTar(n int) []byte {
	out := tarHeaderBlock("zeros", int64(bombPrefix+n))
	out = append(out, make([]byte, bombPrefix+n)...)
	return append(out, endOfArchive...)
}

// gzipBomb is one gzip member whose content is a tar holding one file of
// n+bombPrefix zero bytes. Compressing 200 MB takes long under -race, so it is
// assembled: a deflate segment that encodes 1 MB of zeros after at least 32 KB
// of zeros is valid anywhere after such zeros, and is repeated.
func gzipBomb(n int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	hdr := tarHeaderBlock("zeros", int64(bombPrefix+n))
	zw.Write(hdr)
	zw.Write(make([]byte, bombPrefix))
	zw.Flush()
	mark1 := buf.Len()
	zw.Write(make([]byte, bombChunk))
	zw.Flush()
	mark2 := buf.Len()
	zw.Write(endOfArchive) // the tar's end, as the final block
	zw.Close()
	b := buf.Bytes()
	prefix, chunk, final := b[:mark1], b[mark1:mark2], b[mark2:len(b)-8]

	out := slices.Clone(prefix)
	for range n / bombChunk {
		out = append(out, chunk...)
	}
	out = append(out, final...)
	// The trailer: CRC-32 and size of all the uncompressed bytes.
	crc := crc32.ChecksumIEEE(hdr)
	zeros := make([]byte, bombChunk)
	crc = crc32.Update(crc, crc32.IEEETable, zeros[:bombPrefix])
	for range n / bombChunk {
		crc = crc32.Update(crc, crc32.IEEETable, zeros)
	}
	crc = crc32.Update(crc, crc32.IEEETable, endOfArchive)
	out = binary.LittleEndian.AppendUint32(out, crc)
	out = binary.LittleEndian.AppendUint32(out, uint32(512+bombPrefix+n+len(endOfArchive)))
	return out
}

// zstdBomb is one zstd frame, written by hand: a raw block holding the tar
// header, then RLE blocks of 64 KiB of zeros; it holds the same tar as gzipBomb(n).
func zstdBomb(n int) []byte {
	block := func(last bool, typ uint32, size int, content []byte) []byte {
		h := typ<<1 | uint32(size)<<3
		if last {
			h |= 1
		}
		return append([]byte{byte(h), byte(h >> 8), byte(h >> 16)}, content...)
	}
	// Magic; frame header descriptor 0 (a window descriptor follows, no content
	// size, no checksum); window 1 MiB.
	out := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50}
	out = append(out, block(false, 0, 512, tarHeaderBlock("zeros", int64(bombPrefix+n)))...)
	const rle = bombPrefix // divides bombPrefix+n; at most the 128 KiB block limit
	for range (bombPrefix + n) / rle {
		out = append(out, block(false, 1, rle, []byte{0})...)
	}
	return append(out, block(true, 1, len(endOfArchive), []byte{0})...)
}

// gzipMembersBomb is 2 GiB of zeros as 2048 gzip members of 1 MiB each.
func gzipMembersBomb() []byte {
	member := func(b []byte) []byte {
		var m bytes.Buffer
		mw, _ := gzip.NewWriterLevel(&m, gzip.BestCompression)
		mw.Write(b)
		mw.Close()
		return m.Bytes()
	}
	out := member(tarHeaderBlock("zeros", 2<<30))
	mb := member(make([]byte, 1<<20))
	for range 2048 {
		out = append(out, mb...)
	}
	return append(out, member(endOfArchive)...)
}

var bombs = sync.OnceValue(func() map[string][]byte {
	return map[string][]byte{"gzip": gzipBomb(bombSize), "zstd": zstdBomb(bombSize), "gzip members": gzipMembersBomb()}
})

// TestBombsAreValid: the hand-made bombs are valid streams of what they claim
// (checked on small ones: the construction does not depend on the size).
func TestBombsAreValid(t *testing.T) {
	t.Parallel()
	const n = 4 << 20
	want := bombTar(n)
	for name, raw := range map[string][]byte{"gzip": gzipBomb(n), "zstd": zstdBomb(n)} {
		res, err := Walk(t.Context(), []Blob{{Digest: sha(raw), DiffID: sha(want), Open: opener(raw)}}, nil, Limits{})
		if err != nil {
			t.Errorf("%s bomb: %v", name, err)
			continue
		}
		if l := res.FS.Layers()[0]; l.Size != int64(len(raw)) || l.Compression != name || l.UncompressedSize != int64(len(want)) {
			t.Errorf("%s bomb: layer %+v", name, l)
		}
		if len(raw) > n/100 {
			t.Errorf("%s bomb: %d bytes for %d of zeros", name, len(raw), n)
		}
	}
}

// TestDecompressionBomb: 200 MB (or 2 GB) of zeros compressed to a few KB stop
// at MaxLayerBytes (10 MB), quickly, whether or not analyzers read the file.
func TestDecompressionBomb(t *testing.T) {
	t.Parallel()
	bs := bombs()
	one := func() []Analyzer { return []Analyzer{newRecorder(Want{Names: []string{"zeros"}})} }
	two := func() []Analyzer {
		return []Analyzer{newRecorder(Want{Names: []string{"zeros"}}), newRecorder(Want{Paths: []string{"/zeros"}})}
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		as   func() []Analyzer
	}{
		{"gzip", bs["gzip"], func() []Analyzer { return nil }},
		{"zstd", bs["zstd"], func() []Analyzer { return nil }},
		{"gzip members", bs["gzip members"], func() []Analyzer { return nil }},
		{"gzip read by an analyzer", bs["gzip"], one},
		{"zstd read by two analyzers", bs["zstd"], two},
		{"gzip members read by two analyzers", bs["gzip members"], two},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := &countingOpener{b: tc.raw}
			as := tc.as()
			start := time.Now()
			_, err := Walk(t.Context(), []Blob{{Digest: sha(tc.raw), Open: src.open}}, as, Limits{MaxLayerBytes: 10 << 20})
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("Walk took %v", d)
			}
			if !errors.Is(err, ErrLimit) {
				t.Fatalf("error %v, want ErrLimit", err)
			}
			if asLayerError(t, err); !strings.Contains(err.Error(), "decompression bomb") {
				t.Errorf("error %v", err)
			}
			// Stopped early: the 2 MB of gzip members are far from all read.
			if n := src.read(); len(tc.raw) > 1<<20 && n > int64(len(tc.raw))/4 {
				t.Errorf("read %d of %d compressed bytes", n, len(tc.raw))
			}
			// The analyzers got at most the limit, give or take one read.
			for _, a := range as {
				for _, c := range a.(*recorder).calls() {
					if len(c.Content) > 10<<20+128<<10 {
						t.Errorf("analyzer read %d bytes", len(c.Content))
					}
					if len(as) == 1 && c.Err == nil {
						t.Errorf("analyzer read %d bytes of the bomb without an error", len(c.Content))
					}
				}
			}
			t.Logf("%d compressed bytes, %d read, %v", len(tc.raw), src.read(), time.Since(start))
		})
	}
}

// TestStreamedAnalyzersSeeFailureBug: when the layer fails in the middle of a
// file streamed to several analyzers, the analyzers must see the error, as a
// single analyzer does, not a clean EOF on a truncated file.
func TestStreamedAnalyzersSeeFailure(t *testing.T) {
	// Regression (was a bug): walk.go:434-436 feed() ends the pipes with pw.Close() even when io.Copy
	// failed, so analyzers fed through pipes read a clean io.EOF after a truncated file (the buffered
	// path and the single-analyzer path do report the error)
	t.Parallel()
	content := randomText(5, 3<<20)
	tarb := mkTar(t, file("big", content))
	cut := tarb[:len(tarb)-1024-(2<<20)] // the file is cut after about 1 MB
	a, b := newRecorder(Want{Names: []string{"big"}}), newRecorder(Want{Names: []string{"big"}})
	_, err := Walk(t.Context(), []Blob{rawBlob(cut)}, []Analyzer{a, b}, Limits{MaxBufferedFile: 4096})
	if err == nil {
		t.Fatal("a truncated layer walked")
	}
	for _, r := range []*recorder{a, b} {
		for _, c := range r.calls() {
			if c.Err == nil {
				t.Errorf("analyzer read %d of %d bytes and got a clean EOF", len(c.Content), c.File.Size)
			}
		}
	}
}

func TestMaxLayerBytes(t *testing.T) {
	t.Parallel()
	tarb := mkTar(t, file("a", randomText(1, 20_000)))
	for _, comp := range []string{"none", "gzip", "zstd"} {
		b := blobOf(t, comp, tarb)
		if _, err := Walk(t.Context(), []Blob{b}, nil, Limits{MaxLayerBytes: 10_000}); !errors.Is(err, ErrLimit) {
			t.Errorf("%s: error %v, want ErrLimit", comp, err)
		}
		if _, err := Walk(t.Context(), []Blob{b}, nil, Limits{MaxLayerBytes: int64(len(tarb))}); err != nil {
			t.Errorf("%s: a layer of exactly MaxLayerBytes: %v", comp, err)
		}
	}
}

// sparseTar is a tar holding one old-GNU sparse file of the given logical size,
// made of holes only: a few hundred bytes that read as size zero bytes.
func sparseTar(name string, size int64) []byte {
	hdr := rawHeader(name, tar.TypeGNUSparse, 0, true)
	// realsize, in base-256 so that any size fits.
	rs := hdr[483:495]
	clear(rs)
	rs[0] = 0x80
	for i := 11; i > 3; i-- {
		rs[i] = byte(size)
		size >>= 8
	}
	setChecksum(hdr)
	return append(hdr, endOfArchive...)
}

// TestSparseFileNotWanted: a sparse file nobody reads costs nothing.
func TestSparseFileNotWanted(t *testing.T) {
	t.Parallel()
	res, err := Walk(t.Context(), []Blob{rawBlob(sparseTar("holes", 1<<50))}, nil, Limits{MaxLayerBytes: 10 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if n := mustLookup(t, res.FS, "/holes"); n.Type != TypeRegular || n.Size != 1<<50 {
		t.Errorf("sparse file: %+v", n.File)
	}
}

// TestSparseBombBug: the holes of a GNU sparse file are made up by archive/tar
// and never pass the MaxLayerBytes counter, so a 1.5 KB layer hands a wanted
// file of 1 TiB of zeros to the analyzers and the walk then drains it all,
// without checking ctx.
func TestSparseBomb(t *testing.T) {
	// Regression (was a bug): walk.go:303 and 394-398 MaxLayerBytes counts only bytes read from the
	// tar stream; a GNU sparse entry (type 'S') of realsize 1 TiB made only of holes feeds 1 TiB of
	// zeros to a wanted analyzer and io.Copy(io.Discard, lr) drains them all: Walk runs for minutes to
	// forever, ignoring ctx
	t.Parallel()
	const limit = 10 << 20
	r := newRecorder(Want{Names: []string{"passwd"}})
	r.limit = 2 * limit
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Walk(ctx, []Blob{rawBlob(sparseTar("etc/passwd", 1<<40))}, []Analyzer{r}, Limits{MaxLayerBytes: limit})
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Error("Walk still running after 10 s (and 5 s after ctx expired)")
	}
	for _, c := range r.calls() {
		if len(c.Content) > limit {
			t.Errorf("analyzer read %d bytes of a layer limited to %d", len(c.Content), limit)
		}
	}
}

func TestMaxEntries(t *testing.T) {
	t.Parallel()
	three := func(p string) []ent { return []ent{dir(p + "/"), file(p+"/a", ""), wh(p + "/b")} }
	bs := blobs(t, three("x"), three("y"))
	_, err := Walk(t.Context(), bs, nil, Limits{MaxEntries: 5})
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("error %v, want ErrLimit", err)
	}
	if le := asLayerError(t, err); le.Index != 1 || !strings.Contains(err.Error(), "more than 5 entries") {
		t.Errorf("error %v", err)
	}
	res, err := Walk(t.Context(), bs, nil, Limits{MaxEntries: 6})
	if err != nil || res.FS.Entries() != 6 {
		t.Errorf("exactly MaxEntries: %v", err)
	}
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	bs := blobs(t, []ent{file("a", "a"), file("stop", "s"), file("b", "b")}, []ent{file("c", "c")})

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res, err := Walk(ctx, bs, nil, Limits{})
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Errorf("cancelled before: %v, %v", res, err)
	}

	ctx, cancel2 := context.WithTimeout(t.Context(), -time.Second)
	defer cancel2()
	if _, err := Walk(ctx, bs, nil, Limits{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expired deadline: %v", err)
	}

	// Cancelled in the middle: the walk stops at the next entry.
	ctx, cancel3 := context.WithCancel(t.Context())
	defer cancel3()
	r := &cancelAt{recorder: newRecorder(Want{Match: func(*File) bool { return true }}), at: "/stop", cancel: cancel3}
	_, err = Walk(ctx, bs, []Analyzer{r}, Limits{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled mid-walk: %v", err)
	}
	if got := r.fed(); !slices.Equal(got, []string{"/a@0", "/stop@0"}) {
		t.Errorf("fed %v after cancel", got)
	}
}

type cancelAt struct {
	*recorder
	at     string
	cancel func()
}

func (c *cancelAt) Analyze(f *File, r io.Reader) error {
	err := c.recorder.Analyze(f, r)
	if f.Path == c.at {
		c.cancel()
	}
	return err
}

// TestZstdWindow: a frame that declares a small window is fine; one declaring
// a window over the decoder's maximum (512 MiB) is refused, not allocated.
func TestZstdWindow(t *testing.T) {
	t.Parallel()
	frame := func(windowDescriptor byte) []byte {
		// Frame header without content size, then one last RLE block of 1024 zero bytes.
		bh := uint32(1) | uint32(1)<<1 | uint32(1024)<<3
		return []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, windowDescriptor, byte(bh), byte(bh >> 8), byte(bh >> 16), 0x00}
	}
	if _, err := Walk(t.Context(), []Blob{rawBlob(frame(0x50))}, nil, Limits{}); err != nil {
		t.Errorf("1 MiB window: %v", err)
	}
	if _, err := Walk(t.Context(), []Blob{rawBlob(frame(0xb0))}, nil, Limits{}); err == nil {
		t.Error("a 4 GiB window walked")
	}
}
