package imagefs

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Blob is one layer as a source hands it to the walk.
type Blob struct {
	// Digest is the expected "sha256:..." digest of the bytes Open returns
	// (the compressed blob). Empty when the source only gives uncompressed bytes.
	Digest string
	// DiffID is the expected "sha256:..." digest of the uncompressed tar stream.
	DiffID string
	// MediaType is the layer's media type as the manifest gives it, if known.
	MediaType string
	// CreatedBy is the history line that made the layer, if known.
	CreatedBy string
	// Open returns the layer's bytes: gzip, zstd or plain tar (detected from magic bytes).
	Open func() (io.ReadCloser, error)
}

// Layer describes a layer after it has been read.
type Layer struct {
	Index     int    `json:"index"`
	Digest    string `json:"digest,omitempty"`
	DiffID    string `json:"diff_id"`
	MediaType string `json:"media_type,omitempty"`
	CreatedBy string `json:"created_by,omitempty"`
	// Size is the number of bytes read from the source (compressed when compressed).
	Size int64 `json:"size"`
	// UncompressedSize is the size of the layer's tar stream.
	UncompressedSize int64  `json:"uncompressed_size"`
	Entries          int    `json:"entries"`
	Compression      string `json:"compression"`
}

// Limits bound the work a hostile image can cause. A zero field takes its default.
type Limits struct {
	// MaxEntries bounds the tar entries across all layers (default 4,000,000).
	MaxEntries int
	// MaxLayerBytes bounds the uncompressed size of one layer (default 64 GiB).
	MaxLayerBytes int64
	// MaxPathLen bounds the length of one entry's path (default 4096).
	MaxPathLen int
	// MaxBufferedFile is the largest file handed to several analyzers from memory;
	// larger ones are streamed to all of them at once (default 1 MiB).
	MaxBufferedFile int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = 4_000_000
	}
	if l.MaxLayerBytes <= 0 {
		l.MaxLayerBytes = 64 << 30
	}
	if l.MaxPathLen <= 0 {
		l.MaxPathLen = 4096
	}
	if l.MaxBufferedFile <= 0 {
		l.MaxBufferedFile = 1 << 20
	}
	return l
}

// Want declares which regular files an analyzer needs to read.
// A file is wanted when any of the fields matches it.
type Want struct {
	// Paths are exact absolute paths.
	Paths []string
	// Globs are path.Match patterns on the absolute path ("/var/lib/dpkg/status.d/*").
	Globs []string
	// Names are exact base names ("package.json").
	Names []string
	// Match is a predicate on the file's header (name, mode, size).
	Match func(f *File) bool
}

// Analyzer reads file contents during the walk.
type Analyzer interface {
	// Want declares the files the analyzer reads. It is called once, before the walk.
	Want() Want
	// Analyze is called for every version of every wanted regular file, in
	// layer order, including versions that a later layer deletes or overwrites.
	// r yields the file's f.Size bytes; the analyzer may stop reading early.
	// An error is recorded as a warning naming the path and layer; the walk goes on.
	Analyze(f *File, r io.Reader) error
}

// Warning is a problem that did not stop the walk.
type Warning struct {
	Layer int    `json:"layer"`
	Path  string `json:"path,omitempty"`
	Msg   string `json:"message"`
}

func (w Warning) String() string {
	if w.Path == "" {
		return fmt.Sprintf("layer %d: %s", w.Layer, w.Msg)
	}
	return fmt.Sprintf("layer %d: %s: %s", w.Layer, w.Path, w.Msg)
}

// LayerError is a fatal problem with one layer.
type LayerError struct {
	Index  int
	Digest string
	Path   string
	Err    error
}

func (e *LayerError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "layer %d", e.Index)
	if e.Digest != "" {
		fmt.Fprintf(&b, " (%s)", e.Digest)
	}
	if e.Path != "" {
		fmt.Fprintf(&b, ": %s", e.Path)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *LayerError) Unwrap() error { return e.Err }

// ErrLimit is wrapped by errors caused by a Limits bound.
var ErrLimit = errors.New("limit reached")

// Result is what a walk produces.
type Result struct {
	FS       *FS
	Warnings []Warning
}

type wantIndex struct {
	paths map[string][]int
	names map[string][]int
	globs []globWant
	match []matchWant
}

type globWant struct {
	pattern string
	a       int
}

type matchWant struct {
	fn func(*File) bool
	a  int
}

func newWantIndex(as []Analyzer) *wantIndex {
	w := &wantIndex{paths: map[string][]int{}, names: map[string][]int{}}
	for i, a := range as {
		want := a.Want()
		for _, p := range want.Paths {
			if !containsInt(w.paths[p], i) {
				w.paths[p] = append(w.paths[p], i)
			}
		}
		for _, n := range want.Names {
			if !containsInt(w.names[n], i) {
				w.names[n] = append(w.names[n], i)
			}
		}
		for _, g := range want.Globs {
			w.globs = append(w.globs, globWant{g, i})
		}
		if want.Match != nil {
			w.match = append(w.match, matchWant{want.Match, i})
		}
	}
	return w
}

func (w *wantIndex) wanted(f *File, dst []int) []int {
	dst = dst[:0]
	seen := func(i int) bool {
		for _, j := range dst {
			if i == j {
				return true
			}
		}
		return false
	}
	dst = append(dst, w.paths[f.Path]...)
	for _, i := range w.names[path.Base(f.Path)] {
		if !seen(i) {
			dst = append(dst, i)
		}
	}
	for _, g := range w.globs {
		if !seen(g.a) {
			if ok, _ := path.Match(g.pattern, f.Path); ok {
				dst = append(dst, g.a)
			}
		}
	}
	for _, m := range w.match {
		if !seen(m.a) && safeMatch(m.fn, f) {
			dst = append(dst, m.a)
		}
	}
	return dst
}

// safeMatch treats a predicate that panics as "not wanted".
func safeMatch(fn func(*File) bool, f *File) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return fn(f)
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Walk reads every layer once, base first, applies whiteouts and opaque
// directories, verifies digests and diff IDs, and feeds wanted files to the
// analyzers. Nothing is written to disk.
func Walk(ctx context.Context, blobs []Blob, analyzers []Analyzer, lim Limits) (*Result, error) {
	lim = lim.withDefaults()
	w := &walker{
		ctx:   ctx,
		lim:   lim,
		fs:    newFS(),
		as:    analyzers,
		wants: newWantIndex(analyzers),
	}
	for i, b := range blobs {
		if err := w.layer(i, b); err != nil {
			return nil, err
		}
	}
	w.fs.freeze()
	return &Result{FS: w.fs, Warnings: w.warnings}, nil
}

type walker struct {
	ctx      context.Context
	lim      Limits
	fs       *FS
	as       []Analyzer
	wants    *wantIndex
	warnings []Warning
	buf      bytes.Buffer
	idx      []int
}

func (w *walker) layer(i int, b Blob) (err error) {
	info := Layer{Index: i, Digest: b.Digest, DiffID: b.DiffID, MediaType: b.MediaType, CreatedBy: b.CreatedBy}
	lerr := func(p string, e error) error {
		d := b.Digest
		if d == "" {
			d = b.DiffID
		}
		return &LayerError{Index: i, Digest: d, Path: p, Err: e}
	}
	rc, err := b.Open()
	if err != nil {
		return lerr("", fmt.Errorf("opening layer: %w", err))
	}
	defer rc.Close()

	raw := &countingReader{r: rc}
	var rawHash hash.Hash
	var src io.Reader = raw
	if b.Digest != "" {
		if !strings.HasPrefix(b.Digest, "sha256:") {
			return lerr("", fmt.Errorf("unsupported digest algorithm in %q", b.Digest))
		}
		rawHash = sha256.New()
		src = io.TeeReader(raw, rawHash)
	}
	br := bufio.NewReaderSize(src, 64<<10)
	magic, _ := br.Peek(4)
	var plain io.Reader
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		info.Compression = "gzip"
		zr, err := gzip.NewReader(br)
		if err != nil {
			return lerr("", fmt.Errorf("corrupt gzip stream: %w", err))
		}
		defer zr.Close()
		plain = zr
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		info.Compression = "zstd"
		zr, err := zstd.NewReader(br, zstd.WithDecoderMaxMemory(256<<20), zstd.WithDecoderMaxWindow(128<<20), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return lerr("", fmt.Errorf("corrupt zstd stream: %w", err))
		}
		defer zr.Close()
		plain = zr
	default:
		info.Compression = "none"
		plain = br
	}
	if b.DiffID != "" && !strings.HasPrefix(b.DiffID, "sha256:") {
		return lerr("", fmt.Errorf("unsupported diff ID algorithm in %q", b.DiffID))
	}
	diffHash := newAsyncHash()
	defer diffHash.stop()
	un := &countingReader{r: io.TeeReader(plain, diffHash), max: w.lim.MaxLayerBytes}
	tr := tar.NewReader(un)
	// Content handed to analyzers is counted too: archive/tar expands the
	// holes of sparse entries, which never pass through un.
	content := &countingReader{r: tr, max: w.lim.MaxLayerBytes, ctx: w.ctx}
	last := ""
	for {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return lerr(last, fmt.Errorf("reading tar after this entry: %w", err))
		}
		w.fs.entries++
		info.Entries++
		if w.fs.entries > w.lim.MaxEntries {
			return lerr(h.Name, fmt.Errorf("%w: more than %d entries in the image", ErrLimit, w.lim.MaxEntries))
		}
		p, err := cleanPath(h.Name, w.lim.MaxPathLen)
		if err != nil {
			return lerr(h.Name, err)
		}
		last = p
		if err := w.entry(i, h, p, content); err != nil {
			return lerr(p, err)
		}
		if content.hit {
			return lerr(p, fmt.Errorf("%w: more than %d bytes of file content in the layer (a decompression bomb, or a sparse-file bomb?)", ErrLimit, w.lim.MaxLayerBytes))
		}
	}
	// Read to the end so that the digests cover every byte.
	if _, err := io.Copy(io.Discard, un); err != nil {
		return lerr("", fmt.Errorf("reading past the end of the tar stream: %w", err))
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return lerr("", fmt.Errorf("reading layer: %w", err))
	}
	info.Size = raw.n
	info.UncompressedSize = un.n
	if rawHash != nil {
		if got := "sha256:" + hex.EncodeToString(rawHash.Sum(nil)); got != b.Digest {
			return lerr("", fmt.Errorf("digest mismatch: the manifest says %s, the content is %s", b.Digest, got))
		}
	}
	got := "sha256:" + hex.EncodeToString(diffHash.Sum())
	if b.DiffID != "" && got != b.DiffID {
		return lerr("", fmt.Errorf("diff ID mismatch: the config says %s, the uncompressed content is %s", b.DiffID, got))
	}
	info.DiffID = got
	if info.Digest == "" {
		info.Digest = got
	}
	w.fs.layers = append(w.fs.layers, info)
	return nil
}

func (w *walker) entry(layer int, h *tar.Header, p string, r io.Reader) error {
	dir, base := path.Split(p)
	if strings.HasPrefix(base, ".wh.") {
		switch {
		case base == ".wh..wh..opq":
			w.fs.opaque(dir, layer)
		case strings.HasPrefix(base, ".wh..wh."):
			// aufs bookkeeping (.wh..wh.plnk and the like): not a file.
		default:
			w.fs.whiteout(path.Join(dir, strings.TrimPrefix(base, ".wh.")), layer)
		}
		return nil
	}
	f, ok := fileFromHeader(h, p, layer)
	if !ok {
		return nil
	}
	if f.Type == TypeSymlink && len(f.Link) > w.lim.MaxPathLen {
		return fmt.Errorf("%w: symlink target is %d bytes long, over the limit of %d", ErrLimit, len(f.Link), w.lim.MaxPathLen)
	}
	if f.Type == TypeHardlink {
		target, err := cleanPath(h.Linkname, w.lim.MaxPathLen)
		if err != nil {
			return fmt.Errorf("hard link target %q: %w", h.Linkname, err)
		}
		f.Link = target
	}
	w.fs.put(f)
	if f.Type != TypeRegular {
		return nil
	}
	w.idx = w.wants.wanted(&f, w.idx)
	if len(w.idx) == 0 {
		return nil
	}
	return w.feed(&f, r)
}

// feed hands the file's content to every analyzer that wants it.
func (w *walker) feed(f *File, r io.Reader) error {
	lr := &io.LimitedReader{R: r, N: f.Size}
	if len(w.idx) == 1 {
		a := w.as[w.idx[0]]
		w.analyze(a, f, lr)
		return nil // tar.Reader.Next skips what the analyzer left unread
	}
	if f.Size <= w.lim.MaxBufferedFile {
		w.buf.Reset()
		if _, err := w.buf.ReadFrom(lr); err != nil {
			return err
		}
		for _, i := range w.idx {
			w.analyze(w.as[i], f, bytes.NewReader(w.buf.Bytes()))
		}
		return nil
	}
	// A large file wanted by several analyzers: stream it to all at once.
	var wg sync.WaitGroup
	writers := make([]io.Writer, len(w.idx))
	pipes := make([]*io.PipeWriter, len(w.idx))
	var mu sync.Mutex
	for k, i := range w.idx {
		pr, pw := io.Pipe()
		pipes[k] = pw
		writers[k] = &lenientWriter{w: pw}
		a := w.as[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := safeAnalyze(a, f, pr)
			pr.CloseWithError(io.ErrClosedPipe)
			if err != nil {
				mu.Lock()
				w.warnings = append(w.warnings, Warning{Layer: f.Layer, Path: f.Path, Msg: err.Error()})
				mu.Unlock()
			}
		}()
	}
	_, err := io.Copy(&fanOut{ws: writers}, lr)
	if err == errAllStopped {
		err = nil
	}
	for _, pw := range pipes {
		pw.CloseWithError(err) // nil closes cleanly; a failed read reaches the analyzers
	}
	wg.Wait()
	return err
}

func (w *walker) analyze(a Analyzer, f *File, r io.Reader) {
	if err := safeAnalyze(a, f, r); err != nil {
		w.warnings = append(w.warnings, Warning{Layer: f.Layer, Path: f.Path, Msg: err.Error()})
	}
}

// safeAnalyze turns an analyzer's panic into an error: one bad parser must not
// take the whole verdict down.
func safeAnalyze(a Analyzer, f *File, r io.Reader) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("analyzer %T failed: %v", a, p)
		}
	}()
	return a.Analyze(f, r)
}

// lenientWriter keeps the fan-out going when one reader stops early.
type lenientWriter struct {
	w    io.Writer
	dead bool
}

func (l *lenientWriter) Write(p []byte) (int, error) {
	if !l.dead {
		if _, err := l.w.Write(p); err != nil {
			l.dead = true
		}
	}
	return len(p), nil
}

// fanOut writes to every lenient writer and stops the copy once all of
// their readers have stopped.
type fanOut struct{ ws []io.Writer }

var errAllStopped = errors.New("every analyzer stopped reading")

func (f *fanOut) Write(p []byte) (int, error) {
	alive := false
	for _, w := range f.ws {
		w.Write(p)
		if lw, ok := w.(*lenientWriter); !ok || !lw.dead {
			alive = true
		}
	}
	if !alive {
		return 0, errAllStopped
	}
	return len(p), nil
}

// countingReader counts what passes and, with max set, never lets more than
// max bytes through: the read after them fails with ErrLimit.
type countingReader struct {
	r   io.Reader
	n   int64
	max int64
	ctx context.Context
	hit bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.ctx != nil {
		if err := c.ctx.Err(); err != nil {
			return 0, err
		}
	}
	if c.max > 0 {
		left := c.max - c.n
		if left <= 0 && len(p) > 0 {
			// One byte more tells a stream of exactly max bytes from a larger one.
			var one [1]byte
			if n, _ := c.r.Read(one[:]); n == 0 {
				return 0, io.EOF
			}
			c.hit = true
			return 0, fmt.Errorf("%w: layer is larger than %d bytes uncompressed (a decompression bomb?)", ErrLimit, c.max)
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
