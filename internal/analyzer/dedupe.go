package analyzer

import (
	"strings"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// DedupeOwned drops the language and binary packages, and the runtimes,
// whose evidence file an OS package installed (Debian's python3-* egg-info
// and node-* package.json files, a Go or Rust binary in /usr/bin, Debian's
// own nodejs or python3.11): the OS package already stands for them, and
// its security support is the distribution's. It runs after every
// analyzer's Finish, once inv.Owned is complete. Paths are compared with
// and without the /usr prefix, since a merged-/usr image holds under
// /usr/bin what a package list names /bin.
func DedupeOwned(inv *inventory.Inventory) {
	if len(inv.Owned) == 0 {
		return
	}
	kept := inv.Packages[:0]
	for _, p := range inv.Packages {
		if (p.Type == typeLang || p.Type == typeBinary) && ownedPath(inv, p.Path) {
			continue
		}
		kept = append(kept, p)
	}
	clear(inv.Packages[len(kept):])
	inv.Packages = kept
	rts := inv.Runtimes[:0]
	for _, r := range inv.Runtimes {
		if r.Path != "" && ownedPath(inv, r.Path) {
			continue
		}
		rts = append(rts, r)
	}
	clear(inv.Runtimes[len(rts):])
	inv.Runtimes = rts
}

// mergedUsr are the top-level directories that merged-/usr links into /usr.
var mergedUsr = []string{"/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/"}

// ownedPath reports whether an OS package installed p, under either of its merged-/usr names.
func ownedPath(inv *inventory.Inventory, p string) bool {
	if _, ok := inv.Owner(p); ok {
		return true
	}
	for _, d := range mergedUsr {
		if rest, ok := strings.CutPrefix(p, "/usr"+d); ok {
			_, ok := inv.Owner(d + rest)
			return ok
		}
		if rest, ok := strings.CutPrefix(p, d); ok {
			_, ok := inv.Owner("/usr" + d + rest)
			return ok
		}
	}
	return false
}
