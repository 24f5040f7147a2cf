package analyzer

import (
	"path"
	"runtime/debug"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// goToolchainVersion turns the build info's toolchain ("go1.22.3",
// "go1.21.0 X:boringcrypto") into a version without the "go" prefix; a
// development toolchain ("devel go1.23-abc") gives "".
func goToolchainVersion(v string) string {
	f := strings.Fields(v)
	if len(f) == 0 || !strings.HasPrefix(f[0], "go") {
		return ""
	}
	return strings.TrimPrefix(f[0], "go")
}

// goPackages lists what a Go binary was built from: the main module, every
// dependency module (with replace directives applied) and the standard
// library as package "stdlib" at the toolchain's version, all in the "Go"
// ecosystem. A main module built without version control information has
// the version "(devel)": it is kept, with an empty version, so that the
// application itself is in the inventory. A dependency replaced by a local
// directory has no version either; it keeps its module path.
func goPackages(goVersion string, bi *debug.BuildInfo) []inventory.Package {
	var out []inventory.Package
	if bi != nil {
		if bi.Main.Path != "" {
			v := bi.Main.Version
			if v == "(devel)" {
				v = ""
			}
			out = append(out, goModule(bi.Main.Path, v))
		}
		for _, d := range bi.Deps {
			if d == nil || d.Path == "" {
				continue
			}
			p, v := d.Path, d.Version
			if r := d.Replace; r != nil {
				if r.Version == "" { // replaced by a directory
					v = ""
				} else {
					p, v = r.Path, r.Version
				}
			}
			out = append(out, goModule(p, v))
		}
	}
	if v := goToolchainVersion(goVersion); v != "" {
		out = append(out, goModule("stdlib", v))
	}
	return out
}

// goModule is one Go module as a package; the purl namespace is the module
// path up to its last element.
func goModule(mod, version string) inventory.Package {
	ns, name := path.Split(mod)
	return langPackage(inventory.Go, mod, version, purl(inventory.Go, strings.TrimSuffix(ns, "/"), name, version), nil)
}
