package analyzer

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

// Debian's ruby-rack installs a RubyGems specification; dpkg's list drops it.
func TestGemDebian(t *testing.T) {
	d := deb(t, "ruby-rack")
	_, inv := scanLayers(t, d.Layer(t, false))
	rack := pkgsOf(inv, "RubyGems")["rack"]
	if len(rack) != 1 || rack[0].Version != d.Upstream() || rack[0].PURL != "pkg:gem/rack@"+d.Upstream() || strings.Join(rack[0].Licenses, ",") != "MIT" {
		t.Fatalf("rack from %s %s: %+v", d.Name, d.Version, rack)
	}
	_, inv = scanLayers(t, d.Layer(t, true))
	if got := pkgsOf(inv, "RubyGems"); len(got) != 0 {
		t.Errorf("owned gem still reported: %v", got)
	}
}

func TestGemspecForms(t *testing.T) {
	for in, want := range map[string]string{
		"Gem::Specification.new do |s|\n  s.name = %q{json}\n  s.version = \"2.6.3\"\n  s.license = 'Ruby'\nend\n":                                             "json 2.6.3 Ruby",
		"Gem::Specification.new do |spec|\n  spec.name = 'a'.freeze\n  spec.version = '1.0'\n  spec.licenses = [\"MIT\".freeze, \"Apache-2.0\".freeze]\nend\n": "a 1.0 MIT,Apache-2.0",
	} {
		p, ok := ParseGemspec([]byte(in))
		if got := p.Name + " " + p.Version + " " + strings.Join(p.Licenses, ","); !ok || got != want {
			t.Errorf("%q: %q", in, got)
		}
	}
	if _, ok := ParseGemspec([]byte("s.version = \"1\"\n")); ok {
		t.Error("no name: not a package")
	}
}

// composerOracle decodes installed.json independently: name -> version.
func composerOracle(t *testing.T, file string) map[string]string {
	t.Helper()
	var v any
	if err := json.Unmarshal(mustRead(t, file), &v); err != nil {
		t.Fatal(err)
	}
	list, ok := v.([]any)
	if !ok {
		list = v.(map[string]any)["packages"].([]any)
	}
	out := map[string]string{}
	for _, e := range list {
		m := e.(map[string]any)
		out[m["name"].(string)] = m["version"].(string)
	}
	return out
}

// Real installed.json files of Debian packages, in Composer 1 and 2 layouts.
func TestComposerInstalled(t *testing.T) {
	for _, file := range []string{"testdata/composer/v1-installed.json", "testdata/composer/v2-installed.json"} {
		want := composerOracle(t, file)
		ip := "/var/www/app/vendor/composer/installed.json"
		_, inv := scanLayers(t, []imagetest.File{hostFile(t, file, ip, 0o644)})
		got := pkgsOf(inv, "Packagist")
		if len(got) != len(want) || len(want) < 5 {
			t.Errorf("%s: %d packages, want %d", file, len(got), len(want))
		}
		for name, v := range want {
			ps := got[name]
			if len(ps) != 1 || ps[0].Version != v || ps[0].Path != ip || !strings.HasPrefix(ps[0].PURL, "pkg:composer/"+name+"@") {
				t.Errorf("%s: %s %s: %+v", file, name, v, ps)
			}
		}
	}
	pkgs, _ := ParseComposerInstalled(mustRead(t, "testdata/composer/v1-installed.json"))
	for _, p := range pkgs {
		if len(p.Licenses) == 0 {
			t.Errorf("%s declares a license: %+v", p.Name, p)
		}
	}
}

// A real deps.json written by `dotnet build`: every library of type
// "package" is a NuGet package, projects are not.
func TestDotnetDepsJSON(t *testing.T) {
	file := "testdata/dotnet/TestLibrary.deps.json"
	var d struct {
		Libraries map[string]struct{ Type string } `json:"libraries"`
	}
	if err := json.Unmarshal(mustRead(t, file), &d); err != nil {
		t.Fatal(err)
	}
	want, projects := map[string]string{}, 0
	for k, l := range d.Libraries {
		if l.Type == "package" {
			name, v, _ := strings.Cut(k, "/")
			want[name] = v
		} else {
			projects++
		}
	}
	if projects == 0 || len(want) == 0 {
		t.Fatalf("test data should hold both kinds: %d projects, %d packages", projects, len(want))
	}
	ip := "/app/TestLibrary.deps.json"
	_, inv := scanLayers(t, []imagetest.File{hostFile(t, file, ip, 0o644)})
	got := pkgsOf(inv, "NuGet")
	if len(got) != len(want) {
		t.Errorf("%d packages, want %d", len(got), len(want))
	}
	for name, v := range want {
		if ps := got[name]; len(ps) != 1 || ps[0].Version != v || ps[0].PURL != "pkg:nuget/"+name+"@"+v {
			t.Errorf("%s %s: %+v", name, v, ps)
		}
	}
}

func FuzzParseGemComposerDotnet(f *testing.F) {
	for _, p := range []string{"testdata/composer/v1-installed.json", "testdata/composer/v2-installed.json", "testdata/dotnet/TestLibrary.deps.json"} {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("Gem::Specification.new do |s|\n  s.name = \"rack\".freeze\n  s.version = \"2.2.22\"\n  s.licenses = [\"MIT\".freeze]\nend\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if p, ok := ParseGemspec(data); ok && (p.Name == "" || p.Version == "") {
			t.Fatalf("%+v", p)
		}
		ps, _ := ParseComposerInstalled(data)
		ds, _ := ParseDepsJSON(data)
		for _, p := range append(ps, ds...) {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("%+v", p)
			}
		}
	})
}
