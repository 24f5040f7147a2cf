package inventory

import "testing"

// The spellings that coexisted before the typed ecosystem ("golang", "gem",
// "gems", "RubyGems", ...) all read as one constant, and each constant
// keeps the JSON value reports and SBOMs already carry.
func TestParseEcosystem(t *testing.T) {
	for in, want := range map[string]Ecosystem{
		"deb": Deb, "apk": Apk, "rpm": RPM, "generic": Generic,
		"Go": Go, "go": Go, "golang": Go,
		"npm": Npm, "node": Npm,
		"PyPI": PyPI, "pypi": PyPI, "pip": PyPI, "python": PyPI,
		"Maven": Maven, "java": Maven,
		"crates.io": CratesIO, "cargo": CratesIO, "rust": CratesIO,
		"RubyGems": RubyGems, "rubygems": RubyGems, "gem": RubyGems, "gems": RubyGems,
		"NuGet": NuGet, "dotnet": NuGet,
		"Packagist": Packagist, "composer": Packagist, "php": Packagist,
	} {
		if got, ok := ParseEcosystem(in); !ok || got != want {
			t.Errorf("ParseEcosystem(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := ParseEcosystem("cobol"); ok {
		t.Error("an unknown ecosystem parsed")
	}
	stable := map[Ecosystem]string{Deb: "deb", Apk: "apk", RPM: "rpm", Go: "Go", Npm: "npm", PyPI: "PyPI", Maven: "Maven",
		CratesIO: "crates.io", RubyGems: "RubyGems", NuGet: "NuGet", Packagist: "Packagist", Generic: "generic"}
	for e, v := range stable {
		if string(e) != v {
			t.Errorf("%s: JSON value changed to %q", v, e)
		}
	}
}

func TestEcosystemNames(t *testing.T) {
	for _, c := range []struct {
		e         Ecosystem
		osv, purl string
		os        bool
	}{
		{Deb, "", "deb", true}, {Apk, "", "apk", true}, {RPM, "", "rpm", true},
		{Go, "Go", "golang", false}, {Npm, "npm", "npm", false}, {PyPI, "PyPI", "pypi", false},
		{Maven, "Maven", "maven", false}, {CratesIO, "crates.io", "cargo", false},
		{RubyGems, "RubyGems", "gem", false}, {NuGet, "NuGet", "nuget", false},
		{Packagist, "Packagist", "composer", false}, {Generic, "", "generic", false},
	} {
		if c.e.OSVName() != c.osv || c.e.PURLType() != c.purl || c.e.IsOS() != c.os {
			t.Errorf("%s: OSV %q purl %q os %v", c.e, c.e.OSVName(), c.e.PURLType(), c.e.IsOS())
		}
	}
	if k := Go.Key("golang.org/x/net"); k != "golang/golang.org/x/net" {
		t.Errorf("Key = %q", k)
	}
	if k := (Package{Ecosystem: "golang"}).Eco(); k != Go {
		t.Errorf("Eco = %q", k)
	}
}
