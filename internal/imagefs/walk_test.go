package imagefs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

func TestCompressions(t *testing.T) {
	t.Parallel()
	es := []ent{dir("etc/"), file("etc/os-release", "ID=test\n"), exe("bin/sh", strings.Repeat("elf", 1000)), sym("bin/bash", "sh")}
	for _, comp := range []string{"gzip", "zstd", "none"} {
		t.Run(comp, func(t *testing.T) {
			t.Parallel()
			tarb := mkTar(t, es...)
			raw := compress(t, comp, tarb)
			b := Blob{Digest: sha(raw), DiffID: sha(tarb), MediaType: "application/vnd.oci.image.layer.v1.tar+" + comp, CreatedBy: "RUN make " + comp, Open: opener(raw)}
			rec := newRecorder(Want{Paths: []string{"/etc/os-release"}})
			res, err := Walk(t.Context(), []Blob{b}, []Analyzer{rec}, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			ls := res.FS.Layers()
			if len(ls) != 1 {
				t.Fatalf("%d layers", len(ls))
			}
			want := Layer{
				Index: 0, Digest: sha(raw), DiffID: sha(tarb), MediaType: b.MediaType, CreatedBy: b.CreatedBy,
				Size: int64(len(raw)), UncompressedSize: int64(len(tarb)), Entries: len(es), Compression: comp,
			}
			if ls[0] != want {
				t.Errorf("Layer = %+v\nwant    %+v", ls[0], want)
			}
			if res.FS.Entries() != len(es) {
				t.Errorf("Entries() = %d, want %d", res.FS.Entries(), len(es))
			}
			if c := rec.calls(); len(c) != 1 || c[0].Content != "ID=test\n" {
				t.Errorf("analyzer saw %+v", c)
			}
			if got := paths(t, res.FS); !slices.Equal(got, []string{"/bin/", "/bin/bash@", "/bin/sh", "/etc/", "/etc/os-release"}) {
				t.Errorf("tree = %v", got)
			}
		})
	}
}

func TestMixedCompressionLayers(t *testing.T) {
	t.Parallel()
	var bs []Blob
	for i, comp := range []string{"zstd", "none", "gzip", "zstd"} {
		bs = append(bs, blobOf(t, comp, mkTar(t, file("f", fmt.Sprint("v", i)), file(fmt.Sprint("only", i), ""))))
	}
	rec := newRecorder(Want{Names: []string{"f"}})
	res, err := Walk(t.Context(), bs, []Analyzer{rec}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var contents []string
	for _, c := range rec.calls() {
		contents = append(contents, c.Content)
	}
	if !slices.Equal(contents, []string{"v0", "v1", "v2", "v3"}) {
		t.Errorf("versions = %v", contents)
	}
	for i, l := range res.FS.Layers() {
		if l.Index != i || l.Compression != []string{"zstd", "none", "gzip", "zstd"}[i] {
			t.Errorf("layer %d: %+v", i, l)
		}
	}
	if n := mustLookup(t, res.FS, "/f"); n.Added != 0 || !slices.Equal(n.Changed, []int{1, 2, 3}) {
		t.Errorf("/f Added=%d Changed=%v", n.Added, n.Changed)
	}
}

// TestLayerDigestsDefaults: without a digest the layer's digest is its diff ID,
// and a missing diff ID is computed.
func TestLayerDigestsDefaults(t *testing.T) {
	t.Parallel()
	tarb := mkTar(t, file("a", "a"))
	gz := gzipBytes(t, tarb)
	res, err := Walk(t.Context(), []Blob{{Open: opener(tarb)}, {Open: opener(gz)}, {DiffID: sha(tarb), Open: opener(gz)}}, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range res.FS.Layers() {
		if l.DiffID != sha(tarb) || l.Digest != sha(tarb) {
			t.Errorf("layer %d: digest %s diff ID %s, want both %s", i, l.Digest, l.DiffID, sha(tarb))
		}
	}
}

// TestTarPaddingAndMultistream: layers made by docker pad the tar to 10 KiB
// blocks, and parallel gzip tools write several gzip members.
func TestTarPaddingAndMultistream(t *testing.T) {
	t.Parallel()
	tarb := mkTar(t, file("a", "a"), file("b", strings.Repeat("b", 3000)))
	padded := append(slices.Clone(tarb), make([]byte, 10240-len(tarb)%10240)...)
	half := len(padded) / 2
	multi := append(gzipBytes(t, padded[:half]), gzipBytes(t, padded[half:])...)
	for name, raw := range map[string][]byte{"padded tar": padded, "padded gzip": gzipBytes(t, padded), "two gzip members": multi, "padded zstd": zstdBytes(t, padded)} {
		res, err := Walk(t.Context(), []Blob{{Digest: sha(raw), DiffID: sha(padded), Open: opener(raw)}}, nil, Limits{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if l := res.FS.Layers()[0]; l.UncompressedSize != int64(len(padded)) || l.Size != int64(len(raw)) || l.Entries != 2 {
			t.Errorf("%s: %+v", name, l)
		}
	}
}

func TestEmptyLayers(t *testing.T) {
	t.Parallel()
	empty := mkTar(t)
	res, err := Walk(t.Context(), []Blob{blobOf(t, "gzip", empty), blobOf(t, "none", empty), blobOf(t, "zstd", empty)}, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.FS.Layers()) != 3 || res.FS.Entries() != 0 {
		t.Errorf("layers %+v entries %d", res.FS.Layers(), res.FS.Entries())
	}
	res, err = Walk(t.Context(), nil, nil, Limits{})
	if err != nil || len(res.FS.Layers()) != 0 || len(paths(t, res.FS)) != 0 {
		t.Errorf("no layers: %v, %v", res, err)
	}
}

func TestDigestMismatch(t *testing.T) {
	t.Parallel()
	good := mkTar(t, file("a", "a"))
	other := mkTar(t, file("a", "b"))
	gz := gzipBytes(t, good)
	for name, tc := range map[string]struct {
		blob Blob
		want string
		not  string
	}{
		"digest":                  {Blob{Digest: sha(gzipBytes(t, other)), DiffID: sha(good), Open: opener(gz)}, "digest mismatch", "diff ID"},
		"diff ID":                 {Blob{Digest: sha(gz), DiffID: sha(other), Open: opener(gz)}, "diff ID mismatch", "digest mismatch"},
		"diff ID only, plain tar": {Blob{DiffID: sha(other), Open: opener(good)}, "diff ID mismatch", "digest mismatch"},
		"digest algorithm":        {Blob{Digest: "sha512:" + strings.Repeat("0", 128), Open: opener(gz)}, "unsupported digest algorithm", ""},
		"diff ID algorithm":       {Blob{DiffID: "md5:00", Open: opener(gz)}, "unsupported diff ID algorithm", ""},
		"uppercase hex":           {Blob{Digest: strings.ToUpper(sha(gz)), Open: opener(gz)}, "unsupported digest algorithm", ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ok := blobOf(t, "gzip", mkTar(t, file("base", "")))
			_, err := Walk(t.Context(), []Blob{ok, tc.blob}, nil, Limits{})
			le := asLayerError(t, err)
			if le.Index != 1 {
				t.Errorf("error names layer %d, want 1", le.Index)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || (tc.not != "" && strings.Contains(msg, tc.not)) {
				t.Errorf("error %q should say %q and not %q", msg, tc.want, tc.not)
			}
			if !strings.HasPrefix(msg, "layer 1") {
				t.Errorf("error %q does not start with the layer", msg)
			}
			if d := tc.blob.Digest; d != "" && le.Digest != d {
				t.Errorf("LayerError.Digest = %q, want %q", le.Digest, d)
			}
		})
	}
	// The diff ID names the layer when there is no digest.
	_, err := Walk(t.Context(), []Blob{{DiffID: sha(other), Open: opener(good)}}, nil, Limits{})
	if le := asLayerError(t, err); le.Digest != sha(other) || !strings.Contains(err.Error(), sha(other)) {
		t.Errorf("error %v does not name the diff ID", err)
	}
}

func TestOpenError(t *testing.T) {
	t.Parallel()
	boom := errors.New("registry said no")
	_, err := Walk(t.Context(), []Blob{{Digest: "sha256:abc", Open: func() (io.ReadCloser, error) { return nil, boom }}}, nil, Limits{})
	le := asLayerError(t, err)
	if !errors.Is(err, boom) || le.Index != 0 || !strings.Contains(err.Error(), "opening layer") || !strings.Contains(err.Error(), "sha256:abc") {
		t.Errorf("error = %v", err)
	}
}

func TestCloseCalled(t *testing.T) {
	t.Parallel()
	var closed atomic.Int32
	tarb := mkTar(t, file("x", "x"))
	open := func() (io.ReadCloser, error) {
		return struct {
			io.Reader
			io.Closer
		}{bytes.NewReader(tarb), closerFunc(func() error { closed.Add(1); return nil })}, nil
	}
	if _, err := Walk(t.Context(), []Blob{{Open: open}, {Open: open}}, nil, Limits{}); err != nil {
		t.Fatal(err)
	}
	// A failing layer is closed too.
	bad := func() (io.ReadCloser, error) {
		return struct {
			io.Reader
			io.Closer
		}{bytes.NewReader([]byte("garbage garbage")), closerFunc(func() error { closed.Add(1); return nil })}, nil
	}
	if _, err := Walk(t.Context(), []Blob{{Open: bad}}, nil, Limits{}); err == nil {
		t.Fatal("garbage walked")
	}
	if n := closed.Load(); n != 3 {
		t.Errorf("Close called %d times, want 3", n)
	}
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// analyzerImage is shared by the analyzer tests.
func analyzerImage() [][]ent {
	return [][]ent{
		{
			file("etc/os-release", "ID=base"),
			file("etc/passwd", "root:x:0:0"),
			file("app/package.json", `{"name":"app"}`),
			file("app/node_modules/left-pad/package.json", `{"name":"left-pad"}`),
			exe("usr/bin/tool", "ELF tool"),
			file("var/lib/dpkg/status.d/base", "Package: base"),
			file("var/lib/dpkg/status.d/libc", "Package: libc"),
			file("var/lib/dpkg/status.d/sub/deeper", "not matched by the glob"),
			file("root/.ssh/id_rsa", "PRIVATE KEY"),
		},
		{
			file("etc/passwd", "root:x:0:0\nuser:x:1000:1000"),
			wh("var/lib/dpkg/status.d/libc"),
			wh("root/.ssh/id_rsa"),
			sym("etc/os-release-link", "os-release"),
			hard("usr/bin/tool2", "usr/bin/tool"),
			dir("app/package.json.d/"),
			exe("usr/bin/tool", "ELF tool v2"),
		},
	}
}

func TestAnalyzerWants(t *testing.T) {
	t.Parallel()
	byPath := newRecorder(Want{Paths: []string{"/etc/passwd", "/root/.ssh/id_rsa", "/etc/os-release-link", "/usr/bin/tool2"}})
	byGlob := newRecorder(Want{Globs: []string{"/var/lib/dpkg/status.d/*"}})
	byName := newRecorder(Want{Names: []string{"package.json"}})
	var matchSaw []File
	byMatch := newRecorder(Want{Match: func(f *File) bool {
		matchSaw = append(matchSaw, *f)
		return f.IsExecutable()
	}})
	nothing := newRecorder(Want{})
	res := walkOK(t, analyzerImage(), byPath, byGlob, byName, byMatch, nothing)
	for name, tc := range map[string]struct {
		r    *recorder
		want []string
	}{
		"path":  {byPath, []string{"/etc/passwd@0", "/root/.ssh/id_rsa@0", "/etc/passwd@1"}},
		"glob":  {byGlob, []string{"/var/lib/dpkg/status.d/base@0", "/var/lib/dpkg/status.d/libc@0"}},
		"name":  {byName, []string{"/app/package.json@0", "/app/node_modules/left-pad/package.json@0"}},
		"match": {byMatch, []string{"/usr/bin/tool@0", "/usr/bin/tool@1"}},
		"none":  {nothing, nil},
	} {
		if got := tc.r.fed(); !slices.Equal(got, tc.want) {
			t.Errorf("%s analyzer fed %v\nwant %v", name, got, tc.want)
		}
	}
	// Contents are right, and each version is the one its layer wrote.
	want := map[string]string{
		"/etc/passwd@0":       "root:x:0:0",
		"/etc/passwd@1":       "root:x:0:0\nuser:x:1000:1000",
		"/root/.ssh/id_rsa@0": "PRIVATE KEY",
		"/usr/bin/tool@1":     "ELF tool v2",
	}
	for _, r := range []*recorder{byPath, byMatch} {
		for _, c := range r.calls() {
			key := fmt.Sprintf("%s@%d", c.File.Path, c.File.Layer)
			if w, ok := want[key]; ok && c.Content != w {
				t.Errorf("%s: content %q, want %q", key, c.Content, w)
			}
			if c.Err != nil || int64(len(c.Content)) != c.File.Size {
				t.Errorf("%s: read %d of %d bytes, err %v", key, len(c.Content), c.File.Size, c.Err)
			}
		}
	}
	// Match is asked about regular files only.
	for _, f := range matchSaw {
		if f.Type != TypeRegular {
			t.Errorf("Match called on %s, a %v", f.Path, f.Type)
		}
	}
	// The deleted files were analyzed, and are not current.
	fsys := res.FS
	for _, p := range []string{"/root/.ssh/id_rsa", "/var/lib/dpkg/status.d/libc", "/etc/passwd"} {
		if fsys.IsCurrent(p, 0) {
			t.Errorf("IsCurrent(%s, 0) = true", p)
		}
	}
	if !fsys.IsCurrent("/etc/passwd", 1) || !fsys.IsCurrent("/var/lib/dpkg/status.d/base", 0) {
		t.Error("IsCurrent false for a current version")
	}
	var del []string
	for _, d := range fsys.Deleted() {
		del = append(del, d.Path)
	}
	slices.Sort(del)
	if !slices.Equal(del, []string{"/root/.ssh/id_rsa", "/var/lib/dpkg/status.d/libc"}) {
		t.Errorf("Deleted() = %v", del)
	}
}

func TestAnalyzerWantedOnce(t *testing.T) {
	t.Parallel()
	all := newRecorder(Want{
		Paths: []string{"/etc/passwd"},
		Names: []string{"passwd", "passwd"},
		Globs: []string{"/etc/*", "/etc/pass*"},
		Match: func(f *File) bool { return true },
	})
	calls := 0
	counting := &wantCounter{recorder: newRecorder(Want{Names: []string{"passwd"}}), calls: &calls}
	walkOK(t, [][]ent{{file("etc/passwd", "x")}, {file("etc/passwd", "y")}}, all, counting)
	if got := all.fed(); !slices.Equal(got, []string{"/etc/passwd@0", "/etc/passwd@1"}) {
		t.Errorf("analyzer matched four ways fed %v, want each version once", got)
	}
	if calls != 1 {
		t.Errorf("Want called %d times, want 1", calls)
	}
}

type wantCounter struct {
	*recorder
	calls *int
}

func (w *wantCounter) Want() Want {
	*w.calls++
	return w.recorder.Want()
}

// TestAnalyzerDuplicatePathBug: an analyzer that lists a path twice in
// Want.Paths must still see each version once (names, globs and Match are
// deduplicated; paths are not).
func TestAnalyzerDuplicatePath(t *testing.T) {
	// Regression (was a bug): walk.go:198 wanted() appends w.paths[f.Path] without the seen() check,
	// so Want{Paths: [\"/etc/passwd\", \"/etc/passwd\"]} feeds every version of /etc/passwd twice to
	// the same analyzer
	t.Parallel()
	r := newRecorder(Want{Paths: []string{"/etc/passwd", "/etc/passwd"}})
	walkOK(t, [][]ent{{file("etc/passwd", "x")}}, r)
	if got := r.fed(); !slices.Equal(got, []string{"/etc/passwd@0"}) {
		t.Errorf("fed %v, want [/etc/passwd@0]", got)
	}
}

func TestAnalyzerSeesDeletedFile(t *testing.T) {
	t.Parallel()
	r := newRecorder(Want{Globs: []string{"/secrets/*"}})
	res := walkOK(t, [][]ent{
		{file("secrets/aws", "AKIA..."), dir("secrets/")},
		{wh("secrets/aws")},
	}, r)
	c := r.calls()
	if len(c) != 1 || c[0].Content != "AKIA..." || c[0].File.Layer != 0 {
		t.Fatalf("calls = %+v", c)
	}
	if res.FS.IsCurrent(c[0].File.Path, c[0].File.Layer) {
		t.Error("IsCurrent true for the deleted version")
	}
	if _, ok := res.FS.Lookup("/secrets/aws"); ok {
		t.Error("deleted file still in the tree")
	}
}

// TestAnalyzerStopsEarly: the walk drains what an analyzer leaves unread, so
// the next file is read from the right place.
func TestAnalyzerStopsEarly(t *testing.T) {
	t.Parallel()
	big := randomText(3, 200_000)
	for _, comp := range []string{"gzip", "zstd", "none"} {
		t.Run(comp, func(t *testing.T) {
			t.Parallel()
			r := newRecorder(Want{Match: func(*File) bool { return true }})
			r.limit = 5
			tarb := mkTar(t, file("a", big), file("b", "second file"), file("c", big))
			res, err := Walk(t.Context(), []Blob{blobOf(t, comp, tarb)}, []Analyzer{r}, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range r.calls() {
				got = append(got, c.Content)
			}
			if want := []string{big[:5], "secon", big[:5]}; !slices.Equal(got, want) {
				t.Errorf("analyzer read %q, want %q", got, want)
			}
			if res.FS.Layers()[0].UncompressedSize != int64(len(tarb)) {
				t.Error("the layer was not read to its end")
			}
		})
	}
}

// TestSharedFile covers a file wanted by several analyzers: buffered when small,
// streamed through pipes when larger than MaxBufferedFile. One analyzer stops
// early, one reads nothing, one reads it all.
func TestSharedFile(t *testing.T) {
	t.Parallel()
	for name, size := range map[string]int{"buffered": 3000, "streamed": 1 << 20, "at the limit": 4096} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			content := randomText(int64(size), size)
			early := newRecorder(Want{Names: []string{"shared"}})
			early.limit = 10
			none := newRecorder(Want{Paths: []string{"/data/shared"}})
			none.limit = 0
			all := newRecorder(Want{Globs: []string{"/data/*"}})
			tarb := mkTar(t, file("data/shared", content), file("data/next", "next file"), file("data/shared", content+"v2"))
			res, err := Walk(t.Context(), []Blob{blobOf(t, "gzip", tarb)}, []Analyzer{early, none, all}, Limits{MaxBufferedFile: 4096})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Warnings) != 0 {
				t.Errorf("warnings: %v", res.Warnings)
			}
			ac := all.calls()
			if len(ac) != 3 {
				t.Fatalf("reader of all fed %d files", len(ac))
			}
			for i, want := range []string{content, "next file", content + "v2"} {
				if ac[i].Content != want || ac[i].Err != nil {
					t.Errorf("file %d: got %d bytes (sha %x), want %d (sha %x), err %v",
						i, len(ac[i].Content), sha256.Sum256([]byte(ac[i].Content)), len(want), sha256.Sum256([]byte(want)), ac[i].Err)
				}
			}
			for _, c := range early.calls() {
				if c.Content != content[:10] {
					t.Errorf("early reader got %q", c.Content)
				}
			}
			if len(early.calls()) != 2 || len(none.calls()) != 2 {
				t.Errorf("early fed %d, none fed %d, want 2 each", len(early.calls()), len(none.calls()))
			}
		})
	}
}

// TestAnalyzerFailures: an error or a panic becomes a warning naming path and
// layer, and the walk goes on, whether the file goes to one analyzer, to several
// from a buffer, or to several through pipes.
func TestAnalyzerFailures(t *testing.T) {
	t.Parallel()
	for name, size := range map[string]int{"single": 0, "buffered": 100, "streamed": 1_100_000} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bad := newRecorder(Want{Names: []string{"target"}})
			bad.fail = errors.New("cannot parse")
			bad.failOn = "/dir/target"
			panicky := newRecorder(Want{Names: []string{"target"}})
			panicky.panicWith = "index out of range"
			panicky.limit = 7
			good := newRecorder(Want{Names: []string{"target", "after"}})
			as := []Analyzer{bad, panicky, good}
			if size == 0 {
				size = 100
				as = []Analyzer{bad}
				bad.want.Names = []string{"target", "after"}
			}
			content := randomText(9, size)
			res := walkOK(t, [][]ent{
				{file("x", "x")},
				{file("dir/target", content), file("dir/after", "after")},
			}, as...)
			var msgs []string
			for _, w := range res.Warnings {
				if w.Layer != 1 || w.Path != "/dir/target" {
					t.Errorf("warning %+v does not name layer 1 and /dir/target", w)
				}
				if !strings.HasPrefix(w.String(), "layer 1: /dir/target: ") {
					t.Errorf("Warning.String() = %q", w.String())
				}
				msgs = append(msgs, w.Msg)
			}
			slices.Sort(msgs)
			want := []string{"cannot parse"}
			if len(as) > 1 {
				want = append(want, fmt.Sprintf("analyzer %T failed: index out of range", panicky))
				slices.Sort(want)
			}
			if !slices.Equal(msgs, want) {
				t.Errorf("warning messages = %q, want %q", msgs, want)
			}
			// The walk went on: the next file was analyzed, and read intact.
			last := as[len(as)-1].(*recorder)
			c := last.calls()
			if len(c) == 0 || c[len(c)-1].File.Path != "/dir/after" || c[len(c)-1].Content != "after" {
				t.Errorf("after the failure, analyzer saw %+v", c)
			}
			if len(as) > 1 && (len(good.calls()) != 2 || good.calls()[0].Content != content) {
				t.Errorf("the healthy analyzer did not read the shared file whole")
			}
		})
	}
}

func TestAnalyzerWarningWithPath(t *testing.T) {
	t.Parallel()
	if s := (Warning{Layer: 2, Msg: "m"}).String(); s != "layer 2: m" {
		t.Errorf("String() = %q", s)
	}
	if s := (Warning{Layer: 2, Path: "/p", Msg: "m"}).String(); s != "layer 2: /p: m" {
		t.Errorf("String() = %q", s)
	}
}

// TestAnalyzerGetsExactSize: r yields exactly f.Size bytes, for every size
// around the buffering limit.
func TestAnalyzerGetsExactSize(t *testing.T) {
	t.Parallel()
	var es []ent
	for _, n := range []int{0, 1, 511, 512, 513, 1023, 1024, 1025, 70_000} {
		es = append(es, file(fmt.Sprintf("f%d", n), randomText(int64(n), n)))
	}
	a, b := newRecorder(Want{Globs: []string{"/f*"}}), newRecorder(Want{Match: func(f *File) bool { return true }})
	walkOK(t, [][]ent{es}, a, b)
	for _, r := range []*recorder{a, b} {
		for _, c := range r.calls() {
			want := randomText(c.File.Size, int(c.File.Size))
			if c.Content != want || "/f"+fmt.Sprint(len(want)) != c.File.Path {
				t.Errorf("%s: read %d bytes, want %d", c.File.Path, len(c.Content), c.File.Size)
			}
		}
	}
}

// randomText is deterministic printable text of n bytes.
func randomText(seed int64, n int) string {
	rng := rand.New(rand.NewPCG(uint64(seed), 42))
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 \n"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func TestWantIndex(t *testing.T) {
	t.Parallel()
	as := []Analyzer{
		newRecorder(Want{Paths: []string{"/a/b"}}),
		newRecorder(Want{Names: []string{"b"}}),
		newRecorder(Want{Globs: []string{"/a/*", "["}}),
		newRecorder(Want{Match: func(f *File) bool { return f.Size > 10 }}),
	}
	w := newWantIndex(as)
	for p, want := range map[string][]int{
		"/a/b":   {0, 1, 2},
		"/x/b":   {1},
		"/a/c":   {2},
		"/a/c/d": nil,
		"/big":   {3},
	} {
		size := int64(0)
		if path.Base(p) == "big" {
			size = 11
		}
		got := w.wanted(&File{Path: p, Size: size}, nil)
		if !slices.Equal(got, want) {
			t.Errorf("wanted(%s) = %v, want %v", p, got, want)
		}
	}
}

// TestConcurrentReads: the FS is safe for concurrent reads once built.
func TestConcurrentReads(t *testing.T) {
	t.Parallel()
	fsys := linkFS(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan struct{})
	for i := 0; i < 8; i++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for j := 0; j < 20 && ctx.Err() == nil; j++ {
				_ = fsys.Walk(func(n *Node) error {
					fsys.Stat(n.Path)
					fsys.Lookup(n.Path)
					fsys.IsCurrent(n.Path, 0)
					return nil
				})
				fsys.Glob("/usr/*/*")
				fsys.ReadDir("/usr/bin")
			}
		}()
	}
	for i := 0; i < 8; i++ {
		<-done
	}
}
