package secrets

import (
	"archive/tar"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// This file loads real files for the tests and benchmarks: the fixtures'
// debootstrap rootfs, the benchmark image, and Debian packages fetched with
// apt-get download into a cache.

// realFile is one regular file read from a tar.
type realFile struct {
	path string
	data []byte
}

// cacheDir is ~/.cache/shipshape/<sub>, or $SHIPSHAPE_FIXTURES for "fixtures".
func cacheDir(sub string) string {
	if sub == "fixtures" {
		if d := os.Getenv("SHIPSHAPE_FIXTURES"); d != "" {
			return d
		}
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "shipshape", sub)
}

// readTar reads every regular file of a plain tar (up to maxFile bytes each;
// larger ones are skipped). With nested, the tar is a docker save archive and
// every */layer.tar (or blobs/sha256/*) inside it is read as a layer.
func readTar(tb testing.TB, file string, nested bool, maxFile int64) []realFile {
	tb.Helper()
	f, err := os.Open(file)
	if err != nil {
		tb.Skipf("%s: %v", file, err)
	}
	defer f.Close()
	var out []realFile
	var walk func(r io.Reader, inner bool)
	walk = func(r io.Reader, inner bool) {
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				tb.Fatalf("%s: %v", file, err)
			}
			if h.Typeflag != tar.TypeReg {
				continue
			}
			if inner {
				if strings.HasSuffix(h.Name, "/layer.tar") || strings.HasPrefix(h.Name, "blobs/sha256/") && h.Size > 1024 {
					walk(tr, false)
				}
				continue
			}
			if h.Size == 0 || h.Size > maxFile {
				continue
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, realFile{path: "/" + strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/"), data: data})
		}
	}
	walk(f, nested)
	return out
}

// debFiles downloads a Debian package (cached under ~/.cache/shipshape/debs)
// and returns its files with their installed paths.
func debFiles(t *testing.T, pkg string) []realFile {
	t.Helper()
	dir := cacheDir("debs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	if len(matches) == 0 {
		cmd := exec.Command("apt-get", "download", pkg)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("apt-get download %s: %v\n%s", pkg, err, out)
			}
			t.Skipf("apt-get download %s: %v\n%s", pkg, err, out)
		}
		matches, _ = filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
		if len(matches) == 0 {
			t.Fatalf("apt-get download %s wrote no .deb into %s", pkg, dir)
		}
	}
	cmd := exec.Command("dpkg-deb", "--fsys-tarfile", matches[0])
	rc, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("dpkg-deb: %v", err)
	}
	tmp := filepath.Join(t.TempDir(), "fs.tar")
	w, err := os.Create(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, rc); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("dpkg-deb --fsys-tarfile %s: %v", matches[0], err)
	}
	return readTar(t, tmp, false, 64<<20)
}

// textOnly keeps the files IsBinary calls text.
func textOnly(fs []realFile) []realFile {
	var out []realFile
	for _, f := range fs {
		if !IsBinary(f.data) {
			out = append(out, f)
		}
	}
	return out
}
