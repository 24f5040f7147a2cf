package analyzer

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

// goModuleApp is a tiny module with two replace directives: a module
// version replaced by another version from the module cache, and a module
// replaced by a local directory.
var goModuleApp = map[string]string{
	"go.mod": `module example.com/shipshapeapp

go 1.22

require (
	example.com/local v0.0.0
	github.com/spf13/pflag v1.0.9
)

replace github.com/spf13/pflag v1.0.9 => github.com/spf13/pflag v1.0.10

replace example.com/local => ./local
`,
	"main.go": `package main

import (
	"fmt"

	"example.com/local"
	"github.com/spf13/pflag"
)

func main() {
	pflag.Parse()
	fmt.Println(local.Hello(), pflag.NArg())
}
`,
	"local/go.mod":   "module example.com/local\n\ngo 1.22\n",
	"local/local.go": "package local\n\n// Hello greets.\nfunc Hello() string { return \"hello\" }\n",
}

// buildGoApp builds goModuleApp with the machine's toolchain, offline, from
// the module cache (pflag v1.0.10 is a dependency of this project's CLI).
func buildGoApp(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range goModuleApp {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "app")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// goVersionM runs `go version -m` on the binary: the toolchain's own reading
// of its build info, as the oracle. It returns the modules as they were
// built (replacements applied), path -> version.
func goVersionM(t *testing.T, bin string) (toolchain string, mods map[string]string) {
	t.Helper()
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	mods = map[string]string{}
	lines := strings.Split(string(out), "\n")
	_, toolchain, _ = strings.Cut(lines[0], ": ")
	last := ""
	for _, l := range lines[1:] {
		f := strings.Split(strings.TrimSpace(l), "\t")
		switch {
		case len(f) >= 2 && f[0] == "mod":
			v := ""
			if len(f) >= 3 && f[2] != "(devel)" {
				v = f[2]
			}
			mods[f[1]] = v
		case len(f) >= 3 && f[0] == "dep":
			mods[f[1]], last = f[2], f[1]
		case len(f) >= 2 && f[0] == "=>":
			delete(mods, last)
			if len(f) >= 3 && f[2] != "" {
				mods[f[1]] = f[2]
			} else { // a local directory keeps the module path, without version
				mods[last] = ""
			}
		}
	}
	return toolchain, mods
}

func TestGoBinaryModules(t *testing.T) {
	bin := buildGoApp(t)
	toolchain, want := goVersionM(t, bin)
	if want["github.com/spf13/pflag"] != "v1.0.10" {
		t.Fatalf("the oracle did not see the replacement: %v", want)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	_, inv := scanLayers(t, []imagetest.File{{Path: "/usr/local/bin/app", Content: string(data), Mode: 0o755}})
	got := map[string]string{}
	for _, p := range inv.Packages {
		if p.Ecosystem != "Go" {
			continue
		}
		if p.Type != "lang" || p.Path != "/usr/local/bin/app" || p.Layer != 0 {
			t.Errorf("bad package fields: %+v", p)
		}
		if p.Name != "stdlib" {
			got[p.Name] = p.Version
		} else if p.Version != strings.TrimPrefix(toolchain, "go") || p.Version != strings.TrimPrefix(runtime.Version(), "go") {
			t.Errorf("stdlib %q, toolchain %q", p.Version, toolchain)
		}
		if p.Name == "github.com/spf13/pflag" && p.PURL != "pkg:golang/github.com/spf13/pflag@v1.0.10" {
			t.Errorf("purl %q", p.PURL)
		}
	}
	if len(got) != len(want) {
		t.Errorf("modules %v, go version -m says %v", got, want)
	}
	for m, v := range want {
		if gv, ok := got[m]; !ok || gv != v {
			t.Errorf("module %s: got %q (present %v), want %q", m, gv, ok, v)
		}
	}
	if rts := runtimeOf(inv, "go"); len(rts) != 1 || "go"+rts[0].Version != toolchain {
		t.Errorf("go runtime %+v, toolchain %q", rts, toolchain)
	}
	// Deleted by a later layer: nothing is reported.
	_, inv = scanLayers(t,
		[]imagetest.File{{Path: "/usr/local/bin/app", Content: string(data), Mode: 0o755}},
		[]imagetest.File{imagetest.Whiteout("/usr/local/bin/app")})
	if n := len(pkgsOf(inv, "Go")); n != 0 {
		t.Errorf("deleted binary still gives %d Go packages", n)
	}
}

// cargoAuditableJSON is the dependency list cargo-auditable writes (the
// auditable-serde format: crates.io crates, the local root, a build-time
// proc macro).
const cargoAuditableJSON = `{"packages":[{"name":"adler","version":"1.0.2","source":"crates.io"},{"name":"auditable-demo","version":"0.1.0","source":"local","dependencies":[0,2,3],"root":true},{"name":"miniz_oxide","version":"0.7.1","source":"crates.io","dependencies":[0]},{"name":"serde_derive","version":"1.0.193","source":"crates.io","kind":"build"}]}`

// zlibLevel7 compresses like cargo-auditable (miniz_oxide, level 7: header 78 DA).
func zlibLevel7(t testing.TB, data []byte) []byte {
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, 7)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

// rustc finds the Rust compiler, also in rustup's default place.
func rustc(t *testing.T) string {
	if p, err := exec.LookPath("rustc"); err == nil {
		return p
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, ".cargo", "bin", "rustc")
	if _, err := os.Stat(p); err != nil {
		t.Skip("rustc not found")
	}
	return p
}

// A real Rust binary carrying a .dep-v0 section, linked the way
// cargo-auditable links it (a retained static in that section).
func TestRustAuditableBinary(t *testing.T) {
	rc := rustc(t)
	dir := t.TempDir()
	z := zlibLevel7(t, []byte(cargoAuditableJSON))
	os.WriteFile(filepath.Join(dir, "dep.z"), z, 0o644)
	src := `#[used]
#[link_section = ".dep-v0"]
static AUDITABLE_VERSION_INFO: [u8; ` + strconv.Itoa(len(z)) + `] = *include_bytes!("dep.z");
fn main() { println!("hello"); }
`
	os.WriteFile(filepath.Join(dir, "main.rs"), []byte(src), 0o644)
	cmd := exec.Command(rc, "-O", "-o", "demo", "main.rs")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rustc: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "demo")
	if out, err := exec.Command("readelf", "-S", bin).Output(); err == nil && !bytes.Contains(out, []byte(".dep-v0")) {
		t.Fatalf("the binary has no .dep-v0 section:\n%s", out)
	}
	checkRustPackages(t, bin)
}

// The same section added to a real Debian binary with binutils' objcopy.
func TestRustAuditableSectionObjcopy(t *testing.T) {
	if _, err := exec.LookPath("objcopy"); err != nil {
		t.Skip("objcopy not found")
	}
	dir := t.TempDir()
	z := filepath.Join(dir, "dep.z")
	os.WriteFile(z, zlibLevel7(t, []byte(cargoAuditableJSON)), 0o644)
	bin := filepath.Join(dir, "true")
	if out, err := exec.Command("objcopy", "--add-section", ".dep-v0="+z, "--set-section-flags", ".dep-v0=alloc,readonly,data", "/bin/true", bin).CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v\n%s", err, out)
	}
	checkRustPackages(t, bin)
}

func checkRustPackages(t *testing.T, bin string) {
	t.Helper()
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var want rustDeps
	json.Unmarshal([]byte(cargoAuditableJSON), &want)
	_, inv := scanLayers(t, []imagetest.File{{Path: "/usr/bin/demo", Content: string(data), Mode: 0o755}})
	got := pkgsOf(inv, "crates.io")
	for _, c := range want.Packages {
		ps := got[c.Name]
		if c.Kind == "build" {
			if len(ps) != 0 {
				t.Errorf("build-time crate %s reported", c.Name)
			}
			continue
		}
		if len(ps) != 1 || ps[0].Version != c.Version || ps[0].PURL != "pkg:cargo/"+c.Name+"@"+c.Version || ps[0].Path != "/usr/bin/demo" {
			t.Errorf("crate %s %s: %+v", c.Name, c.Version, ps)
		}
	}
	if len(got) != 3 {
		t.Errorf("%d crates: %v", len(got), got)
	}
}

// The compressed list split across the scanner's chunks, anywhere.
func TestRustDepsAcrossChunks(t *testing.T) {
	z := zlibLevel7(t, []byte(cargoAuditableJSON))
	for _, at := range []int{0, 100, 256<<10 - scanOverlap - 1, 256<<10 - scanOverlap, 256<<10 - 3, 256 << 10, 512<<10 + 7} {
		blob := append(bytes.Repeat([]byte{0x78, 0xda, 0}, at/3+1)[:at], z...)
		blob = append(blob, make([]byte, 4096)...)
		x, err := scanExecutable(bytes.NewReader(blob))
		if err != nil || x.rust == nil || len(x.rust.Packages) != 4 {
			t.Errorf("at %d: %+v %v", at, x.rust, err)
		}
	}
	// A stream that starts right but is cut short is an error, not a panic.
	cut := append(append([]byte{}, z[:len(z)/2]...), make([]byte, 2048)...)
	if _, err := scanExecutable(bytes.NewReader(cut)); err == nil {
		t.Error("a truncated dependency list must be reported")
	}
}

func FuzzScanExecutable(f *testing.F) {
	f.Add(zlibLevel7(f, []byte(cargoAuditableJSON)))
	f.Add(append([]byte("\x7fELF"), zlibLevel7(f, []byte(`{"packages":[{"name":"a","version":"1"}]}`))...))
	if data, err := os.ReadFile("/bin/true"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := scanExecutable(bytes.NewReader(data))
		if err == nil && x.rust != nil {
			rustPackages(x.rust)
		}
		goPackages(x.goVersion, x.goBuild)
	})
}
