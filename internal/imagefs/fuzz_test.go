package imagefs

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"strings"
	"testing"
)

// fuzzLimits are tight, so that one input stays cheap.
var fuzzLimits = Limits{MaxEntries: 256, MaxLayerBytes: 1 << 20, MaxPathLen: 512, MaxBufferedFile: 256}

// fuzzBase is a lower layer the fuzzed layer is also stacked on, so that its
// whiteouts, opaque markers and replacements have something to act on.
var fuzzBase = []ent{
	dir("etc/"), file("etc/passwd", "root:x:0:0"), file("etc/os-release", "ID=base"),
	dir("usr/lib/"), file("usr/lib/libc.so.6", "elf"), sym("lib", "usr/lib"), sym("loop", "loop"),
	file("a/b/c", "c"), hard("a/h", "a/b/c"),
}

func fuzzSeeds(f *testing.F) {
	valid := mkTar(f,
		dir("etc/"), file("etc/passwd", "root:x:0:0"), exe("bin/sh", "elf"), sym("bin/bash", "sh"),
		hard("bin/rbash", "bin/sh"), file("big", randomText(1, 700)),
	)
	hostile := mkTar(f,
		wh("etc/passwd"), opq("usr"), file("usr/x", "x"), sym("l1", "l2"), sym("l2", "/l1"),
		sym("esc", "../../../../etc/passwd"), sym("lib/dir", "../a/b"), file("a/.wh..wh..opq", ""),
		file("a/b/.wh...", ""), dir("a/b/"), file("a", "now a file"),
	)
	f.Add(valid)
	f.Add(gzipBytes(f, valid))
	f.Add(zstdBytes(f, valid))
	f.Add(hostile)
	f.Add(gzipBytes(f, hostile))
	f.Add(mkTar(f, file("../../etc/passwd", "x")))
	f.Add(mkTar(f))
	f.Add(sparseTar("etc/passwd", 4096))
	f.Add([]byte{})
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50, 0x09, 0x20, 0x00, 0x00})
}

func FuzzWalk(f *testing.F) {
	fuzzSeeds(f)
	base := mkTar(f, fuzzBase...)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkWalk(t, []Blob{rawBlob(data)})
		checkWalk(t, []Blob{rawBlob(base), rawBlob(data)})
	})
}

// fuzzAnalyzers read everything, stop early, or fail. They want files through
// Match only, to skip files over MaxLayerBytes: sparse files (TestSparseBombBug)
// would otherwise stall the fuzzer on made-up files of any size (the fuzzer
// finds such a file from the sparse seed within seconds).
func fuzzAnalyzers() (all, early, failing *recorder) {
	small := func(f *File) bool { return f.Size <= fuzzLimits.MaxLayerBytes }
	all = newRecorder(Want{Match: small})
	early = newRecorder(Want{Match: small})
	early.limit = 16
	failing = newRecorder(Want{Match: func(f *File) bool {
		return small(f) && (path.Dir(f.Path) == "/" || path.Base(f.Path) == "passwd")
	}})
	failing.fail = errors.New("no")
	failing.limit = 3
	return all, early, failing
}

func checkWalk(t *testing.T, bs []Blob) {
	all, early, failing := fuzzAnalyzers()
	res, err := Walk(context.Background(), bs, []Analyzer{all, early, failing}, fuzzLimits)
	if err != nil {
		var le *LayerError
		if !errors.As(err, &le) {
			t.Fatalf("error %v (%T) is not a *LayerError", err, err)
		}
		if le.Index < 0 || le.Index >= len(bs) {
			t.Fatalf("LayerError names layer %d of %d", le.Index, len(bs))
		}
		return
	}
	fsys := res.FS
	last := len(bs) - 1
	if len(fsys.Layers()) != len(bs) {
		t.Fatalf("%d layers for %d blobs", len(fsys.Layers()), len(bs))
	}
	for _, l := range fsys.Layers() {
		if l.UncompressedSize > fuzzLimits.MaxLayerBytes {
			t.Fatalf("layer of %d bytes passed MaxLayerBytes", l.UncompressedSize)
		}
	}
	if fsys.Entries() > fuzzLimits.MaxEntries {
		t.Fatalf("%d entries passed MaxEntries", fsys.Entries())
	}
	// A walk that succeeded fed every wanted file whole.
	for _, c := range all.calls() {
		if c.Err != nil || int64(len(c.Content)) != c.File.Size {
			t.Fatalf("%s@%d: read %d of %d bytes, err %v", c.File.Path, c.File.Layer, len(c.Content), c.File.Size, c.Err)
		}
		if !isClean(c.File.Path) {
			t.Fatalf("analyzer fed unclean path %q", c.File.Path)
		}
	}
	for _, c := range early.calls() {
		if int64(len(c.Content)) != min(16, c.File.Size) {
			t.Fatalf("early reader got %d bytes of %d", len(c.Content), c.File.Size)
		}
	}
	for _, w := range res.Warnings {
		if w.Msg != "no" {
			t.Fatalf("unexpected warning %v", w)
		}
	}
	for _, d := range fsys.Deleted() {
		if !isClean(d.Path) || d.Last >= d.Layer || d.Layer != last {
			t.Fatalf("bad deletion %+v", d)
		}
	}
	// Every node is found where it says it is, and every path resolves, in bounded time.
	nodes := 0
	err = fsys.Walk(func(n *Node) error {
		nodes++
		if nodes > 100_000 {
			t.Fatal("FS.Walk does not end")
		}
		if !isClean(n.Path) || n.Path == "/" {
			t.Fatalf("node path %q", n.Path)
		}
		if got, ok := fsys.Lookup(n.Path); !ok || got != n {
			t.Fatalf("Lookup(%q) = %v, %v", n.Path, got, ok)
		}
		if !fsys.IsCurrent(n.Path, n.Layer) {
			t.Fatalf("IsCurrent(%q, %d) = false", n.Path, n.Layer)
		}
		if n.Added > n.Layer || (len(n.Changed) > 0 && n.Changed[len(n.Changed)-1] != n.Layer) {
			t.Fatalf("%s: Added %d Changed %v Layer %d", n.Path, n.Added, n.Changed, n.Layer)
		}
		checkStat(t, fsys, n.Path)
		switch n.Type {
		case TypeSymlink:
			checkStat(t, fsys, n.Link)
			checkStat(t, fsys, path.Join(path.Dir(n.Path), n.Link))
		case TypeHardlink:
			if !isClean(n.Link) {
				t.Fatalf("hard link %s -> %q", n.Path, n.Link)
			}
		case TypeDir:
			kids, err := fsys.ReadDir(n.Path)
			if err != nil {
				t.Fatalf("ReadDir(%q): %v", n.Path, err)
			}
			for _, k := range kids {
				if path.Dir(k.Path) != n.Path {
					t.Fatalf("%s listed in %s", k.Path, n.Path)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fsys.Glob("/*/*")
	fsys.Glob("*/[a-z]*")
}

func checkStat(t *testing.T, fsys *FS, p string) {
	n, rp, err := fsys.Stat(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, ErrLoop) {
			t.Fatalf("Stat(%q): %v", p, err)
		}
		return
	}
	if n.Type == TypeSymlink || n.Type == TypeHardlink || n.Path != rp || !isClean(rp) {
		t.Fatalf("Stat(%q) = %s %q", p, n.Type, rp)
	}
	if got, ok := fsys.Lookup(rp); !ok || got != n {
		t.Fatalf("Stat(%q) = %q, which Lookup does not find", p, rp)
	}
}

// isClean reports whether p is absolute and clean.
func isClean(p string) bool {
	return strings.HasPrefix(p, "/") && path.Clean(p) == p && !strings.ContainsRune(p, 0)
}

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{
		"", "/", ".", "..", "../x", "a/../..", "a/../../x", "a/./b//c/", "/etc/passwd", "./etc/passwd",
		"a\x00b", strings.Repeat("a/", 3000), "....", ".../x", "a/..b", "..a/", "/..", "//..//", "a/b/../../c",
		"x/" + strings.Repeat("../", 2) + "y", "\\..\\..\\x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		const max = 4096
		p, err := cleanPath(name, max)
		// An independent statement of the rule: relative to the root, the
		// cleaned name must not start with "..".
		rel := path.Clean(strings.TrimLeft(name, "/"))
		climbs := rel == ".." || strings.HasPrefix(rel, "../")
		bad := len(name) > max || strings.IndexByte(name, 0) >= 0 || climbs
		if bad != (err != nil) {
			t.Fatalf("cleanPath(%q) = %q, %v; too long %v, NUL %v, climbs %v", name, p, err, len(name) > max, strings.IndexByte(name, 0) >= 0, climbs)
		}
		if err != nil {
			if p != "" {
				t.Fatalf("cleanPath(%q) returned %q with error %v", name, p, err)
			}
			return
		}
		if !isClean(p) {
			t.Fatalf("cleanPath(%q) = %q, not absolute and clean", name, p)
		}
		for _, part := range strings.Split(p, "/") {
			if part == ".." || part == "." {
				t.Fatalf("cleanPath(%q) = %q holds %q", name, p, part)
			}
		}
		if want := path.Clean("/" + name); p != want {
			t.Fatalf("cleanPath(%q) = %q, want %q", name, p, want)
		}
		if again, err := cleanPath(p, max); err != nil || again != p {
			t.Fatalf("cleanPath is not idempotent on %q: %q, %v", p, again, err)
		}
	})
}
