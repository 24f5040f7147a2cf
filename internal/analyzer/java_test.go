package analyzer

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// testdata/java/atinject-jsr330-api-1.0.jar is Debian's
// libatinject-jsr330-api-java 1.0+ds1-5 jar (Apache-2.0): an OSGi manifest
// and no Maven metadata.

// zipOf writes a zip archive holding the entries, in order; stored entries
// are not compressed, as Spring Boot stores its nested jars.
func zipOf(t testing.TB, entries ...zipEntry) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		m := zip.Deflate
		if e.stored {
			m = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: m})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type zipEntry struct {
	name   string
	data   []byte
	stored bool
}

func mustRead(t testing.TB, p string) []byte {
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func parseJar(t *testing.T, data []byte) ([]inventory.Package, []string) {
	t.Helper()
	budget := int64(maxJarInflate)
	return ParseJavaArchive(data, "test.jar", &budget)
}

func TestJavaManifestOnly(t *testing.T) {
	pkgs, problems := parseJar(t, mustRead(t, "testdata/java/atinject-jsr330-api-1.0.jar"))
	if len(problems) != 0 || len(pkgs) != 1 {
		t.Fatalf("%+v %v", pkgs, problems)
	}
	p := pkgs[0]
	if p.Name != "javax.inject" || !strings.HasPrefix(p.Version, "1.0") || p.Ecosystem != "Maven" || p.PURL != "pkg:maven/javax.inject@"+p.Version {
		t.Errorf("%+v", p)
	}
}

// Debian's jackson-core jar has META-INF/maven/.../pom.properties: the
// artifact is named groupId:artifactId at the upstream version; dpkg's file
// list makes it disappear from the inventory.
func TestJavaDebianJar(t *testing.T) {
	d := deb(t, "libjackson2-core-java")
	_, inv := scanLayers(t, d.Layer(t, false))
	got := pkgsOf(inv, "Maven")["com.fasterxml.jackson.core:jackson-core"]
	// Only the regular file is read; the symlinks to it in /usr/share/java and the maven-repo are not.
	if len(got) != 1 || got[0].Version != d.Upstream() || got[0].PURL != "pkg:maven/com.fasterxml.jackson.core/jackson-core@"+d.Upstream() || !strings.HasPrefix(got[0].Path, "/usr/share/java/") {
		t.Fatalf("from %s %s: %+v", d.Name, d.Version, got)
	}
	_, inv = scanLayers(t, d.Layer(t, true))
	if got := pkgsOf(inv, "Maven"); len(got) != 0 {
		t.Errorf("owned by dpkg, still reported: %v", got)
	}
}

// Nested archives: an ear holding a war holding jars, as application
// servers and Spring Boot ship them.
func TestJavaNested(t *testing.T) {
	d := deb(t, "libjackson2-core-java")
	var jackson []byte
	for _, f := range d.Files {
		if strings.HasPrefix(f, "/usr/share/java/jackson-core-") {
			jackson = mustRead(t, filepath.Join(d.Root, f))
		}
	}
	atinject := mustRead(t, "testdata/java/atinject-jsr330-api-1.0.jar")
	war := zipOf(t,
		zipEntry{name: "WEB-INF/lib/jackson-core.jar", data: jackson, stored: true},
		zipEntry{name: "WEB-INF/lib/atinject.jar", data: atinject})
	ear := zipOf(t, zipEntry{name: "META-INF/MANIFEST.MF", data: []byte("Manifest-Version: 1.0\r\n\r\n")}, zipEntry{name: "app.war", data: war})
	_, inv := scanLayers(t, []imagetest.File{{Path: "/opt/app/app.ear", Content: string(ear)}})
	got := pkgsOf(inv, "Maven")
	if len(got["com.fasterxml.jackson.core:jackson-core"]) != 1 || len(got["javax.inject"]) != 1 || len(got) != 2 {
		t.Fatalf("%v", got)
	}
	for _, ps := range got {
		if ps[0].Path != "/opt/app/app.ear" {
			t.Errorf("evidence %s", ps[0].Path)
		}
	}
	// One level deeper than allowed: the innermost archive is skipped, with a warning.
	deep := zipOf(t, zipEntry{name: "x.ear", data: ear})
	pkgs, problems := parseJar(t, deep)
	if len(pkgs) != 0 || len(problems) != 2 || !strings.Contains(problems[0], "nested deeper") {
		t.Errorf("%v %v", pkgs, problems)
	}
	res, _ := scanLayers(t, []imagetest.File{{Path: "/opt/deep.jar", Content: string(deep)}})
	if len(res.Warnings) == 0 || res.Warnings[0].Path != "/opt/deep.jar" || res.Warnings[0].Layer != 0 {
		t.Errorf("warnings %+v", res.Warnings)
	}
}

// Zip bombs: an entry that inflates past its bound, and an archive whose
// nested archives would inflate past the budget.
func TestJavaZipBomb(t *testing.T) {
	bomb := zipOf(t, zipEntry{name: "META-INF/maven/g/a/pom.properties", data: bytes.Repeat([]byte("version=1\n"), 1<<20)})
	if len(bomb) > 64<<10 {
		t.Fatalf("not a bomb: %d bytes", len(bomb))
	}
	pkgs, problems := parseJar(t, bomb)
	if len(pkgs) != 0 || len(problems) != 1 || !strings.Contains(problems[0], "inflates to over") {
		t.Errorf("%v %v", pkgs, problems)
	}
	atinject := mustRead(t, "testdata/java/atinject-jsr330-api-1.0.jar")
	outer := zipOf(t, zipEntry{name: "lib/a.jar", data: atinject}, zipEntry{name: "lib/b.jar", data: atinject})
	budget := int64(len(atinject) + 1024) // one nested jar and its manifest
	pkgs, problems = ParseJavaArchive(outer, "outer.jar", &budget)
	if len(pkgs) != 1 || len(problems) != 1 || !strings.Contains(problems[0], "used up") {
		t.Errorf("budget for one nested jar: %v %v", pkgs, problems)
	}
}

// A jar over the in-memory limit is skipped without being read.
func TestJavaTooLarge(t *testing.T) {
	a := &java{}
	f := &imagefs.File{Path: "/app/huge.jar", Type: imagefs.TypeRegular, Size: maxJar + 1}
	err := a.Analyze(f, iotestErrReader{t})
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("%v", err)
	}
}

type iotestErrReader struct{ t *testing.T }

func (r iotestErrReader) Read([]byte) (int, error) {
	r.t.Error("an oversized jar must not be read")
	return 0, io.EOF
}

func TestZipEntryCount(t *testing.T) {
	data := mustRead(t, "testdata/java/atinject-jsr330-api-1.0.jar")
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := zipEntryCount(data); !ok || n != uint64(len(zr.File)) {
		t.Errorf("%d %v, want %d", n, ok, len(zr.File))
	}
}

func TestManifestContinuation(t *testing.T) {
	m := parseManifest([]byte("Manifest-Version: 1.0\r\nBundle-SymbolicName: org.example.a.very.long.bundle.name.that.wra\r\n ps.here;singleton:=true\r\nBundle-Version: 2.1.0\r\n\r\nName: x\r\nBundle-Version: 9\r\n"))
	p, ok := mavenFromManifest(m)
	if !ok || p.Name != "org.example.a.very.long.bundle.name.that.wraps.here" || p.Version != "2.1.0" {
		t.Errorf("%+v", p)
	}
}

func FuzzParseJavaArchive(f *testing.F) {
	f.Add(mustRead(f, "testdata/java/atinject-jsr330-api-1.0.jar"))
	f.Add(zipOf(f, zipEntry{name: "META-INF/maven/g/a/pom.properties", data: []byte("groupId=g\nartifactId=a\nversion=1\n")},
		zipEntry{name: "META-INF/maven/g/a/pom.xml", data: []byte("<project><licenses><license><name>MIT</name></license></licenses></project>")},
		zipEntry{name: "lib/x.jar", data: mustRead(f, "testdata/java/atinject-jsr330-api-1.0.jar")}))
	f.Fuzz(func(t *testing.T, data []byte) {
		budget := int64(16 << 20)
		pkgs, _ := ParseJavaArchive(data, "fuzz.jar", &budget)
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("%+v", p)
			}
		}
	})
}
