package imagefs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"
)

// linkFS is an image full of symlinks and hard links.
func linkFS(t *testing.T) *FS {
	t.Helper()
	base := []ent{
		dir("etc/"), file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
		dir("etc/alternatives/"), sym("etc/alternatives/java", "/usr/lib/jvm/java-17/bin/java"),
		exe("usr/lib/jvm/java-17/bin/java", "elf"),
		sym("usr/bin/java", "/etc/alternatives/java"),
		file("usr/lib/libc.so.6", "elf"),
		sym("usr/lib/libc.so", "libc.so.6"),
		sym("lib", "usr/lib"),
		sym("lib64", "/usr/lib"),
		exe("usr/bin/python3.11", "elf"),
		sym("usr/bin/python3", "python3.11"),
		sym("usr/bin/py", "./python3"),
		sym("usr/local/bin/python", "../../bin/python3"),
		sym("evil", "../../../../etc/passwd"),
		sym("evil2", "/../../etc/passwd"),
		sym("usr/share/evil3", "../../../../../../../etc/passwd"),
		sym("usr/share/evil4", "../../..//./../etc/./passwd"),
		sym("loop/a", "b"), sym("loop/b", "a"),
		sym("loop/self", "self"),
		sym("loop/abs", "/loop/abs"),
		sym("loop/deep", "deep/x"),
		sym("loop/up", "../loop/up/x"),
		sym("dangling", "/nonexistent/file"),
		dir("opt/releases/v2/bin/"), exe("opt/releases/v2/bin/app", "elf"),
		sym("opt/current", "releases/v2"),
		sym("opt/bin", "current/bin"),
		sym("tofile", "etc/passwd"),
		sym("dot", "."),
		sym("etc/dotdot", ".."),
		exe("usr/bin/perl", "elf"),
		hard("usr/bin/perl5", "usr/bin/perl"),
		hard("usr/bin/hpy", "/usr/bin/python3"),
		hard("usr/bin/hh", "usr/bin/perl5"),
		hard("hself", "hself"),
		hard("hmissing", "no/such/file"),
	}
	// c00 -> c01 -> ... -> c39 -> cend: 40 hops, the most allowed.
	for i := 0; i < MaxSymlinkHops; i++ {
		next := fmt.Sprintf("c%02d", i+1)
		if i == MaxSymlinkHops-1 {
			next = "cend"
		}
		base = append(base, sym(fmt.Sprintf("chain/c%02d", i), next))
	}
	base = append(base, file("chain/cend", "end"))
	// d00 -> ... -> d40 -> dend: 41 hops, one too many.
	for i := 0; i <= MaxSymlinkHops; i++ {
		next := fmt.Sprintf("d%02d", i+1)
		if i == MaxSymlinkHops {
			next = "dend"
		}
		base = append(base, sym(fmt.Sprintf("chain/d%02d", i), next))
	}
	base = append(base, file("chain/dend", "end"))
	return walkOK(t, [][]ent{base}).FS
}

func TestStat(t *testing.T) {
	t.Parallel()
	fsys := linkFS(t)
	for p, want := range map[string]string{
		"/etc/passwd":                "/etc/passwd",
		"etc/passwd":                 "/etc/passwd",
		"//etc//./passwd":            "/etc/passwd",
		"/usr/bin/java":              "/usr/lib/jvm/java-17/bin/java",
		"/etc/alternatives/java":     "/usr/lib/jvm/java-17/bin/java",
		"/lib/libc.so.6":             "/usr/lib/libc.so.6",
		"/lib/libc.so":               "/usr/lib/libc.so.6",
		"/lib64/libc.so":             "/usr/lib/libc.so.6",
		"/lib":                       "/usr/lib",
		"/usr/bin/python3":           "/usr/bin/python3.11",
		"/usr/bin/py":                "/usr/bin/python3.11",
		"/usr/local/bin/python":      "/usr/bin/python3.11",
		"/evil":                      "/etc/passwd",
		"/evil2":                     "/etc/passwd",
		"/usr/share/evil3":           "/etc/passwd",
		"/usr/share/evil4":           "/etc/passwd",
		"/../../etc/passwd":          "/etc/passwd",
		"/etc/../../../etc/passwd":   "/etc/passwd",
		"/usr/lib/../bin/python3.11": "/usr/bin/python3.11",
		"/opt/current/bin/app":       "/opt/releases/v2/bin/app",
		"/opt/bin/app":               "/opt/releases/v2/bin/app",
		"/opt/current":               "/opt/releases/v2",
		"/tofile":                    "/etc/passwd",
		"/dot/dot/dot/etc/passwd":    "/etc/passwd",
		"/etc/dotdot/etc/dotdot/usr": "/usr",
		"/usr/bin/perl5":             "/usr/bin/perl",
		"/usr/bin/hh":                "/usr/bin/perl",
		"/usr/bin/hpy":               "/usr/bin/python3.11",
		"/chain/c00":                 "/chain/cend",
		"/":                          "/",
		"":                           "/",
		"/..":                        "/",
		"/opt/current/../v2/bin":     "/opt/releases/v2/bin",
	} {
		n, rp, err := fsys.Stat(p)
		if err != nil {
			t.Errorf("Stat(%q): %v", p, err)
			continue
		}
		if rp != want || n.Path != want {
			t.Errorf("Stat(%q) = %q (node %q), want %q", p, rp, n.Path, want)
		}
		if n.Type == TypeSymlink || n.Type == TypeHardlink {
			t.Errorf("Stat(%q) stopped at a %v", p, n.Type)
		}
	}
}

func TestStatNotExist(t *testing.T) {
	t.Parallel()
	fsys := linkFS(t)
	for _, p := range []string{
		"/nothere",
		"/dangling",
		"/etc/passwd/x",      // through a file
		"/tofile/x",          // through a symlink to a file
		"/lib/../etc/passwd", // "/lib/.." is /usr, where the link leads, not /
		"/hmissing",
	} {
		_, _, err := fsys.Stat(p)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q) = %v, want ErrNotExist", p, err)
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Op != "stat" || pe.Path != p {
			t.Errorf("Stat(%q) error %#v is not a stat PathError on the path", p, err)
		}
	}
}

func TestStatLoops(t *testing.T) {
	t.Parallel()
	fsys := linkFS(t)
	for _, p := range []string{
		"/loop/a", "/loop/b", "/loop/self", "/loop/abs", "/loop/deep", "/loop/up",
		"/loop/a/x/y", "/chain/d00", "/hself",
	} {
		done := make(chan error, 1)
		go func() {
			_, _, err := fsys.Stat(p)
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, ErrLoop) {
				t.Errorf("Stat(%q) = %v, want ErrLoop", p, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Stat(%q) hangs", p)
		}
	}
	// Lookup does not follow the last link, so a looping link is still found...
	if n, ok := fsys.Lookup("/loop/a"); !ok || n.Type != TypeSymlink || n.Link != "b" {
		t.Errorf("Lookup(/loop/a) = %+v, %v", n, ok)
	}
	// ...but a loop in the middle of the path is not.
	if _, ok := fsys.Lookup("/loop/a/x"); ok {
		t.Error("Lookup(/loop/a/x) found something")
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	fsys := linkFS(t)
	l := mustLookup(t, fsys, "/lib")
	if l.Type != TypeSymlink || l.Link != "usr/lib" || l.Path != "/lib" {
		t.Errorf("Lookup(/lib) = %+v", l.File)
	}
	// Intermediate links are followed.
	if n := mustLookup(t, fsys, "/lib/libc.so"); n.Type != TypeSymlink || n.Path != "/usr/lib/libc.so" {
		t.Errorf("Lookup(/lib/libc.so) = %+v", n.File)
	}
	h := mustLookup(t, fsys, "/usr/bin/perl5")
	if h.Type != TypeHardlink || h.Link != "/usr/bin/perl" {
		t.Errorf("Lookup of a hard link = %+v", h.File)
	}
	if n := mustLookup(t, fsys, "/usr/bin/hpy"); n.Link != "/usr/bin/python3" {
		t.Errorf("hard link target not cleaned to an absolute path: %q", n.Link)
	}
	if d := mustLookup(t, fsys, "/dangling"); d.Type != TypeSymlink {
		t.Errorf("dangling link: %+v", d.File)
	}
	if _, ok := fsys.Lookup("/dangling/x"); ok {
		t.Error("Lookup through a dangling link")
	}
}

// TestStatRelativeToLinkDir checks that a relative target resolves from the
// directory holding the link, also when that directory was reached by a link.
func TestStatRelativeToLinkDir(t *testing.T) {
	t.Parallel()
	fsys := walkOK(t, [][]ent{{
		file("real/lib/target", "t"), sym("real/lib/rel", "target"), sym("real/lib/up", "../lib/target"),
		sym("alias", "real"), file("alias-not-used/target", "wrong"),
	}}).FS
	for p, want := range map[string]string{
		"/alias/lib/rel": "/real/lib/target",
		"/alias/lib/up":  "/real/lib/target",
	} {
		if _, rp, err := fsys.Stat(p); err != nil || rp != want {
			t.Errorf("Stat(%q) = %q, %v, want %q", p, rp, err, want)
		}
	}
}

// TestSymlinkAcrossLayers resolves links whose targets a later layer replaced or deleted.
func TestSymlinkAcrossLayers(t *testing.T) {
	t.Parallel()
	fsys := walkOK(t, [][]ent{
		{file("usr/lib/libssl.so.1", "old"), sym("usr/lib/libssl.so", "libssl.so.1"), sym("bin", "usr/bin"), exe("usr/bin/sh", "sh")},
		{wh("usr/lib/libssl.so.1"), file("usr/lib/libssl.so.3", "new")},
		{sym("usr/lib/libssl.so", "libssl.so.3")},
	}).FS
	n, rp, err := fsys.Stat("/usr/lib/libssl.so")
	if err != nil || rp != "/usr/lib/libssl.so.3" || n.Layer != 1 {
		t.Errorf("Stat(libssl.so) = %v %q %v", n, rp, err)
	}
	if l := mustLookup(t, fsys, "/usr/lib/libssl.so"); l.Added != 0 || len(l.Changed) != 1 || l.Changed[0] != 2 {
		t.Errorf("link Added=%d Changed=%v", l.Added, l.Changed)
	}
	if _, rp, err := fsys.Stat("/bin/sh"); err != nil || rp != "/usr/bin/sh" {
		t.Errorf("Stat(/bin/sh) = %q, %v", rp, err)
	}
}

// TestStatEmptyLinkTargetBug: a symlink with an empty target names nothing
// (Linux refuses to create one and path resolution through it gives ENOENT).
func TestStatEmptyLinkTarget(t *testing.T) {
	// Regression (was a bug): tree.go:263 resolve() splices split(\"\") (no elements) in place of an
	// empty symlink target, so a symlink with an empty target resolves to the directory that holds it
	t.Parallel()
	fsys := walkOK(t, [][]ent{{file("bin/busybox", "elf"), sym("bin/sh", "")}}).FS
	n, rp, err := fsys.Stat("/bin/sh")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(/bin/sh -> \"\") = %v %q %v, want ErrNotExist", n, rp, err)
	}
}

// TestStatLongLinkTargetBug: a symlink target is not bounded by MaxPathLen (nor
// by anything but the 1 MiB PAX record limit of archive/tar), and Stat copies the
// pending components on every hop, so one 1 MiB layer makes every Stat through
// the link take seconds (about 9 s on a fast machine, far more under -race).
func TestStatLongLinkTarget(t *testing.T) {
	// Regression (was a bug): file.go:131 / tree.go:263 symlink targets are not bounded by
	// Limits.MaxPathLen; a link \"a\" -> \"a/a/a/...\" (1 MiB) makes Stat(\"/a\") spend seconds and
	// hundreds of MB before ErrLoop
	t.Parallel()
	tarb := mkTar(t, sym("a", strings.Repeat("a/", 500_000)))
	res, err := Walk(context.Background(), []Blob{rawBlob(tarb)}, nil, Limits{})
	if err != nil {
		if !errors.Is(err, ErrLimit) {
			t.Fatalf("Walk = %v, want success or ErrLimit", err)
		}
		return
	}
	start := time.Now()
	_, _, err = res.FS.Stat("/a")
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Stat(/a) took %v (err %v)", d, err)
	}
}
