package analyzer

import (
	"bufio"
	"bytes"
	"io"
	"path"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

func init() { Register("dpkg", func() Analyzer { return &dpkg{} }) }

const dpkgStatus = "/var/lib/dpkg/status"

// dpkg reads the Debian package database, including distroless-style
// /var/lib/dpkg/status.d/ where each package has its own file.
type dpkg struct{ capture }

func (a *dpkg) Want() imagefs.Want {
	return imagefs.Want{Paths: []string{dpkgStatus}, Globs: []string{"/var/lib/dpkg/status.d/*"}}
}

func (a *dpkg) Analyze(f *imagefs.File, r io.Reader) error {
	if path.Dir(f.Path) == "/var/lib/dpkg/status.d" && strings.Contains(path.Base(f.Path), ".") {
		return nil // .md5sums and the like
	}
	return a.keep(f, r)
}

func (a *dpkg) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	for _, p := range a.current(fsys) {
		got := a.files[p]
		inv.PackageDBs = append(inv.PackageDBs, p)
		for _, pkg := range ParseDpkgStatus(got.data) {
			pkg.Path, pkg.Layer = p, got.layer
			inv.Packages = append(inv.Packages, pkg)
		}
	}
	return nil
}

// ParseDpkgStatus parses dpkg status paragraphs and returns the installed packages.
func ParseDpkgStatus(data []byte) []inventory.Package {
	var out []inventory.Package
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	cur := map[string]string{}
	flush := func() {
		defer func() { cur = map[string]string{} }()
		name, version := cur["Package"], cur["Version"]
		if name == "" || version == "" {
			return
		}
		if st, ok := cur["Status"]; ok && !strings.HasSuffix(st, " installed") {
			return
		}
		p := inventory.Package{Name: name, Version: version, Ecosystem: "deb", Arch: cur["Architecture"], SourceName: name, SourceVersion: version}
		if src := cur["Source"]; src != "" {
			sn, sv, ok := strings.Cut(src, " ")
			p.SourceName = sn
			if ok {
				p.SourceVersion = strings.Trim(strings.TrimSpace(sv), "()")
			}
		}
		out = append(out, p)
	}
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue // continuation of a multi-line field
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		cur[k] = strings.TrimSpace(v)
	}
	flush()
	return out
}
