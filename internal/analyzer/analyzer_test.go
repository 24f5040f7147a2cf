package analyzer

import (
	"bytes"
	"context"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

func TestParseDpkgStatusReal(t *testing.T) {
	data, err := os.ReadFile("testdata/dpkg-status-bookworm-minbase")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := ParseDpkgStatus(data)
	if len(pkgs) != 88 {
		t.Fatalf("bookworm minbase has 88 installed packages, parsed %d", len(pkgs))
	}
	byName := map[string]inventory.Package{}
	for _, p := range pkgs {
		byName[p.Name] = p
	}
	libc := byName["libc6"]
	if libc.SourceName != "glibc" || !strings.HasPrefix(libc.Version, "2.36-9+deb12u") || libc.SourceVersion != libc.Version || libc.Arch != "amd64" {
		t.Errorf("libc6: %+v", libc)
	}
	// A binary package built from a source package of another version: "Source: name (version)".
	for _, p := range pkgs {
		if p.SourceName == "" || p.SourceVersion == "" || strings.ContainsAny(p.SourceName, " ()") {
			t.Errorf("bad source fields: %+v", p)
		}
	}
}

func TestParseDpkgStatusSkipsNotInstalled(t *testing.T) {
	in := "Package: a\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: b\nStatus: install ok installed\nSource: bsrc (2:1.0-1)\nVersion: 1.0-1+b1\n"
	pkgs := ParseDpkgStatus([]byte(in))
	if len(pkgs) != 1 || pkgs[0].Name != "b" || pkgs[0].SourceName != "bsrc" || pkgs[0].SourceVersion != "2:1.0-1" {
		t.Fatalf("%+v", pkgs)
	}
}

func TestParseOSReleaseReal(t *testing.T) {
	data, err := os.ReadFile("testdata/os-release-bookworm")
	if err != nil {
		t.Fatal(err)
	}
	o := ParseOSRelease(data)
	if o.ID != "debian" || o.VersionID != "12" || o.VersionCodename != "bookworm" || o.PrettyName != "Debian GNU/Linux 12 (bookworm)" {
		t.Errorf("%+v", o)
	}
}

func TestParsePasswdReal(t *testing.T) {
	data, err := os.ReadFile("testdata/passwd-bookworm")
	if err != nil {
		t.Fatal(err)
	}
	users := ParsePasswd(data)
	acc := inventory.Accounts{Users: users}
	root, ok := acc.UserByName("root")
	nobody, ok2 := acc.UserByName("nobody")
	if !ok || !ok2 || root.UID != 0 || nobody.UID != 65534 || root.Line != 1 {
		t.Errorf("root %+v nobody %+v", root, nobody)
	}
	if got := ParsePasswd([]byte("broken\nx:y:notanumber:0:::\nok:x:5:5::/:/bin/sh\n")); len(got) != 1 || got[0].Name != "ok" {
		t.Errorf("malformed lines must be skipped: %+v", got)
	}
}

func TestParseApk(t *testing.T) {
	in := "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\n\nP:busybox-binsh\nV:1.36.1-r5\nA:x86_64\nL:GPL-2.0-only\no:busybox\n\n"
	pkgs := ParseApkInstalled([]byte(in))
	if len(pkgs) != 2 || pkgs[1].SourceName != "busybox" || pkgs[0].Licenses[0] != "MIT" || pkgs[0].Ecosystem != "apk" {
		t.Fatalf("%+v", pkgs)
	}
}

// The test binary is a real Go binary: its build info must be found by streaming.
func TestScanGoBuildInfoReal(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ver, mod, err := scanGoBuildInfo(f)
	if err != nil {
		t.Fatal(err)
	}
	if ver != runtime.Version() {
		t.Errorf("version %q, want %q", ver, runtime.Version())
	}
	if mod != "github.com/shipshape-dev/shipshape" {
		t.Errorf("main module %q", mod)
	}
	head := make([]byte, headSize)
	f.Seek(0, io.SeekStart)
	io.ReadFull(f, head)
	arch, interp := parseELFHead(head)
	if arch != runtime.GOARCH {
		t.Errorf("arch %q, want %q", arch, runtime.GOARCH)
	}
	_ = interp
}

func TestScanGoBuildInfoNotGo(t *testing.T) {
	ver, mod, err := scanGoBuildInfo(bytes.NewReader(bytes.Repeat([]byte("\x7fELF not go at all "), 100000)))
	if err != nil || ver != "" || mod != "" {
		t.Fatalf("%q %q %v", ver, mod, err)
	}
	// The magic split across the scanner's chunk boundary must still be found.
	var buf bytes.Buffer
	buf.Write(make([]byte, 256<<10-16))
	buf.Write(buildInfoMagic)
	buf.Write([]byte{8, 2})
	buf.Write(make([]byte, 16))
	buf.Write([]byte{8})
	buf.WriteString("go1.99.1")
	buf.Write([]byte{0})
	ver, _, err = scanGoBuildInfo(bytes.NewReader(buf.Bytes()))
	if err != nil || ver != "go1.99.1" {
		t.Fatalf("across chunks: %q %v", ver, err)
	}
}

func TestELFInterpOfRealBinary(t *testing.T) {
	// /bin/ls on the Debian machine running the tests is dynamically linked.
	f, err := os.Open("/bin/ls")
	if err != nil {
		t.Skip("no /bin/ls")
	}
	defer f.Close()
	head := make([]byte, headSize)
	n, _ := io.ReadFull(f, head)
	_, interp := parseELFHead(head[:n])
	if !strings.Contains(interp, "ld-linux") {
		t.Errorf("interp %q", interp)
	}
}

func FuzzParseDpkgStatus(f *testing.F) {
	if data, err := os.ReadFile("testdata/dpkg-status-bookworm-minbase"); err == nil {
		f.Add(data[:4096])
	}
	f.Add([]byte("Package: x\nVersion: 1\nSource: y (2)\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range ParseDpkgStatus(data) {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("empty package %+v", p)
			}
		}
	})
}

func FuzzParseELFHead(f *testing.F) {
	if data, err := os.ReadFile("/bin/ls"); err == nil {
		f.Add(data[:headSize])
	}
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseELFHead(data)
		scanGoBuildInfo(bytes.NewReader(data))
	})
}

func FuzzParseAccounts(f *testing.F) {
	if data, err := os.ReadFile("testdata/passwd-bookworm"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ParsePasswd(data)
		ParseGroup(data)
		ParseShadow(data)
		ParseOSRelease(data)
		ParseApkInstalled(data)
	})
}

// Each Debian package is attributed to the layer that installed its current
// version, not to the layer that last rewrote the status file.
func TestDpkgLayerAttribution(t *testing.T) {
	status := func(pkgs ...string) string {
		var b strings.Builder
		for i := 0; i+1 < len(pkgs); i += 2 {
			b.WriteString("Package: " + pkgs[i] + "\nStatus: install ok installed\nVersion: " + pkgs[i+1] + "\nArchitecture: amd64\n\n")
		}
		return b.String()
	}
	layers := [][]imagetest.File{
		{imagetest.Text(dpkgStatus, status("libc6", "2.36-9", "curl", "7.88.1-10"))},
		{imagetest.Text(dpkgStatus, status("libc6", "2.36-9", "curl", "7.88.1-10", "nginx", "1.22.1-9"))},
		{imagetest.Text(dpkgStatus, status("libc6", "2.36-9", "curl", "7.88.1-10+deb12u5", "nginx", "1.22.1-9"))},
		{imagetest.Text("/etc/motd", "hi")},
	}
	var blobs []imagefs.Blob
	for _, l := range layers {
		data := imagetest.LayerTar(l)
		blobs = append(blobs, imagefs.Blob{Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }})
	}
	_, inv, err := Run(context.Background(), blobs, Options{Skip: []string{"secrets"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"libc6": 0, "nginx": 1, "curl": 2}
	for _, p := range inv.Packages {
		if l, ok := want[p.Name]; !ok || p.Layer != l {
			t.Errorf("%s %s: layer %d, want %d", p.Name, p.Version, p.Layer, want[p.Name])
		}
	}
	if len(inv.Packages) != 3 {
		t.Errorf("packages: %+v", inv.Packages)
	}
}
