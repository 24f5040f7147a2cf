package analyzer

import (
	"bufio"
	"bytes"
	"io"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

const apkInstalled = "/lib/apk/db/installed"

// apk reads the Alpine package database.
type apk struct{ capture }

func (a *apk) Want() imagefs.Want { return imagefs.Want{Paths: []string{apkInstalled}} }

func (a *apk) Analyze(f *imagefs.File, r io.Reader) error { return a.keep(f, r) }

func (a *apk) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	data, p, layer, ok := a.get(fsys, apkInstalled)
	if !ok {
		return nil
	}
	inv.PackageDBs = append(inv.PackageDBs, p)
	for _, pkg := range ParseApkInstalled(data) {
		pkg.Path, pkg.Layer = p, layer
		inv.Packages = append(inv.Packages, pkg)
	}
	return nil
}

// ParseApkInstalled parses the "K:value" records of /lib/apk/db/installed.
func ParseApkInstalled(data []byte) []inventory.Package {
	var out []inventory.Package
	var cur inventory.Package
	flush := func() {
		if cur.Name != "" && cur.Version != "" {
			cur.Ecosystem = string(inventory.Apk)
			if cur.SourceName == "" {
				cur.SourceName = cur.Name
			}
			cur.SourceVersion = cur.Version
			out = append(out, cur)
		}
		cur = inventory.Package{}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			flush()
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			continue
		}
		v := string(line[2:])
		switch line[0] {
		case 'P':
			cur.Name = v
		case 'V':
			cur.Version = v
		case 'A':
			cur.Arch = v
		case 'o':
			cur.SourceName = v
		case 'L':
			if v != "" {
				cur.Licenses = []string{v}
			}
		}
	}
	flush()
	return out
}
