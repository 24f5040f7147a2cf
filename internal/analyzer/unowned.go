package analyzer

import (
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/license"
)

// unowned finds software that no package manager installed: vendor
// tarballs unpacked under /opt or /usr/local. Each top directory
// (/opt/NAME, /usr/local/lib/NAME, /usr/local/bin/FILE...) becomes one
// "unowned" file set in the inventory, with the licence of its LICENSE,
// COPYING or EULA file classified by its text (a vendor's "All rights
// reserved" is LicenseRef-proprietary), so that the SBOM lists it and the
// licence policy judges it.
type unowned struct {
	// texts are the licence files read, by path (the latest version).
	texts map[string]string
}

// unownedRoots are where unpacked software goes.
var unownedRoots = []string{"/opt/", "/usr/local/"}

const (
	maxLicenseText = 256 << 10
	maxUnownedSets = 1000
)

func isLicenseName(name string) bool {
	n := strings.ToUpper(name)
	for _, p := range []string{"LICENSE", "LICENCE", "COPYING", "EULA", "NOTICE", "COPYRIGHT"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

func underUnownedRoot(p string) bool {
	for _, r := range unownedRoots {
		if strings.HasPrefix(p, r) {
			return true
		}
	}
	return false
}

func (a *unowned) Want() imagefs.Want {
	return imagefs.Want{Match: func(f *imagefs.File) bool {
		return f.Size <= maxLicenseText && underUnownedRoot(f.Path) && isLicenseName(path.Base(f.Path))
	}}
}

func (a *unowned) Analyze(f *imagefs.File, r io.Reader) error {
	b, err := io.ReadAll(io.LimitReader(r, maxLicenseText))
	if err != nil {
		return err
	}
	if a.texts == nil {
		a.texts = map[string]string{}
	}
	a.texts[f.Path] = string(b)
	return nil
}

// setRoot is the file set a path belongs to: /opt/NAME,
// /usr/local/{lib,share,include,libexec,etc,src}/NAME, or /usr/local/X/FILE.
func setRoot(p string) string {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	switch {
	case len(parts) >= 3 && parts[0] == "opt":
		return "/opt/" + parts[1]
	case len(parts) >= 4 && parts[0] == "usr" && parts[1] == "local":
		return "/usr/local/" + parts[2] + "/" + parts[3]
	}
	return ""
}

func (a *unowned) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	// Directories that a language package found by another analyzer covers.
	covered := map[string]bool{}
	for _, p := range inv.Packages {
		if p.Type != "os" && p.Path != "" {
			covered[path.Dir(p.Path)] = true
			covered[p.Path] = true
		}
	}
	isCovered := func(p string) bool {
		for d := p; d != "/" && d != "."; d = path.Dir(d) {
			if covered[d] {
				return true
			}
		}
		return false
	}
	type set struct {
		files, layer int
		licenses     []string
		paths        []string
	}
	sets := map[string]*set{}
	var order []string
	_ = fsys.Walk(func(n *imagefs.Node) error {
		if n.Type == imagefs.TypeDir {
			if n.Path == "/opt" || n.Path == "/usr" || n.Path == "/usr/local" || strings.HasPrefix(n.Path, "/opt/") || strings.HasPrefix(n.Path, "/usr/local/") {
				return nil
			}
			return fs.SkipDir
		}
		if n.Type != imagefs.TypeRegular || !underUnownedRoot(n.Path) {
			return nil
		}
		if _, owned := inv.Owner(n.Path); owned || isCovered(n.Path) {
			return nil
		}
		root := setRoot(n.Path)
		if root == "" {
			return nil
		}
		s := sets[root]
		if s == nil {
			if len(sets) >= maxUnownedSets {
				return nil
			}
			s = &set{}
			sets[root] = s
			order = append(order, root)
		}
		s.files++
		s.layer = max(s.layer, n.Layer)
		if text, ok := a.texts[n.Path]; ok && isLicenseName(path.Base(n.Path)) {
			if id, ok := license.ClassifyText(text); ok {
				s.licenses = appendUnique(s.licenses, id)
				s.paths = append(s.paths, n.Path)
			}
		}
		return nil
	})
	sort.Strings(order)
	for _, root := range order {
		s := sets[root]
		name := path.Base(root)
		inv.Packages = append(inv.Packages, inventory.Package{Name: name, Type: "unowned", Ecosystem: string(inventory.Generic),
			PURL: "pkg:generic/" + name, Path: root, Layer: s.layer, Licenses: s.licenses, LicensePaths: s.paths})
	}
	return nil
}
