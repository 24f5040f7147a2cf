package analyzer

import (
	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/license"
)

// attachLicenses runs after every analyzer has finished. It gives each Debian
// package the licenses of its /usr/share/doc/<name>/copyright file (and the
// file's path), then normalises every package's declared licenses (Debian
// short names, apk L: fields, the language catalogers' raw strings) to SPDX
// expressions. A declared string that does not map to the SPDX License List
// is kept as written; license.IsSPDX tells the two apart.
func attachLicenses(as []Analyzer, fsys *imagefs.FS, inv *inventory.Inventory) {
	var cr *dpkgCopyright
	for _, a := range as {
		if c, ok := a.(*dpkgCopyright); ok {
			cr = c
		}
	}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if p.Eco() == inventory.Deb && cr != nil && len(p.Licenses) == 0 {
			if lics, path, ok := cr.lookup(fsys, p.Name); ok {
				p.Licenses = lics
				p.LicensePaths = appendUnique(p.LicensePaths, path)
			}
		}
		p.Licenses = license.NormalizeAll(p.Licenses)
	}
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}
