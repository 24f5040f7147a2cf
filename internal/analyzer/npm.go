package analyzer

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
)

const (
	// maxPackageJSON bounds one package.json (old npm versions inlined the README).
	maxPackageJSON = 8 << 20
	// maxPackageLock bounds one package-lock.json.
	maxPackageLock = maxCapture
)

// npm catalogs Node.js packages: the package.json of every installed package
// (node_modules at any depth, and Debian's /usr/share/nodejs and
// /usr/lib/nodejs trees), and, for applications shipped without
// node_modules, the `packages` map of package-lock.json v2 and v3.
type npm struct {
	installed langFound
	locks     langFound
}

func (a *npm) Want() imagefs.Want {
	return imagefs.Want{Match: func(f *imagefs.File) bool {
		switch path.Base(f.Path) {
		case "package.json":
			return isInstalledPackageJSON(f.Path)
		case "package-lock.json":
			return !strings.Contains(f.Path, "/node_modules/")
		}
		return false
	}}
}

// isInstalledPackageJSON reports whether p is the manifest of an installed
// package: <root>/<name>/package.json or <root>/@scope/<name>/package.json,
// where root is a node_modules directory or one of Debian's Node.js trees.
// Manifests deeper inside a package (lib/package.json) do not count.
func isInstalledPackageJSON(p string) bool {
	dir := path.Dir(path.Dir(p))
	if strings.HasPrefix(path.Base(dir), "@") {
		dir = path.Dir(dir)
	}
	return path.Base(dir) == "node_modules" || dir == "/usr/share/nodejs" || dir == "/usr/lib/nodejs"
}

func (a *npm) Analyze(f *imagefs.File, r io.Reader) error {
	if path.Base(f.Path) == "package-lock.json" {
		data, err := readBounded(f, r, maxPackageLock)
		if err != nil {
			return err
		}
		pkgs, err := ParsePackageLock(data)
		if err != nil {
			return err
		}
		a.locks.put(f, pkgs)
		return nil
	}
	data, err := readBounded(f, r, maxPackageJSON)
	if err != nil {
		return err
	}
	pkg, ok, err := ParsePackageJSON(data)
	if err != nil {
		return err
	}
	var pkgs []inventory.Package
	if ok {
		pkgs = append(pkgs, pkg)
	}
	a.installed.put(f, pkgs)
	return nil
}

// Finish reports the installed packages, and the lock files of directories
// that have no node_modules in the final filesystem.
func (a *npm) Finish(fsys *imagefs.FS, inv *inventory.Inventory) error {
	a.installed.emit(fsys, inv)
	for _, p := range a.locks.current(fsys) {
		if n, _, err := fsys.Stat(path.Join(path.Dir(p), "node_modules")); err == nil && n.Type == imagefs.TypeDir {
			continue
		}
		inv.Packages = append(inv.Packages, a.locks.files[p].pkgs...)
	}
	return nil
}

// packageJSON holds the fields of package.json that matter here.
type packageJSON struct {
	Name     string          `json:"name"`
	Version  string          `json:"version"`
	License  json.RawMessage `json:"license"`
	Licenses json.RawMessage `json:"licenses"`
}

// ParsePackageJSON reads an installed package's manifest. ok is false when
// it has no name or version (a manifest that only sets "type", say).
func ParsePackageJSON(data []byte) (inventory.Package, bool, error) {
	var m packageJSON
	if err := json.Unmarshal(data, &m); err != nil {
		return inventory.Package{}, false, fmt.Errorf("decoding package.json: %w", err)
	}
	if m.Name == "" || m.Version == "" {
		return inventory.Package{}, false, nil
	}
	lic := npmLicenses(m.License)
	if len(lic) == 0 {
		lic = npmLicenses(m.Licenses)
	}
	return npmPackage(m.Name, m.Version, lic), true, nil
}

// npmLicenses reads a license field in any of its forms: "MIT", the legacy
// {"type": "MIT", "url": ...}, or an array of either.
func npmLicenses(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s = strings.TrimSpace(s); s != "" {
			return []string{s}
		}
		return nil
	}
	var obj struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		if t := strings.TrimSpace(obj.Type); t != "" {
			return []string{t}
		}
		if n := strings.TrimSpace(obj.Name); n != "" {
			return []string{n}
		}
		return nil
	}
	var arr []json.RawMessage
	if json.Unmarshal(raw, &arr) != nil {
		return nil
	}
	var out []string
	for _, e := range arr {
		if len(e) > 0 && e[0] == '[' {
			continue // no nesting
		}
		out = append(out, npmLicenses(e)...)
	}
	return out
}

// packageLock holds the fields of package-lock.json that matter here.
type packageLock struct {
	LockfileVersion int `json:"lockfileVersion"`
	Packages        map[string]struct {
		Name     string          `json:"name"`
		Version  string          `json:"version"`
		License  json.RawMessage `json:"license"`
		Dev      bool            `json:"dev"`
		Link     bool            `json:"link"`
		Resolved string          `json:"resolved"`
	} `json:"packages"`
}

// ParsePackageLock lists the packages a package-lock.json (v2 or v3) installs:
// every "node_modules/..." entry of `packages`, without the root project,
// workspace links and development dependencies (which a production install,
// `npm ci --omit=dev`, leaves out). A v1 lock file has no `packages` and
// gives nothing.
func ParsePackageLock(data []byte) ([]inventory.Package, error) {
	var l packageLock
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("decoding package-lock.json: %w", err)
	}
	keys := make([]string, 0, len(l.Packages))
	for k := range l.Packages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []inventory.Package
	for _, k := range keys {
		e := l.Packages[k]
		i := strings.LastIndex(k, "node_modules/")
		if i < 0 || e.Link || e.Dev || e.Version == "" {
			continue
		}
		name := k[i+len("node_modules/"):]
		if e.Name != "" { // an alias ("npm:real@1") installs the real package under another name
			name = e.Name
		}
		out = append(out, npmPackage(name, e.Version, npmLicenses(e.License)))
	}
	return out, nil
}

// npmPackage is one package of the npm ecosystem.
func npmPackage(name, version string, licenses []string) inventory.Package {
	ns, n := "", name
	if strings.HasPrefix(name, "@") {
		if s, rest, ok := strings.Cut(name, "/"); ok {
			ns, n = s, rest
		}
	}
	return langPackage(inventory.Npm, name, version, purl(inventory.Npm, ns, n, version), licenses)
}
