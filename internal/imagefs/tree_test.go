package imagefs

import (
	"archive/tar"
	"errors"
	"io/fs"
	"slices"
	"testing"
	"time"
)

func TestWhiteoutFile(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{
		{dir("etc/"), file("etc/secret", "s3cret"), file("etc/keep", "k")},
		{wh("etc/secret")},
	})
	fsys := res.FS
	if _, ok := fsys.Lookup("/etc/secret"); ok {
		t.Error("/etc/secret survived its whiteout")
	}
	if _, ok := fsys.Lookup("/etc/.wh.secret"); ok {
		t.Error("the whiteout marker itself is in the tree")
	}
	mustLookup(t, fsys, "/etc/keep")
	want := []Deletion{{Path: "/etc/secret", Layer: 1, Last: 0, Type: TypeRegular}}
	if got := fsys.Deleted(); !slices.Equal(got, want) {
		t.Errorf("Deleted() = %v, want %v", fmtDeletions(got), fmtDeletions(want))
	}
	if fsys.IsCurrent("/etc/secret", 0) {
		t.Error("IsCurrent(/etc/secret, 0) = true after the whiteout")
	}
	if got := paths(t, fsys); !slices.Equal(got, []string{"/etc/", "/etc/keep"}) {
		t.Errorf("tree = %v", got)
	}
	if got := fsys.Entries(); got != 4 {
		t.Errorf("Entries() = %d, want 4 (whiteouts count)", got)
	}
}

func TestWhiteoutDirectoryWithChildren(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{
		{dir("opt/"), dir("opt/app/"), dir("opt/app/bin/"), exe("opt/app/bin/run", "#!/bin/sh"), file("opt/app/conf", "v0"), file("opt/other", "o")},
		{file("opt/app/conf", "v1"), file("opt/app/extra", "e")},
		{wh("opt/app")},
	})
	fsys := res.FS
	for _, p := range []string{"/opt/app", "/opt/app/bin", "/opt/app/bin/run", "/opt/app/conf", "/opt/app/extra"} {
		if _, ok := fsys.Lookup(p); ok {
			t.Errorf("%s survived the whiteout of its directory", p)
		}
	}
	mustLookup(t, fsys, "/opt/other")
	got := fsys.Deleted()
	if len(got) == 0 || got[0].Path != "/opt/app" {
		t.Fatalf("Deleted() should list the directory first, got %v", fmtDeletions(got))
	}
	want := []Deletion{
		{Path: "/opt/app", Layer: 2, Last: 0, Type: TypeDir},
		{Path: "/opt/app/bin", Layer: 2, Last: 0, Type: TypeDir},
		{Path: "/opt/app/bin/run", Layer: 2, Last: 0, Type: TypeRegular},
		{Path: "/opt/app/conf", Layer: 2, Last: 1, Type: TypeRegular},
		{Path: "/opt/app/extra", Layer: 2, Last: 1, Type: TypeRegular},
	}
	if g := sortedDeletions(got); !slices.Equal(g, want) {
		t.Errorf("Deleted() = %v\nwant %v", fmtDeletions(g), fmtDeletions(want))
	}
}

func TestWhiteoutOfMissingPathIsNoop(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{
		{file("a", "a")},
		{wh("nothere"), wh("no/such/dir/x"), wh("a/below-a-file")},
	})
	if d := res.FS.Deleted(); len(d) != 0 {
		t.Errorf("Deleted() = %v, want nothing", fmtDeletions(d))
	}
	if got := paths(t, res.FS); !slices.Equal(got, []string{"/a"}) {
		t.Errorf("tree = %v", got)
	}
}

func TestWhiteoutThenReadd(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{
		{file("a", "v0")},
		{wh("a")},
		{file("b", "unrelated")},
		{file("a", "v3")},
	})
	n := mustLookup(t, res.FS, "/a")
	if n.Added != 3 || len(n.Changed) != 0 || n.Layer != 3 {
		t.Errorf("re-added /a: Added=%d Changed=%v Layer=%d, want 3 [] 3", n.Added, n.Changed, n.Layer)
	}
	want := []Deletion{{Path: "/a", Layer: 1, Last: 0, Type: TypeRegular}}
	if got := res.FS.Deleted(); !slices.Equal(got, want) {
		t.Errorf("Deleted() = %v", fmtDeletions(got))
	}
}

// TestWhiteoutSameLayerOrderOK covers the orders of a whiteout and a
// same-layer entry that the walk gets right: the whiteout comes first.
func TestWhiteoutSameLayerOrderOK(t *testing.T) {
	t.Parallel()
	lower := []ent{dir("d/"), file("d/old", "old")}
	for name, upper := range map[string][]ent{
		"whiteout then child": {wh("d"), file("d/new", "new")},
		"whiteout then dir":   {wh("d"), dir("d/"), file("d/new", "new")},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := walkOK(t, [][]ent{lower, upper})
			if got := paths(t, res.FS); !slices.Equal(got, []string{"/d/", "/d/new"}) {
				t.Errorf("tree = %v, want [/d/ /d/new]", got)
			}
		})
	}
}

// TestWhiteoutAfterSameLayerChild: a whiteout that follows an entry of its
// own layer below the whited-out directory removes that entry too. The OCI
// spec says a whiteout applies only to lower layers ("Files that are present
// in the same layer as a whiteout file can only be hidden by whiteout files in
// subsequent layers"), but moby's UnpackLayer (pkg/archive/diff.go) does
// os.RemoveAll on the whited-out path whatever the layer wrote before, and
// imagefs does the same. This test pins that moby-compatible behaviour.
func TestWhiteoutAfterSameLayerChild(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{{dir("d/"), file("d/old", "old")}, {file("d/new", "new"), wh("d")}})
	if got := paths(t, res.FS); len(got) != 0 {
		t.Errorf("tree = %v, want it empty (as moby applies it)", got)
	}
}

// TestWhiteoutAfterSameLayerDirBug: a layer that writes the directory entry
// "d/" and then ".wh.d" must still hide what lower layers put in d. The spec
// keeps this layer's d (empty); moby removes d altogether; either way the lower
// d/old is gone. imagefs keeps d/old.
func TestWhiteoutAfterSameLayerDir(t *testing.T) {
	// Regression (was a bug): tree.go:145 whiteout() skips the node when n.Layer == layer; a
	// same-layer \"d/\" entry has just set d's Layer (put, tree.go:101) while keeping its lower
	// children, so \".wh.d\" after \"d/\" leaves the lower d/old in the final filesystem (and out of
	// Deleted())
	t.Parallel()
	res := walkOK(t, [][]ent{{dir("d/"), file("d/old", "old")}, {dir("d/"), wh("d")}})
	if _, ok := res.FS.Lookup("/d/old"); ok {
		t.Errorf("/d/old survived the whiteout of /d: tree %v, deleted %v", paths(t, res.FS), fmtDeletions(res.FS.Deleted()))
	}
}

// opaqueLower and opaqueOrders follow the example of the OCI layer spec.
var opaqueLower = []ent{
	dir("a/"), file("a/f", "old f"), file("a/g", "old g"), dir("a/b/"), dir("a/b/c/"), file("a/b/c/bar", "bar"),
	dir("keep/"), file("keep/x", "x"),
}

var opaqueOrders = map[string][]ent{
	"marker first":         {dir("a/"), opq("a"), dir("a/b/"), dir("a/b/c/"), file("a/b/c/foo", "foo"), file("a/f", "new f")},
	"marker last":          {dir("a/"), dir("a/b/"), dir("a/b/c/"), file("a/b/c/foo", "foo"), file("a/f", "new f"), opq("a")},
	"marker in the middle": {dir("a/"), dir("a/b/"), opq("a"), dir("a/b/c/"), file("a/b/c/foo", "foo"), file("a/f", "new f")},
	"no dir entries":       {file("a/b/c/foo", "foo"), opq("a"), file("a/f", "new f")},
}

func TestOpaqueDirectory(t *testing.T) {
	t.Parallel()
	want := []string{"/a/", "/a/b/", "/a/b/c/", "/a/b/c/foo", "/a/f", "/keep/", "/keep/x"}
	for name, upper := range opaqueOrders {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newRecorder(Want{Paths: []string{"/a/f"}})
			res := walkOK(t, [][]ent{opaqueLower, upper}, f)
			fsys := res.FS
			if got := paths(t, fsys); !slices.Equal(got, want) {
				t.Errorf("tree = %v\nwant %v", got, want)
			}
			if !fsys.IsCurrent("/a/f", 1) || fsys.IsCurrent("/a/f", 0) {
				t.Error("the current /a/f should be layer 1's")
			}
			del := map[string]Deletion{}
			for _, d := range fsys.Deleted() {
				del[d.Path] = d
			}
			for _, p := range []string{"/a/g", "/a/b/c/bar"} {
				if d, ok := del[p]; !ok || d.Layer != 1 || d.Last != 0 {
					t.Errorf("Deleted() lacks %s deleted by 1, last 0: %v", p, fmtDeletions(fsys.Deleted()))
				}
			}
			for p := range del {
				if p == "/keep" || p == "/keep/x" || p == "/a" {
					t.Errorf("Deleted() lists %s, which the opaque marker does not hide", p)
				}
			}
			// The analyzer saw both versions of /a/f, in layer order.
			if got := f.fed(); !slices.Equal(got, []string{"/a/f@0", "/a/f@1"}) {
				t.Errorf("analyzer fed %v", got)
			}
		})
	}
}

// TestOpaqueOrderMetadataBug checks that the order of the opaque marker among
// its siblings changes neither Node.Added/Changed nor Deleted(). The spec says
// the marker "is applied first, before creating the new version of a/b,
// regardless of the ordering in which the whiteout file was encountered".
func TestOpaqueOrderMetadata(t *testing.T) {
	// Regression (was a bug): tree.go:162-184 prune() keeps a same-layer entry written before the
	// opaque marker as a rewrite of the hidden lower entry: Added stays at the lower layer
	// (Changed=[1]) and Deleted() omits the hidden lower versions, unlike the marker-first order
	t.Parallel()
	wantDel := []Deletion{
		{Path: "/a/b", Layer: 1, Last: 0, Type: TypeDir},
		{Path: "/a/b/c", Layer: 1, Last: 0, Type: TypeDir},
		{Path: "/a/b/c/bar", Layer: 1, Last: 0, Type: TypeRegular},
		{Path: "/a/f", Layer: 1, Last: 0, Type: TypeRegular},
		{Path: "/a/g", Layer: 1, Last: 0, Type: TypeRegular},
	}
	for name, upper := range opaqueOrders {
		t.Run(name, func(t *testing.T) {
			res := walkOK(t, [][]ent{opaqueLower, upper})
			for _, p := range []string{"/a/b", "/a/b/c", "/a/f"} {
				if n := mustLookup(t, res.FS, p); n.Added != 1 || len(n.Changed) != 0 {
					t.Errorf("%s: Added=%d Changed=%v, want 1 [] (the lower version is hidden)", p, n.Added, n.Changed)
				}
			}
			if got := sortedDeletions(res.FS.Deleted()); !slices.Equal(got, wantDel) {
				t.Errorf("Deleted() = %v\nwant %v", fmtDeletions(got), fmtDeletions(wantDel))
			}
		})
	}
}

func TestOpaqueRoot(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{
		{dir("bin/"), exe("bin/sh", "elf"), dir("etc/"), file("etc/x", "x")},
		{file("etc/y", "y"), opq("")},
	})
	if got := paths(t, res.FS); !slices.Equal(got, []string{"/etc/", "/etc/y"}) {
		t.Errorf("tree = %v", got)
	}
}

func TestOpaqueOnFileOrMissingDirIsNoop(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{
		{file("f", "f"), file("g/h", "h")},
		{opq("nothere"), opq("f"), opq("g/h"), file("f2", "x")},
	})
	if got := paths(t, res.FS); !slices.Equal(got, []string{"/f", "/f2", "/g/", "/g/h"}) {
		t.Errorf("tree = %v", got)
	}
	if d := res.FS.Deleted(); len(d) != 0 {
		t.Errorf("Deleted() = %v", fmtDeletions(d))
	}
}

func TestAufsMetaIgnored(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{
		{file("a", "a")},
		{file(".wh..wh.aufs", ""), file("x/.wh..wh.plnk", "")},
	})
	if got := paths(t, res.FS); !slices.Equal(got, []string{"/a"}) {
		t.Errorf("tree = %v", got)
	}
	if _, ok := res.FS.Lookup("/.wh..wh.aufs"); ok {
		t.Error("aufs bookkeeping file is in the tree")
	}
	mustLookup(t, res.FS, "/a")
}

func TestFileReplacesDirectory(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{
		{dir("d/"), file("d/x", "x"), dir("d/sub/"), file("d/sub/y", "y")},
		{file("d", "now a file")},
	})
	fsys := res.FS
	n := mustLookup(t, fsys, "/d")
	if n.Type != TypeRegular || n.Size != int64(len("now a file")) {
		t.Errorf("/d is %v of size %d", n.Type, n.Size)
	}
	if n.Added != 0 || !slices.Equal(n.Changed, []int{1}) {
		t.Errorf("/d: Added=%d Changed=%v, want 0 [1]", n.Added, n.Changed)
	}
	for _, p := range []string{"/d/x", "/d/sub", "/d/sub/y"} {
		if _, ok := fsys.Lookup(p); ok {
			t.Errorf("%s survived", p)
		}
	}
	want := []Deletion{
		{Path: "/d/sub", Layer: 1, Last: 0, Type: TypeDir},
		{Path: "/d/sub/y", Layer: 1, Last: 0, Type: TypeRegular},
		{Path: "/d/x", Layer: 1, Last: 0, Type: TypeRegular},
	}
	if got := sortedDeletions(fsys.Deleted()); !slices.Equal(got, want) {
		t.Errorf("Deleted() = %v\nwant %v", fmtDeletions(got), fmtDeletions(want))
	}
	if _, err := fsys.ReadDir("/d"); err == nil {
		t.Error("ReadDir of a file succeeded")
	}
}

func TestDirectoryReplacesFile(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{
		{file("p", "file")},
		{dir("p/"), file("p/q", "q")},
	})
	n := mustLookup(t, res.FS, "/p")
	if n.Type != TypeDir {
		t.Fatalf("/p is a %v", n.Type)
	}
	if n.Layer != 1 || n.Added != 0 || !slices.Equal(n.Changed, []int{1}) {
		t.Errorf("/p: Layer=%d Added=%d Changed=%v, want 1 0 [1]", n.Layer, n.Added, n.Changed)
	}
	kids, err := res.FS.ReadDir("/p")
	if err != nil || len(kids) != 1 || kids[0].Path != "/p/q" {
		t.Errorf("ReadDir(/p) = %v, %v", kids, err)
	}
}

// TestImplicitDirectoryReplacesFile: an entry below a path that a lower layer
// holds as a file turns that path into a directory.
func TestImplicitDirectoryReplacesFile(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{
		{file("p", "file")},
		{file("p/q", "q")},
	})
	n := mustLookup(t, res.FS, "/p")
	if n.Type != TypeDir || n.Layer != 1 {
		t.Errorf("/p: %v from layer %d", n.Type, n.Layer)
	}
	mustLookup(t, res.FS, "/p/q")
}

func TestImplicitParents(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{
		{file("usr/local/bin/tool", "t")},
		{file("other", "o")},
		{ent{name: "usr/", typ: tar.TypeDir, mode: 0o700, uid: 5, gid: 6}},
	})
	fsys := res.FS
	for _, p := range []string{"/usr/local", "/usr/local/bin"} {
		n := mustLookup(t, fsys, p)
		if n.Type != TypeDir || n.Mode != 0o755 || n.Layer != 0 || n.Added != 0 || n.Path != p {
			t.Errorf("implicit %s: %+v", p, n.File)
		}
	}
	usr := mustLookup(t, fsys, "/usr")
	if usr.Mode != 0o700 || usr.UID != 5 || usr.GID != 6 || usr.Layer != 2 {
		t.Errorf("/usr after its explicit entry: %+v", usr.File)
	}
	if usr.Added != 0 || !slices.Equal(usr.Changed, []int{2}) {
		t.Errorf("/usr: Added=%d Changed=%v, want 0 [2]", usr.Added, usr.Changed)
	}
	mustLookup(t, fsys, "/usr/local/bin/tool")
	if got := paths(t, fsys); !slices.Equal(got, []string{"/other", "/usr/", "/usr/local/", "/usr/local/bin/", "/usr/local/bin/tool"}) {
		t.Errorf("tree = %v", got)
	}
}

func TestAddedChangedTracking(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{
		{file("f", "v0"), dir("d/")},
		{file("other", "x")},
		{file("f", "v2"), dir("d/")},
		{file("f", "v3"), file("f", "v3 again"), file("g", "new")},
	})
	fsys := res.FS
	f := mustLookup(t, fsys, "/f")
	if f.Added != 0 || !slices.Equal(f.Changed, []int{2, 3}) || f.Layer != 3 || f.Size != int64(len("v3 again")) {
		t.Errorf("/f: Added=%d Changed=%v Layer=%d Size=%d, want 0 [2 3] 3 %d", f.Added, f.Changed, f.Layer, f.Size, len("v3 again"))
	}
	d := mustLookup(t, fsys, "/d")
	if d.Added != 0 || !slices.Equal(d.Changed, []int{2}) {
		t.Errorf("/d: Added=%d Changed=%v", d.Added, d.Changed)
	}
	g := mustLookup(t, fsys, "/g")
	if g.Added != 3 || g.Changed != nil {
		t.Errorf("/g: Added=%d Changed=%v", g.Added, g.Changed)
	}
	for layer, want := range []bool{false, false, false, true} {
		if got := fsys.IsCurrent("/f", layer); got != want {
			t.Errorf("IsCurrent(/f, %d) = %v", layer, got)
		}
	}
	if fsys.IsCurrent("/nothere", 0) || fsys.IsCurrent("/no/such/parent", 0) {
		t.Error("IsCurrent of a missing path")
	}
	if !fsys.IsCurrent("/", 0) {
		t.Error("IsCurrent(/, 0) = false")
	}
	if len(fsys.Deleted()) != 0 {
		t.Errorf("overwrites are not deletions: %v", fmtDeletions(fsys.Deleted()))
	}
}

func TestRootEntry(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{
		{ent{name: "./", typ: tar.TypeDir, mode: 0o700, uid: 1, gid: 2}, file("./etc/x", "x")},
	})
	root, ok := res.FS.Lookup("/")
	if !ok || root.Path != "/" || root.Type != TypeDir || root.Mode != 0o700 || root.UID != 1 || root.GID != 2 {
		t.Errorf("root = %+v, %v", root, ok)
	}
	n, rp, err := res.FS.Stat("/")
	if err != nil || n != root || rp != "/" {
		t.Errorf("Stat(/) = %v, %q, %v", n, rp, err)
	}
	mustLookup(t, res.FS, "/etc/x")
}

func TestFileMetadata(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{{
		ent{name: "usr/bin/su", typ: tar.TypeReg, body: "elf", mode: 0o4755, uid: 0, gid: 0},
		ent{name: "usr/bin/wall", typ: tar.TypeReg, body: "elf", mode: 0o2755, uid: 0, gid: 5},
		ent{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
		ent{name: "etc/conf", typ: tar.TypeReg, body: "abc", mode: 0o640, uid: 1000, gid: 1001},
		ent{name: "dev/null", typ: tar.TypeChar, mode: 0o666},
		ent{name: "dev/sda", typ: tar.TypeBlock, mode: 0o660},
		ent{name: "run/fifo", typ: tar.TypeFifo, mode: 0o600},
	}})
	fsys := res.FS
	su := mustLookup(t, fsys, "/usr/bin/su")
	if su.Mode != fs.ModeSetuid|0o755 || !su.IsExecutable() || su.Name() != "su" {
		t.Errorf("su: mode %v exec %v name %q", su.Mode, su.IsExecutable(), su.Name())
	}
	if w := mustLookup(t, fsys, "/usr/bin/wall"); w.Mode != fs.ModeSetgid|0o755 || w.GID != 5 {
		t.Errorf("wall: %v gid %d", w.Mode, w.GID)
	}
	tmp := mustLookup(t, fsys, "/tmp")
	if tmp.Mode != fs.ModeSticky|0o777 || tmp.Type != TypeDir || tmp.IsExecutable() {
		t.Errorf("tmp: %v %v exec=%v", tmp.Mode, tmp.Type, tmp.IsExecutable())
	}
	c := mustLookup(t, fsys, "/etc/conf")
	if c.Mode != 0o640 || c.UID != 1000 || c.GID != 1001 || c.Size != 3 || !c.ModTime.Equal(epoch) || c.IsExecutable() {
		t.Errorf("conf: %+v", c.File)
	}
	for p, typ := range map[string]Type{"/dev/null": TypeChar, "/dev/sda": TypeBlock, "/run/fifo": TypeFifo} {
		if n := mustLookup(t, fsys, p); n.Type != typ {
			t.Errorf("%s is a %v, want %v", p, n.Type, typ)
		}
	}
}

func TestTypeString(t *testing.T) {
	t.Parallel()
	want := map[Type]string{
		TypeRegular: "file", TypeDir: "dir", TypeSymlink: "symlink", TypeHardlink: "hardlink",
		TypeChar: "char", TypeBlock: "block", TypeFifo: "fifo", Type(200): "unknown",
	}
	for typ, s := range want {
		if typ.String() != s {
			t.Errorf("%d.String() = %q, want %q", typ, typ.String(), s)
		}
	}
}

func TestFileFromHeaderIgnoresNonFiles(t *testing.T) {
	t.Parallel()
	for _, typ := range []byte{tar.TypeXGlobalHeader, 'Z', tar.TypeCont} {
		if _, ok := fileFromHeader(&tar.Header{Name: "x", Typeflag: typ}, "/x", 0); ok {
			t.Errorf("type %q makes a file", typ)
		}
	}
	f, ok := fileFromHeader(&tar.Header{Name: "x", Typeflag: tar.TypeSymlink, Linkname: "y", Size: 99, ModTime: time.Unix(5, 0)}, "/x", 3)
	if !ok || f.Type != TypeSymlink || f.Link != "y" || f.Size != 0 || f.Layer != 3 || f.Path != "/x" {
		t.Errorf("symlink: %+v", f)
	}
	if f, _ := fileFromHeader(&tar.Header{Typeflag: tar.TypeDir, Size: 99}, "/d", 0); f.Size != 0 {
		t.Errorf("dir size %d", f.Size)
	}
	if f, _ := fileFromHeader(&tar.Header{Typeflag: tar.TypeRegA, Size: 7}, "/r", 0); f.Type != TypeRegular || f.Size != 7 {
		t.Errorf("TypeRegA: %+v", f)
	}
}

func TestUnknownEntryTypesSkipped(t *testing.T) {
	t.Parallel()
	var buf []byte
	buf = append(buf, mkTar(t, file("before", "b"))...)
	buf = buf[:len(buf)-1024] // drop the end-of-archive blocks
	buf = append(buf, rawEntry("weird", 'Z', []byte("payload that is not a file"))...)
	buf = append(buf, rawEntry("contig", tar.TypeCont, []byte("contiguous"))...)
	buf = append(buf, mkTar(t, file("after", "a"))...)
	res, err := Walk(t.Context(), []Blob{rawBlob(buf)}, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(t, res.FS); !slices.Equal(got, []string{"/after", "/before"}) {
		t.Errorf("tree = %v", got)
	}
	if res.FS.Entries() != 4 || res.FS.Layers()[0].Entries != 4 {
		t.Errorf("Entries() = %d, layer entries %d, want 4", res.FS.Entries(), res.FS.Layers()[0].Entries)
	}
}

func TestPAXGlobalHeaderIgnored(t *testing.T) {
	t.Parallel()
	var b []byte
	{
		var w bytesWriter
		tw := tar.NewWriter(&w)
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "hello"}}); err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "f", Size: 1, Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte("x"))
		tw.Close()
		b = w.b
	}
	res, err := Walk(t.Context(), []Blob{rawBlob(b)}, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(t, res.FS); !slices.Equal(got, []string{"/f"}) {
		t.Errorf("tree = %v", got)
	}
	if res.FS.Layers()[0].Entries != 2 {
		t.Errorf("Entries = %d, want 2", res.FS.Layers()[0].Entries)
	}
}

type bytesWriter struct{ b []byte }

func (w *bytesWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func TestDuplicateEntrySameLayer(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{{file("f", "one"), file("f", "two!"), dir("d/"), file("d/x", "x"), dir("d/")}})
	f := mustLookup(t, res.FS, "/f")
	if f.Size != 4 || f.Added != 0 || len(f.Changed) != 0 {
		t.Errorf("/f: %+v Added=%d Changed=%v", f.File, f.Added, f.Changed)
	}
	mustLookup(t, res.FS, "/d/x")
	if len(res.FS.Deleted()) != 0 {
		t.Errorf("Deleted() = %v", fmtDeletions(res.FS.Deleted()))
	}
}

func TestFSWalk(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{{
		file("b/2", ""), file("b/1", ""), dir("a/"), file("a/z/deep", ""), file("c", ""), sym("l", "a"), file("B", ""),
	}})
	fsys := res.FS
	want := []string{"/B", "/a/", "/a/z/", "/a/z/deep", "/b/", "/b/1", "/b/2", "/c", "/l@"}
	if got := paths(t, fsys); !slices.Equal(got, want) {
		t.Errorf("Walk order = %v\nwant %v", got, want)
	}
	// SkipDir on a directory skips its contents; on a file it skips only the file.
	var got []string
	err := fsys.Walk(func(n *Node) error {
		got = append(got, n.Path)
		if n.Path == "/a" || n.Path == "/b/1" {
			return fs.SkipDir
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/B", "/a", "/b", "/b/1", "/b/2", "/c", "/l"}; !slices.Equal(got, want) {
		t.Errorf("Walk with SkipDir = %v\nwant %v", got, want)
	}
	// Any other error stops the walk and comes back.
	stop := errors.New("stop")
	var count int
	err = fsys.Walk(func(n *Node) error {
		count++
		if n.Path == "/a/z" {
			return stop
		}
		return nil
	})
	if err != stop || count != 3 {
		t.Errorf("Walk returned %v after %d nodes, want stop after 3", err, count)
	}
}

func TestGlob(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{{
		file("etc/a.conf", ""), file("etc/b.conf", ""), file("etc/c.txt", ""), file("etc/sub/d.conf", ""),
		file("usr/local/bin/x", ""), file("usr/bin/y", ""), dir("usr/lib/"), sym("lib", "usr/lib"), file("usr/lib/libc.so", ""),
	}})
	fsys := res.FS
	for pattern, want := range map[string][]string{
		"/etc/*.conf":      {"/etc/a.conf", "/etc/b.conf"},
		"etc/*.conf":       {"/etc/a.conf", "/etc/b.conf"},
		"/etc/*/*.conf":    {"/etc/sub/d.conf"},
		"/usr/*/bin":       {"/usr/local/bin"},
		"/usr/*":           {"/usr/bin", "/usr/lib", "/usr/local"},
		"/*":               {"/etc", "/lib", "/usr"},
		"/lib/*":           nil, // Glob does not follow symlinks
		"/nothere/*":       nil,
		"/etc/[":           nil, // a bad pattern matches nothing
		"/etc/a.conf/x":    nil,
		"/usr/lib/libc.so": {"/usr/lib/libc.so"},
	} {
		if got := fsys.Glob(pattern); !slices.Equal(got, want) {
			t.Errorf("Glob(%q) = %v, want %v", pattern, got, want)
		}
	}
}

func TestReadDir(t *testing.T) {
	t.Parallel()
	res := walkOK(t, [][]ent{{
		file("usr/lib/b", ""), file("usr/lib/a", ""), dir("usr/lib/c/"), sym("lib", "usr/lib"), file("f", ""),
	}})
	fsys := res.FS
	for _, p := range []string{"/usr/lib", "/lib", "lib/", "/usr/../lib"} {
		kids, err := fsys.ReadDir(p)
		if err != nil {
			t.Errorf("ReadDir(%q): %v", p, err)
			continue
		}
		var names []string
		for _, k := range kids {
			names = append(names, k.Path)
		}
		if want := []string{"/usr/lib/a", "/usr/lib/b", "/usr/lib/c"}; !slices.Equal(names, want) {
			t.Errorf("ReadDir(%q) = %v", p, names)
		}
	}
	if _, err := fsys.ReadDir("/f"); err == nil {
		t.Error("ReadDir(/f) of a file succeeded")
	}
	if _, err := fsys.ReadDir("/nothere"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadDir(/nothere) = %v, want ErrNotExist", err)
	}
	root, err := fsys.ReadDir("/")
	if err != nil || len(root) != 3 {
		t.Errorf("ReadDir(/) = %v, %v", root, err)
	}
}

// TestWhiteoutDotNames: ".wh.", ".wh.." and ".wh..." name "", "." and ".."
// as their victim. Like moby (filepath.Join(dir, originalBase) then
// os.RemoveAll), imagefs removes the marker's own directory or its parent;
// nothing at or above the root is ever removed.
func TestWhiteoutDotNames(t *testing.T) {
	t.Parallel()
	lower := []ent{file("a/b/c/x", "x"), file("a/y", "y"), file("z", "z")}
	for name, want := range map[string][]string{
		"a/b/.wh.":   {"/a/", "/a/y", "/z"},
		"a/b/.wh..":  {"/a/", "/a/y", "/z"},
		"a/b/.wh...": {"/z"},
		"a/.wh...":   {"/a/", "/a/b/", "/a/b/c/", "/a/b/c/x", "/a/y", "/z"},
		".wh..":      {"/a/", "/a/b/", "/a/b/c/", "/a/b/c/x", "/a/y", "/z"},
		".wh.":       {"/a/", "/a/b/", "/a/b/c/", "/a/b/c/x", "/a/y", "/z"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := walkOK(t, [][]ent{lower, {file(name, "")}})
			if got := paths(t, res.FS); !slices.Equal(got, want) {
				t.Errorf("tree = %v, want %v", got, want)
			}
		})
	}
}
