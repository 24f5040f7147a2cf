package analyzer

import (
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"
	_ "modernc.org/sqlite" // the SQLite driver go-rpmdb opens rpmdb.sqlite with

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// rpmPaths are where RPM distributions keep their package database: Berkeley
// DB (Packages, up to RHEL/CentOS 8), NDB (Packages.db, SUSE) and SQLite
// (rpmdb.sqlite, Fedora 33+, RHEL 9, Mariner), old and new locations.
var rpmPaths = []string{
	"/var/lib/rpm/Packages", "/var/lib/rpm/Packages.db", "/var/lib/rpm/rpmdb.sqlite",
	"/usr/lib/sysimage/rpm/Packages", "/usr/lib/sysimage/rpm/Packages.db", "/usr/lib/sysimage/rpm/rpmdb.sqlite",
}

// maxRPMDB bounds an RPM database held in memory (large distributions' BDB
// files reach a few hundred MiB only with thousands of packages).
const maxRPMDB = 256 << 20

// rpm reads the RPM package database with go-rpmdb (pure Go: BDB, NDB and
// SQLite through modernc.org/sqlite).
type rpm struct{ files map[string]captured }

func (a *rpm) Want() imagefs.Want { return imagefs.Want{Paths: rpmPaths} }

func (a *rpm) Analyze(f *imagefs.File, r io.Reader) error {
	if f.Size > maxRPMDB {
		return fmt.Errorf("RPM database of %d bytes, over the %d-byte limit; skipped", f.Size, maxRPMDB)
	}
	data, err := io.ReadAll(io.LimitReader(r, maxRPMDB))
	if err != nil {
		return err
	}
	if a.files == nil {
		a.files = map[string]captured{}
	}
	a.files[f.Path] = captured{layer: f.Layer, data: data}
	return nil
}

func (a *rpm) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	var errs []string
	for _, p := range rpmPaths {
		got, ok := a.files[p]
		if !ok || !fsys.IsCurrent(p, got.layer) {
			continue
		}
		pkgs, err := readRPMDB(got.data, path.Base(p))
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s (layer %d): %v", p, got.layer, err))
			continue
		}
		inv.PackageDBs = append(inv.PackageDBs, p)
		if inv.Owned == nil {
			inv.Owned = map[string]string{}
		}
		for _, pi := range pkgs {
			inv.Packages = append(inv.Packages, rpmPackage(pi, p, got.layer))
			files, _ := pi.InstalledFileNames()
			for _, f := range files {
				inv.Owned[path.Clean(f)] = pi.Name
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("unreadable RPM database: %s", strings.Join(errs, "; "))
	}
	return nil
}

// readRPMDB parses one database. go-rpmdb opens databases by path (SQLite
// needs a file), so the bytes go to a private temporary file that is removed
// at once: the only file shipshape writes while judging an image.
func readRPMDB(data []byte, name string) ([]*rpmdb.PackageInfo, error) {
	dir, err := os.MkdirTemp("", "shipshape-rpmdb-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	file := path.Join(dir, name)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		return nil, err
	}
	db, err := rpmdb.Open(file)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.ListPackages()
}

// rpmPackage converts one header; the version is [epoch:]version-release as
// RPM compares it, the source package comes from the source RPM's file name.
func rpmPackage(pi *rpmdb.PackageInfo, dbPath string, layer int) inventory.Package {
	version := pi.Version + "-" + pi.Release
	if pi.Epoch != nil && *pi.Epoch != 0 {
		version = fmt.Sprintf("%d:%s", *pi.Epoch, version)
	}
	p := inventory.Package{
		Name: pi.Name, Version: version, Ecosystem: string(inventory.RPM), Type: "os", Arch: pi.Arch,
		SourceName: pi.Name, SourceVersion: version, Path: dbPath, Layer: layer,
	}
	if src := strings.TrimSuffix(pi.SourceRpm, ".src.rpm"); src != "" && src != "(none)" {
		// name-version-release: the name is what precedes the last two dashes.
		if i := strings.LastIndex(src, "-"); i > 0 {
			if j := strings.LastIndex(src[:i], "-"); j > 0 {
				p.SourceName = src[:j]
			}
		}
	}
	if pi.License != "" {
		p.Licenses = []string{pi.License}
	}
	return p
}
