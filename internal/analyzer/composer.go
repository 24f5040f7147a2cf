package analyzer

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// maxInstalledJSON bounds one vendor/composer/installed.json.
const maxInstalledJSON = 64 << 20

// composer catalogs PHP packages that Composer installed, from
// vendor/composer/installed.json (Composer 1: an array of packages;
// Composer 2: {"packages": [...]}).
type composer struct{ langFound }

func (a *composer) Want() imagefs.Want {
	return imagefs.Want{Match: func(f *imagefs.File) bool {
		return strings.HasSuffix(f.Path, "/vendor/composer/installed.json")
	}}
}

func (a *composer) Analyze(f *imagefs.File, r io.Reader) error {
	data, err := readBounded(f, r, maxInstalledJSON)
	if err != nil {
		return err
	}
	pkgs, err := ParseComposerInstalled(data)
	if err != nil {
		return err
	}
	a.put(f, pkgs)
	return nil
}

func (a *composer) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	a.emit(fsys, inv)
	return nil
}

// composerPackage holds the fields of one installed package that matter here.
type composerPackage struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	License json.RawMessage `json:"license"`
}

// ParseComposerInstalled lists the packages of an installed.json in either layout.
func ParseComposerInstalled(data []byte) ([]inventory.Package, error) {
	var list []composerPackage
	if err := json.Unmarshal(data, &list); err != nil {
		var v2 struct {
			Packages []composerPackage `json:"packages"`
		}
		if err2 := json.Unmarshal(data, &v2); err2 != nil {
			return nil, fmt.Errorf("decoding installed.json: %w", err2)
		}
		list = v2.Packages
	}
	var out []inventory.Package
	for _, p := range list {
		if p.Name == "" || p.Version == "" {
			continue
		}
		ns, n, _ := strings.Cut(p.Name, "/")
		if n == "" {
			ns, n = "", ns
		}
		out = append(out, langPackage(inventory.Packagist, p.Name, p.Version, purl(inventory.Packagist, ns, n, p.Version), npmLicenses(p.License)))
	}
	return out, nil
}
