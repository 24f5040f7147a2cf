package analyzer

import (
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// maxGemspec bounds one installed gem specification.
const maxGemspec = 1 << 20

// gem catalogs installed Ruby gems from the specifications RubyGems writes
// for each of them (<gem home>/specifications/<name>-<version>.gemspec,
// also Debian's /usr/share/rubygems-integration/*/specifications).
type gem struct{ langFound }

func (a *gem) Want() imagefs.Want {
	return imagefs.Want{Match: func(f *imagefs.File) bool {
		return strings.HasSuffix(f.Path, ".gemspec") && path.Base(path.Dir(f.Path)) == "specifications"
	}}
}

func (a *gem) Analyze(f *imagefs.File, r io.Reader) error {
	data, err := readBounded(f, r, maxGemspec)
	if err != nil {
		return err
	}
	var pkgs []inventory.Package
	if p, ok := ParseGemspec(data); ok {
		pkgs = append(pkgs, p)
	}
	a.put(f, pkgs)
	return nil
}

func (a *gem) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	a.emit(fsys, inv)
	return nil
}

// rubyString matches one Ruby string literal: "x", 'x' or %q{x}.
const rubyString = `(?:"([^"]*)"|'([^']*)'|%q\{([^}]*)\})`

var (
	gemName     = regexp.MustCompile(`(?m)^\s*\w+\.name\s*=\s*` + rubyString)
	gemVersion  = regexp.MustCompile(`(?m)^\s*\w+\.version\s*=\s*` + rubyString)
	gemLicenses = regexp.MustCompile(`(?m)^\s*\w+\.licenses?\s*=\s*(.*)$`)
	rubyStrings = regexp.MustCompile(rubyString)
)

// ParseGemspec reads name, version and licenses from an installed gem
// specification (Ruby code written by `gem install`: `s.name = "rack".freeze`,
// `s.licenses = ["MIT".freeze]`). ok is false without a name or version.
func ParseGemspec(data []byte) (inventory.Package, bool) {
	name, version := rubyLiteral(gemName.FindSubmatch(data)), rubyLiteral(gemVersion.FindSubmatch(data))
	if name == "" || version == "" {
		return inventory.Package{}, false
	}
	var lic []string
	if m := gemLicenses.FindSubmatch(data); m != nil {
		for _, s := range rubyStrings.FindAllSubmatch(m[1], -1) {
			if l := rubyLiteral(s); l != "" {
				lic = append(lic, l)
			}
		}
	}
	return langPackage(inventory.RubyGems, name, version, purl(inventory.RubyGems, "", name, version), lic), true
}

// rubyLiteral returns the content of the string literal a rubyString match captured.
func rubyLiteral(m [][]byte) string {
	for _, g := range m[min(1, len(m)):] {
		if len(g) > 0 {
			return strings.TrimSpace(string(g))
		}
	}
	return ""
}
