package analyzer

import (
	"fmt"
	"io"
	"sort"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// Package types of the inventory.
const (
	typeLang   = "lang"
	typeBinary = "binary"
)

// found is what one version of one evidence file yielded.
type found struct {
	layer int
	pkgs  []inventory.Package
}

// langFound keeps, per evidence file, the packages parsed from its last
// version, so that Finish reports only files of the final filesystem. The
// catalogers parse during the walk and keep no file content.
type langFound struct {
	files map[string]found
}

// put records the packages read from f, replacing those of an older version.
func (l *langFound) put(f *imagefs.File, pkgs []inventory.Package) {
	if l.files == nil {
		l.files = map[string]found{}
	}
	for i := range pkgs {
		pkgs[i].Path, pkgs[i].Layer = f.Path, f.Layer
	}
	l.files[f.Path] = found{layer: f.Layer, pkgs: pkgs}
}

// current returns the evidence paths still present in the final filesystem, sorted.
func (l *langFound) current(fsys *imagefs.FS) []string {
	var out []string
	for p, got := range l.files {
		if fsys.IsCurrent(p, got.layer) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// emit adds the packages of current evidence files to the inventory, in path order.
func (l *langFound) emit(fsys *imagefs.FS, inv *inventory.Inventory) {
	for _, p := range l.current(fsys) {
		inv.Packages = append(inv.Packages, l.files[p].pkgs...)
	}
}

// readBounded reads all of r, failing when it holds more than limit bytes.
// The file's declared size is checked first so that nothing is read in vain.
func readBounded(f *imagefs.File, r io.Reader, limit int64) ([]byte, error) {
	if f.Size > limit {
		return nil, fmt.Errorf("file is %d bytes, over the %d-byte limit for this kind of file; skipped", f.Size, limit)
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("file is over the %d-byte limit for this kind of file; skipped", limit)
	}
	return data, nil
}

// purl builds a package URL of the ecosystem's purl type; an empty version
// is left out.
func purl(eco inventory.Ecosystem, namespace, name, version string) string {
	if name == "" {
		return ""
	}
	return packageurl.NewPackageURL(eco.PURLType(), namespace, name, version, nil, "").ToString()
}

// langPackage fills the fields every language package shares.
func langPackage(eco inventory.Ecosystem, name, version, purl string, licenses []string) inventory.Package {
	return inventory.Package{Name: name, Version: version, Type: typeLang, Ecosystem: string(eco), PURL: purl, Licenses: licenses}
}
