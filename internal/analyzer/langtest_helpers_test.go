package analyzer

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// This file holds what the language and binary cataloger tests share: real
// Debian packages fetched with apt-get download (cached), host trees turned
// into image layers, and a run of every registered analyzer over them.

// debPackage is a Debian package extracted with dpkg-deb -x.
type debPackage struct {
	Name    string
	Version string // the package's version ("2.28.1+dfsg-1")
	Root    string // where it was extracted
	Files   []string
}

// Upstream is the upstream part of the Debian version: no epoch, no
// revision, no repacking suffix ("1:2.28.1+dfsg-1" -> "2.28.1").
func (d debPackage) Upstream() string {
	v := d.Version
	if i := strings.Index(v, ":"); i >= 0 {
		v = v[i+1:]
	}
	if i := strings.LastIndex(v, "-"); i >= 0 {
		v = v[:i]
	}
	return regexp.MustCompile(`[+~].*$`).ReplaceAllString(v, "")
}

// deb downloads (once, cached under the user cache directory) and extracts
// a package of the machine's Debian release. The test is skipped off Debian
// and fails in CI when the package cannot be had.
func deb(t *testing.T, name string) debPackage {
	t.Helper()
	for _, tool := range []string{"apt-get", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: not a Debian machine", tool)
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "shipshape", "debs", name)
	debs, _ := filepath.Glob(filepath.Join(dir, name+"_*.deb"))
	if len(debs) == 0 {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("apt-get", "download", name)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			if os.Getenv("CI") == "" {
				t.Skipf("apt-get download %s: %v\n%s", name, err, out)
			}
			t.Fatalf("apt-get download %s: %v\n%s", name, err, out)
		}
		debs, _ = filepath.Glob(filepath.Join(dir, name+"_*.deb"))
		if len(debs) == 0 {
			t.Fatalf("apt-get download %s left no .deb in %s", name, dir)
		}
	}
	file := debs[len(debs)-1]
	root := filepath.Join(dir, "root")
	if _, err := os.Stat(root); err != nil {
		tmp := root + ".tmp"
		os.RemoveAll(tmp)
		if out, err := exec.Command("dpkg-deb", "-x", file, tmp).CombinedOutput(); err != nil {
			t.Fatalf("dpkg-deb -x %s: %v\n%s", file, err, out)
		}
		if err := os.Rename(tmp, root); err != nil {
			t.Fatal(err)
		}
	}
	ver, err := exec.Command("dpkg-deb", "-f", file, "Version").Output()
	if err != nil {
		t.Fatalf("dpkg-deb -f %s: %v", file, err)
	}
	d := debPackage{Name: name, Version: strings.TrimSpace(string(ver)), Root: root}
	filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			d.Files = append(d.Files, "/"+filepath.ToSlash(strings.TrimPrefix(p, root+"/")))
		}
		return nil
	})
	return d
}

// Layer turns the extracted package into image files (regular files and
// symlinks, modes kept). With owned, it also writes the file list dpkg keeps
// for an installed package, /var/lib/dpkg/info/<name>.list.
func (d debPackage) Layer(t *testing.T, owned bool) []imagetest.File {
	t.Helper()
	files := hostTree(t, d.Root, "/")
	if owned {
		list := "/.\n" + strings.Join(d.Files, "\n") + "\n"
		files = append(files, imagetest.Text("/var/lib/dpkg/info/"+d.Name+".list", list))
	}
	return files
}

// hostTree turns the regular files and symlinks under dir into image files
// under prefix.
func hostTree(t *testing.T, dir, prefix string) []imagetest.File {
	t.Helper()
	var files []imagetest.File
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		ip := filepath.ToSlash(filepath.Join(prefix, rel))
		info, err := e.Info()
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			files = append(files, imagetest.Symlink(ip, target))
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files = append(files, imagetest.File{Path: ip, Content: string(data), Mode: int64(info.Mode().Perm())})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// hostFile is one file of the machine as an image file at ip.
func hostFile(t *testing.T, hostPath, ip string, mode int64) imagetest.File {
	t.Helper()
	data, err := os.ReadFile(hostPath)
	if err != nil {
		t.Fatal(err)
	}
	return imagetest.File{Path: ip, Content: string(data), Mode: mode}
}

// scanLayers runs every registered analyzer over the layers, as a scan does.
func scanLayers(t *testing.T, layers ...[]imagetest.File) (*imagefs.Result, *inventory.Inventory) {
	t.Helper()
	var blobs []imagefs.Blob
	for _, files := range layers {
		data := imagetest.LayerTar(files)
		blobs = append(blobs, imagefs.Blob{Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }})
	}
	res, inv, err := Run(context.Background(), blobs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res, inv
}

// pkgsOf returns the inventory's packages of one ecosystem, by name.
func pkgsOf(inv *inventory.Inventory, eco string) map[string][]inventory.Package {
	out := map[string][]inventory.Package{}
	for _, p := range inv.Packages {
		if p.Ecosystem == eco {
			out[p.Name] = append(out[p.Name], p)
		}
	}
	return out
}

// runtimeOf returns the runtimes of one product.
func runtimeOf(inv *inventory.Inventory, product string) []inventory.Runtime {
	var out []inventory.Runtime
	for _, r := range inv.Runtimes {
		if r.Product == product {
			out = append(out, r)
		}
	}
	return out
}

// analyze feeds one file to a fresh analyzer, as the walk would.
func analyze(t *testing.T, a Analyzer, p string, data []byte) error {
	t.Helper()
	f := &imagefs.File{Path: p, Type: imagefs.TypeRegular, Mode: 0o644, Size: int64(len(data))}
	if !wants(a, f) {
		t.Fatalf("%T does not want %s", a, p)
	}
	return a.Analyze(f, bytes.NewReader(data))
}

// wants reports whether the analyzer's Want selects f.
func wants(a Analyzer, f *imagefs.File) bool {
	w := a.Want()
	for _, p := range w.Paths {
		if p == f.Path {
			return true
		}
	}
	return w.Match != nil && w.Match(f)
}
