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

const dpkgStatus = "/var/lib/dpkg/status"

// dpkg reads the Debian package database, including distroless-style
// /var/lib/dpkg/status.d/ where each package has its own file. Every layer's
// version of the status file is remembered (names and versions only), so that
// each package is attributed to the layer that installed its current version.
type dpkg struct {
	capture
	history []dpkgLayer
}

// dpkgLayer is what one layer's status file had installed.
type dpkgLayer struct {
	layer int
	pkgs  map[string]string
}

func (a *dpkg) Want() imagefs.Want {
	return imagefs.Want{Paths: []string{dpkgStatus}, Globs: []string{"/var/lib/dpkg/status.d/*"}}
}

func (a *dpkg) Analyze(f *imagefs.File, r io.Reader) error {
	if path.Dir(f.Path) == "/var/lib/dpkg/status.d" && strings.Contains(path.Base(f.Path), ".") {
		return nil // .md5sums and the like
	}
	if err := a.keep(f, r); err != nil {
		return err
	}
	if f.Path == dpkgStatus {
		set := map[string]string{}
		for _, p := range ParseDpkgStatus(a.files[f.Path].data) {
			set[p.Name] = p.Version
		}
		if n := len(a.history); n > 0 && a.history[n-1].layer == f.Layer {
			a.history = a.history[:n-1]
		}
		a.history = append(a.history, dpkgLayer{layer: f.Layer, pkgs: set})
	}
	return nil
}

// introduced returns the earliest layer from which name has been installed
// at version without interruption up to the final layer's status file.
func (a *dpkg) introduced(name, version string, final int) int {
	layer := final
	for i := len(a.history) - 1; i >= 0; i-- {
		h := a.history[i]
		if h.layer > final {
			continue
		}
		if h.pkgs[name] != version {
			break
		}
		layer = h.layer
	}
	return layer
}

func (a *dpkg) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	for _, p := range a.current(fsys) {
		got := a.files[p]
		inv.PackageDBs = append(inv.PackageDBs, p)
		for _, pkg := range ParseDpkgStatus(got.data) {
			pkg.Path, pkg.Layer = p, got.layer
			if p == dpkgStatus {
				pkg.Layer = a.introduced(pkg.Name, pkg.Version, got.layer)
			}
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
		p := inventory.Package{Name: name, Version: version, Ecosystem: string(inventory.Deb), Arch: cur["Architecture"], SourceName: name, SourceVersion: version}
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
