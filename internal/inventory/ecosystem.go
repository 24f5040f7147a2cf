package inventory

import "strings"

// Ecosystem is the packaging world of a package: the package manager of an
// OS package ("deb", "apk", "rpm") or a language's registry ("Go", "npm",
// "PyPI", ...). Its values are what reports and SBOMs show in their
// "ecosystem" fields, and are kept stable: OS package managers in lower
// case, language registries spelt as their OSV ecosystem.
//
// This is the one place that maps an ecosystem to its OSV ecosystem
// (OSVName) and its purl type (PURLType); the analyzers, vulndb and sbom use
// these constants and methods rather than their own strings.
type Ecosystem string

// The ecosystems the analyzers report.
const (
	Deb       Ecosystem = "deb"
	Apk       Ecosystem = "apk"
	RPM       Ecosystem = "rpm"
	Go        Ecosystem = "Go"
	Npm       Ecosystem = "npm"
	PyPI      Ecosystem = "PyPI"
	Maven     Ecosystem = "Maven"
	CratesIO  Ecosystem = "crates.io"
	RubyGems  Ecosystem = "RubyGems"
	NuGet     Ecosystem = "NuGet"
	Packagist Ecosystem = "Packagist"
	Pub       Ecosystem = "Pub"
	Hex       Ecosystem = "Hex"
	Hackage   Ecosystem = "Hackage"
	CRAN      Ecosystem = "CRAN"
	// Generic is software recognised from files (a runtime's binary), with
	// no package manager.
	Generic Ecosystem = "generic"
)

type ecoInfo struct {
	osv, purl string
	os        bool
}

var ecosystems = map[Ecosystem]ecoInfo{
	Deb:       {purl: "deb", os: true},
	Apk:       {purl: "apk", os: true},
	RPM:       {purl: "rpm", os: true},
	Go:        {osv: "Go", purl: "golang"},
	Npm:       {osv: "npm", purl: "npm"},
	PyPI:      {osv: "PyPI", purl: "pypi"},
	Maven:     {osv: "Maven", purl: "maven"},
	CratesIO:  {osv: "crates.io", purl: "cargo"},
	RubyGems:  {osv: "RubyGems", purl: "gem"},
	NuGet:     {osv: "NuGet", purl: "nuget"},
	Packagist: {osv: "Packagist", purl: "composer"},
	Pub:       {osv: "Pub", purl: "pub"},
	Hex:       {osv: "Hex", purl: "hex"},
	Hackage:   {osv: "Hackage", purl: "hackage"},
	CRAN:      {osv: "CRAN", purl: "cran"},
	Generic:   {purl: "generic"},
}

// aliases are other spellings of ecosystems met in inventories written by
// older versions, in SBOMs and in users' input; lower case.
var aliases = map[string]Ecosystem{
	"dpkg": Deb, "debian": Deb, "alpine": Apk,
	"golang": Go, "node": Npm, "nodejs": Npm, "python": PyPI, "pip": PyPI,
	"java": Maven, "cargo": CratesIO, "rust": CratesIO,
	"gem": RubyGems, "gems": RubyGems, "ruby": RubyGems,
	"dotnet": NuGet, "composer": Packagist, "php": Packagist,
}

// ParseEcosystem reads an ecosystem name in any of its usual spellings
// ("golang", "gem", "RubyGems", "cargo", "pkg:pypi" types, any case); ok is
// false for an unknown name.
func ParseEcosystem(s string) (Ecosystem, bool) {
	s = strings.TrimSpace(s)
	if _, ok := ecosystems[Ecosystem(s)]; ok {
		return Ecosystem(s), true
	}
	l := strings.ToLower(s)
	for e, info := range ecosystems {
		if strings.ToLower(string(e)) == l || info.purl == l {
			return e, true
		}
	}
	if e, ok := aliases[l]; ok {
		return e, true
	}
	return Ecosystem(s), false
}

// Known says the ecosystem is one of the constants.
func (e Ecosystem) Known() bool { _, ok := ecosystems[e]; return ok }

// IsOS says the ecosystem is an OS package manager, whose OSV ecosystem
// depends on the OS release ("Debian:12").
func (e Ecosystem) IsOS() bool { return ecosystems[e].os }

// OSVName is the OSV ecosystem of a language ecosystem ("Go", "npm",
// "crates.io"); "" for OS package managers (see IsOS: the OSV ecosystem
// names the distribution and release) and for generic software.
func (e Ecosystem) OSVName() string { return ecosystems[e].osv }

// PURLType is the package-URL type (https://github.com/package-url/purl-spec):
// "deb", "apk", "rpm", "golang", "npm", "pypi", "maven", "cargo", "gem",
// "nuget", "composer", ...; "" for an unknown ecosystem.
func (e Ecosystem) PURLType() string { return ecosystems[e].purl }

// Eco returns the package's ecosystem as the typed value, reading older
// spellings ("golang", "gem") too.
func (p Package) Eco() Ecosystem {
	e, _ := ParseEcosystem(p.Ecosystem)
	return e
}

// Key names a package within its ecosystem, independently of where it was
// found: "<purl type>/<name>" ("deb/glibc", "golang/golang.org/x/net",
// "npm/lodash", "pypi/requests"). For OS packages the name given is
// usually the source package that advisories name.
func (e Ecosystem) Key(name string) string {
	t := e.PURLType()
	if t == "" {
		t = strings.ToLower(string(e))
	}
	if t == "" {
		return name
	}
	return t + "/" + name
}
