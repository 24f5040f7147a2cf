package imagefs

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// This file holds the helpers the imagefs tests share: an in-memory layer
// builder, blob constructors that compute real digests, and a recording analyzer.

var epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// ent is one tar entry of a synthetic layer.
type ent struct {
	name string
	typ  byte
	body string
	link string
	mode int64
	uid  int
	gid  int
	// size, when non-zero, overrides len(body) in the header (the body is
	// then padded with zeros to that size).
	size int64
}

func file(name, body string) ent { return ent{name: name, typ: tar.TypeReg, body: body, mode: 0o644} }
func exe(name, body string) ent  { return ent{name: name, typ: tar.TypeReg, body: body, mode: 0o755} }
func dir(name string) ent        { return ent{name: name, typ: tar.TypeDir, mode: 0o755} }
func sym(name, target string) ent {
	return ent{name: name, typ: tar.TypeSymlink, link: target, mode: 0o777}
}
func hard(name, target string) ent {
	return ent{name: name, typ: tar.TypeLink, link: target, mode: 0o644}
}

// wh is the whiteout entry that deletes p.
func wh(p string) ent {
	d, b := path.Split(p)
	return file(d+".wh."+b, "")
}

// opq is the opaque marker of directory d ("" for the root).
func opq(d string) ent {
	if d == "" || d == "/" {
		return file(".wh..wh..opq", "")
	}
	return file(strings.TrimSuffix(d, "/")+"/.wh..wh..opq", "")
}

// mkTar writes the entries as an uncompressed tar stream.
func mkTar(tb testing.TB, es ...ent) []byte {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := &tar.Header{
			Name:     e.name,
			Typeflag: e.typ,
			Linkname: e.link,
			Mode:     e.mode,
			Uid:      e.uid,
			Gid:      e.gid,
			ModTime:  epoch,
			Format:   tar.FormatPAX,
		}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
			if e.size > 0 {
				h.Size = e.size
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			tb.Fatalf("tar header %q: %v", e.name, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, e.body); err != nil {
				tb.Fatal(err)
			}
			if pad := h.Size - int64(len(e.body)); pad > 0 {
				if _, err := io.CopyN(tw, zeroReader{}, pad); err != nil {
					tb.Fatal(err)
				}
			}
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func gzipBytes(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func zstdBytes(tb testing.TB, b []byte) []byte {
	tb.Helper()
	zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		tb.Fatal(err)
	}
	defer zw.Close()
	return zw.EncodeAll(b, nil)
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func opener(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

// compress returns the tar compressed as comp ("gzip", "zstd" or "none").
func compress(tb testing.TB, comp string, tarb []byte) []byte {
	tb.Helper()
	switch comp {
	case "gzip":
		return gzipBytes(tb, tarb)
	case "zstd":
		return zstdBytes(tb, tarb)
	case "none":
		return tarb
	}
	tb.Fatalf("unknown compression %q", comp)
	return nil
}

// blobOf makes a blob of the tar compressed as comp, with the right digest and diff ID.
func blobOf(tb testing.TB, comp string, tarb []byte) Blob {
	tb.Helper()
	raw := compress(tb, comp, tarb)
	return Blob{Digest: sha(raw), DiffID: sha(tarb), Open: opener(raw)}
}

// rawBlob is a blob with no digests set.
func rawBlob(b []byte) Blob { return Blob{Open: opener(b)} }

// blobs turns each list of entries into a gzip layer with real digests.
func blobs(tb testing.TB, layers ...[]ent) []Blob {
	tb.Helper()
	out := make([]Blob, len(layers))
	for i, es := range layers {
		out[i] = blobOf(tb, "gzip", mkTar(tb, es...))
	}
	return out
}

// walkOK walks the layers and fails the test on error.
func walkOK(tb testing.TB, layers [][]ent, as ...Analyzer) *Result {
	tb.Helper()
	res, err := Walk(context.Background(), blobs(tb, layers...), as, Limits{})
	if err != nil {
		tb.Fatalf("Walk: %v", err)
	}
	return res
}

// paths lists every path of the final filesystem, in walk order, with a type suffix
// ("/" for dirs, "@" for symlinks, "=" for hard links).
func paths(tb testing.TB, fsys *FS) []string {
	tb.Helper()
	var out []string
	err := fsys.Walk(func(n *Node) error {
		s := n.Path
		switch n.Type {
		case TypeDir:
			s += "/"
		case TypeSymlink:
			s += "@"
		case TypeHardlink:
			s += "="
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		tb.Fatalf("FS.Walk: %v", err)
	}
	return out
}

func mustLookup(tb testing.TB, fsys *FS, p string) *Node {
	tb.Helper()
	n, ok := fsys.Lookup(p)
	if !ok {
		tb.Fatalf("Lookup(%q): not found; tree is %v", p, paths(tb, fsys))
	}
	return n
}

func sortedDeletions(ds []Deletion) []Deletion {
	out := slices.Clone(ds)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Layer < out[j].Layer
	})
	return out
}

func fmtDeletions(ds []Deletion) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "\n\t%s (%s) deleted by %d, last %d", d.Path, d.Type, d.Layer, d.Last)
	}
	return b.String()
}

// seen is one call of a recorder's Analyze.
type seen struct {
	File    File
	Content string
	Err     error // the read error, if any
}

// recorder is an analyzer that records what it is fed.
type recorder struct {
	want Want
	// limit, when >= 0, stops reading after that many bytes.
	limit int
	// fail, when set, is returned from Analyze; panicWith, when set, is panicked with.
	fail      error
	panicWith any
	// failOn, when set, limits fail and panicWith to that path.
	failOn string

	mu   sync.Mutex
	seen []seen
}

func newRecorder(w Want) *recorder { return &recorder{want: w, limit: -1} }

func (r *recorder) Want() Want { return r.want }

func (r *recorder) Analyze(f *File, rd io.Reader) error {
	var content []byte
	var err error
	if r.limit >= 0 {
		content, err = io.ReadAll(io.LimitReader(rd, int64(r.limit)))
	} else {
		content, err = io.ReadAll(rd)
	}
	r.mu.Lock()
	r.seen = append(r.seen, seen{File: *f, Content: string(content), Err: err})
	r.mu.Unlock()
	if r.failOn != "" && f.Path != r.failOn {
		return nil
	}
	if r.panicWith != nil {
		panic(r.panicWith)
	}
	return r.fail
}

func (r *recorder) calls() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

// fed lists "path@layer" for every call, in order.
func (r *recorder) fed() []string {
	var out []string
	for _, s := range r.calls() {
		out = append(out, fmt.Sprintf("%s@%d", s.File.Path, s.File.Layer))
	}
	return out
}

// asLayerError fails the test unless err is a *LayerError.
func asLayerError(tb testing.TB, err error) *LayerError {
	tb.Helper()
	if err == nil {
		tb.Fatal("Walk succeeded, want an error")
	}
	var le *LayerError
	if !errors.As(err, &le) {
		tb.Fatalf("error %v (%T) is not a *LayerError", err, err)
	}
	return le
}

// countingOpener counts the raw bytes a walk reads from a blob.
type countingOpener struct {
	b  []byte
	n  int64
	mu sync.Mutex
}

func (c *countingOpener) open() (io.ReadCloser, error) {
	return io.NopCloser(readerFunc(func(p []byte) (int, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.n >= int64(len(c.b)) {
			return 0, io.EOF
		}
		n := copy(p, c.b[c.n:])
		c.n += int64(n)
		return n, nil
	})), nil
}

func (c *countingOpener) read() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// rawHeader builds a 512-byte tar header block by hand, so that tests can
// write what archive/tar refuses to (any bytes in the name, any type flag).
// gnu selects the GNU magic instead of the USTAR one.
func rawHeader(name string, typ byte, size int64, gnu bool) []byte {
	b := make([]byte, 512)
	copy(b[0:100], name)
	copy(b[100:108], "0000644\x00")
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	copy(b[124:136], fmt.Sprintf("%011o\x00", size))
	copy(b[136:148], fmt.Sprintf("%011o\x00", epoch.Unix()))
	b[156] = typ
	if gnu {
		copy(b[257:265], "ustar  \x00")
	} else {
		copy(b[257:263], "ustar\x00")
		copy(b[263:265], "00")
	}
	setChecksum(b)
	return b
}

func setChecksum(b []byte) {
	copy(b[148:156], "        ")
	sum := 0
	for _, c := range b[:512] {
		sum += int(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
}

// rawEntry is a hand-made header followed by data padded to a block.
func rawEntry(name string, typ byte, data []byte) []byte {
	out := rawHeader(name, typ, int64(len(data)), false)
	out = append(out, data...)
	if r := len(data) % 512; r != 0 {
		out = append(out, make([]byte, 512-r)...)
	}
	return out
}

// endOfArchive is the two zero blocks that end a tar stream.
var endOfArchive = make([]byte, 1024)
