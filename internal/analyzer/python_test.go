package analyzer

import (
	"bytes"
	"io"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

// testdata/python holds real wheel METADATA files (pip installs, MIT and
// BSD licensed projects): one with License-Expression (PEP 639), one with
// only a license classifier, one whose License field is the whole license text.

func TestPythonMetadataReal(t *testing.T) {
	for file, want := range map[string]string{
		"mypy_extensions-1.1.0.METADATA": "MIT",
		"blinker-1.9.0.METADATA":         "License :: OSI Approved :: MIT License",
		"traitlets-5.15.0.METADATA":      "License :: OSI Approved :: BSD License",
	} {
		f, err := os.Open("testdata/python/" + file)
		if err != nil {
			t.Fatal(err)
		}
		p, ok, err := ParsePythonMetadata(f)
		f.Close()
		name, version, _ := strings.Cut(strings.TrimSuffix(file, ".METADATA"), "-")
		if err != nil || !ok || p.Name != name || p.Version != version || p.Ecosystem != "PyPI" {
			t.Errorf("%s: %+v %v %v", file, p, ok, err)
		}
		if strings.Join(p.Licenses, "|") != want {
			t.Errorf("%s: licenses %q, want %q", file, p.Licenses, want)
		}
	}
}

func TestPythonPurlNormalised(t *testing.T) {
	p, ok, _ := ParsePythonMetadata(strings.NewReader("Metadata-Version: 2.1\nName: Typing_Extensions.X\nVersion: 4.9.0\n\nbody"))
	if !ok || p.PURL != "pkg:pypi/typing-extensions-x@4.9.0" || p.Name != "Typing_Extensions.X" {
		t.Errorf("%+v", p)
	}
}

// countReader counts the bytes read from it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// endless yields a header that never ends, then a single huge line.
type endless struct{ line []byte }

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.line[i%len(e.line)]
	}
	return len(p), nil
}

// A 500 MB METADATA is never read whole: the header read stops at its bound.
func TestPythonMetadataBounded(t *testing.T) {
	for _, line := range []string{"Classifier: License :: OSI Approved :: MIT License\n", "Description: " + strings.Repeat("x", 4096)} {
		head := "Metadata-Version: 2.1\nName: big\nVersion: 1.0\n"
		cr := &countReader{r: io.MultiReader(strings.NewReader(head), io.LimitReader(endless{[]byte(line)}, 500<<20))}
		p, ok, err := ParsePythonMetadata(cr)
		if err != nil || !ok || p.Name != "big" {
			t.Errorf("%+v %v %v", p, ok, err)
		}
		if cr.n > maxMetadataHeader+64<<10 {
			t.Errorf("read %d bytes of a 500 MB file", cr.n)
		}
	}
	// The description after the blank line is not read at all.
	body := bytes.Repeat([]byte("description\n"), 1<<20)
	cr := &countReader{r: io.MultiReader(strings.NewReader("Name: a\nVersion: 1\n\n"), bytes.NewReader(body))}
	if _, ok, _ := ParsePythonMetadata(cr); !ok || cr.n > 128<<10 {
		t.Errorf("ok %v, read %d bytes", ok, cr.n)
	}
}

func TestPythonWantedPaths(t *testing.T) {
	for p, want := range map[string]bool{
		"/usr/local/lib/python3.12/site-packages/requests-2.31.0.dist-info/METADATA": true,
		"/usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO":           true,
		"/usr/lib/python3/dist-packages/six-1.16.0.egg-info":                         true,
		"/usr/lib/python3/dist-packages/foo/six-1.16.0.egg-info":                     false,
		"/app/requests-2.31.0.dist-info/METADATA":                                    false,
		"/usr/local/lib/python3.12/site-packages/x.dist-info/RECORD":                 false,
	} {
		if got := isPythonMetadata(p); got != want {
			t.Errorf("%s: %v", p, got)
		}
	}
}

// Debian's python3-requests: its egg-info is reported when the files lie
// loose, and dropped when dpkg owns them; a copy outside dpkg's list stays.
func TestPythonDebianOwned(t *testing.T) {
	d := deb(t, "python3-requests")
	_, inv := scanLayers(t, d.Layer(t, false))
	req := pkgsOf(inv, "PyPI")["requests"]
	if len(req) != 1 || req[0].Version != d.Upstream() || !strings.HasSuffix(req[0].Path, ".egg-info/PKG-INFO") || req[0].PURL != "pkg:pypi/requests@"+d.Upstream() || len(req[0].Licenses) == 0 {
		t.Fatalf("requests from %s %s: %+v", d.Name, d.Version, req)
	}
	layer := d.Layer(t, true)
	info := req[0].Path
	copyPath := "/usr/local/lib/python3.11/dist-packages/" + path.Base(path.Dir(info)) + "/PKG-INFO"
	for _, f := range layer {
		if f.Path == info {
			layer = append(layer, imagetest.Text(copyPath, f.Content))
		}
	}
	_, inv = scanLayers(t, layer)
	req = pkgsOf(inv, "PyPI")["requests"]
	if len(req) != 1 || req[0].Path != copyPath {
		t.Errorf("with dpkg's list only the copy must stay: %+v", req)
	}
}

func FuzzParsePythonMetadata(f *testing.F) {
	for _, p := range []string{"mypy_extensions-1.1.0.METADATA", "blinker-1.9.0.METADATA", "traitlets-5.15.0.METADATA"} {
		if data, err := os.ReadFile("testdata/python/" + p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, ok, err := ParsePythonMetadata(bytes.NewReader(data))
		if ok && (err != nil || p.Name == "" || p.Version == "") {
			t.Fatalf("%+v %v", p, err)
		}
	})
}
