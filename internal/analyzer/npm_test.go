package analyzer

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

// testdata/npm/app is a real `npm install express@4.17.1 lodash@4.17.20
// minimist@1.2.5` (npm 11): its package-lock.json and the package.json of
// every installed package (send's nested node_modules/ms included).

// lockEntries decodes the lock file independently of the parser: the
// installed packages by install path.
func lockEntries(t *testing.T, file string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var l struct {
		Packages map[string]map[string]any `json:"packages"`
	}
	if err := json.Unmarshal(data, &l); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, e := range l.Packages {
		if k != "" {
			out["/srv/app/"+k+"/package.json"] = e["version"].(string)
		}
	}
	return out
}

func TestNpmNodeModules(t *testing.T) {
	want := lockEntries(t, "testdata/npm/app/package-lock.json")
	layer := hostTree(t, "testdata/npm/app", "/srv/app")
	_, inv := scanLayers(t, layer)
	got := pkgsOf(inv, "npm")
	n := 0
	for _, ps := range got {
		for _, p := range ps {
			n++
			if v, ok := want[p.Path]; !ok || v != p.Version {
				t.Errorf("%s %s at %s: the lock file says %q", p.Name, p.Version, p.Path, v)
			}
			if !strings.HasPrefix(p.PURL, "pkg:npm/"+p.Name+"@") || p.Type != "lang" || len(p.Licenses) == 0 {
				t.Errorf("fields: %+v", p)
			}
		}
	}
	if n != len(want) {
		t.Errorf("%d packages from node_modules, the lock file installs %d", n, len(want))
	}
	// Two versions of ms: the top-level one and send's nested one.
	if ms := got["ms"]; len(ms) != 2 || ms[0].Version == ms[1].Version {
		t.Errorf("ms: %+v", ms)
	}
	// The lock file of an app that has node_modules is not counted again.
	if len(got["express"]) != 1 {
		t.Errorf("express: %+v", got["express"])
	}
}

func TestNpmLockOnly(t *testing.T) {
	want := lockEntries(t, "testdata/npm/app/package-lock.json")
	_, inv := scanLayers(t, []imagetest.File{hostFile(t, "testdata/npm/app/package-lock.json", "/srv/app/package-lock.json", 0o644)})
	got := pkgsOf(inv, "npm")
	n := 0
	for name, ps := range got {
		for _, p := range ps {
			n++
			if p.Path != "/srv/app/package-lock.json" {
				t.Errorf("%s: path %s", name, p.Path)
			}
		}
	}
	if n != len(want) || len(got["express"]) != 1 || got["express"][0].Version != want["/srv/app/node_modules/express/package.json"] {
		t.Errorf("%d packages from the lock file, want %d; express %+v", n, len(want), got["express"])
	}
}

func TestNpmLockSkipsDevAndLinks(t *testing.T) {
	lock := `{"name":"x","lockfileVersion":3,"packages":{"":{"name":"x","version":"1.0.0"},
"node_modules/a":{"version":"1.0.0","license":"MIT"},
"node_modules/b":{"version":"2.0.0","dev":true},
"node_modules/w":{"resolved":"packages/w","link":true},
"packages/w":{"name":"w","version":"0.1.0"},
"node_modules/alias":{"name":"real","version":"3.0.0"},
"node_modules/@s/c":{"version":"4.0.0","license":"ISC"},
"node_modules/a/node_modules/@s/c":{"version":"5.0.0"}}}`
	pkgs, err := ParsePackageLock([]byte(lock))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pkgs {
		got = append(got, p.Name+"@"+p.Version+" "+p.PURL)
	}
	// In key order; the root project, the dev dependency and the workspace link are left out.
	want := []string{"@s/c@4.0.0 pkg:npm/%40s/c@4.0.0", "a@1.0.0 pkg:npm/a@1.0.0", "@s/c@5.0.0 pkg:npm/%40s/c@5.0.0", "real@3.0.0 pkg:npm/real@3.0.0"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// json-schema 0.2.3 (npm pack) declares its licenses in the legacy array form.
func TestNpmLegacyLicenses(t *testing.T) {
	data, err := os.ReadFile("testdata/npm/legacy/node_modules/json-schema/package.json")
	if err != nil {
		t.Fatal(err)
	}
	p, ok, err := ParsePackageJSON(data)
	if err != nil || !ok || p.Name != "json-schema" || p.Version != "0.2.3" || strings.Join(p.Licenses, ",") != "AFLv2.1,BSD" {
		t.Fatalf("%+v %v %v", p, ok, err)
	}
	for in, want := range map[string]string{
		`{"name":"a","version":"1","license":{"type":"MIT","url":"http://x"}}`: "MIT",
		`{"name":"a","version":"1","license":"(MIT OR Apache-2.0)"}`:           "(MIT OR Apache-2.0)",
		`{"name":"a","version":"1","licenses":["BSD","GPL"]}`:                  "BSD,GPL",
		`{"name":"a","version":"1","license":""}`:                              "",
	} {
		p, _, err := ParsePackageJSON([]byte(in))
		if err != nil || strings.Join(p.Licenses, ",") != want {
			t.Errorf("%s: %q %v", in, p.Licenses, err)
		}
	}
}

// A manifest inside a package (lib/package.json with only "type") is not a package.
func TestNpmInnerManifests(t *testing.T) {
	for p, want := range map[string]bool{
		"/app/node_modules/a/package.json":                 true,
		"/app/node_modules/@s/a/package.json":              true,
		"/app/node_modules/a/node_modules/b/package.json":  true,
		"/app/node_modules/a/lib/package.json":             false,
		"/app/package.json":                                false,
		"/usr/share/nodejs/lodash/package.json":            true,
		"/usr/share/nodejs/@types/lodash/package.json":     true,
		"/usr/share/nodejs/lodash/fp/package.json":         false,
		"/app/node_modules/@s/a/node_modules/package.json": false,
	} {
		if got := isInstalledPackageJSON(p); got != want {
			t.Errorf("%s: %v", p, got)
		}
	}
}

// Debian's node-lodash: reported when loose, dropped when dpkg owns it.
func TestNpmDebianOwned(t *testing.T) {
	d := deb(t, "node-lodash")
	_, inv := scanLayers(t, d.Layer(t, false))
	lodash := pkgsOf(inv, "npm")["lodash"]
	if len(lodash) != 1 || lodash[0].Version != strings.SplitN(d.Upstream(), "+", 2)[0] || lodash[0].Path != "/usr/share/nodejs/lodash/package.json" {
		t.Fatalf("lodash from %s %s: %+v", d.Name, d.Version, lodash)
	}
	_, inv = scanLayers(t, d.Layer(t, true))
	if got := pkgsOf(inv, "npm"); len(got) != 0 {
		t.Errorf("packages owned by %s still reported: %v", d.Name, got)
	}
}

func FuzzParseNpm(f *testing.F) {
	for _, p := range []string{"testdata/npm/app/package-lock.json", "testdata/npm/app/node_modules/express/package.json", "testdata/npm/legacy/node_modules/json-schema/package.json"} {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if p, ok, err := ParsePackageJSON(data); ok && (err != nil || p.Name == "" || p.Version == "") {
			t.Fatalf("%+v %v", p, err)
		}
		pkgs, _ := ParsePackageLock(data)
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("%+v", p)
			}
		}
	})
}
