package vulndb

import (
	"fmt"
	"sort"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// target is one (OSV ecosystem, name, version) to look up, with the
// installed packages it stands for.
type target struct {
	ecos    []string // OSV ecosystems to try, in order ("Ubuntu:22.04:LTS", "Ubuntu:22.04")
	name    string   // name as installed (source name for OS packages)
	key     string   // lookup key (NormalizeName)
	version string
	pkgs    []inventory.Package
}

// osEcosystems returns the OSV ecosystems of an OS package manager's
// packages on this OS release, or a reason why there are none.
func osEcosystems(pm inventory.Ecosystem, os *inventory.OS) ([]string, string) {
	if os == nil {
		return nil, "no os-release: the OS release (and so the advisory ecosystem) is unknown"
	}
	ver := os.VersionID
	switch {
	case pm == inventory.Deb && os.ID == "debian":
		major, _, _ := strings.Cut(ver, ".")
		if major == "" {
			return nil, fmt.Sprintf("Debian %s has no VERSION_ID (testing or unstable): OSV has no ecosystem for it", nonEmpty(os.VersionCodename, "release"))
		}
		return []string{"Debian:" + major}, ""
	case pm == inventory.Deb && os.ID == "ubuntu":
		if ver == "" {
			return nil, "Ubuntu without VERSION_ID"
		}
		return []string{"Ubuntu:" + ver + ":LTS", "Ubuntu:" + ver}, ""
	case pm == inventory.Apk && os.ID == "alpine":
		parts := strings.SplitN(ver, ".", 3)
		if len(parts) < 2 {
			return nil, fmt.Sprintf("Alpine VERSION_ID %q has no minor version", ver)
		}
		return []string{"Alpine:v" + parts[0] + "." + parts[1]}, ""
	case pm == inventory.Apk && os.ID == "wolfi":
		return []string{"Wolfi"}, ""
	case pm == inventory.Apk && os.ID == "chainguard":
		return []string{"Chainguard"}, ""
	}
	return nil, fmt.Sprintf("no OSV ecosystem for %s packages on %s %s", pm, os.ID, ver)
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// gapKey groups packages that cannot be evaluated.
type gapKey struct{ eco, reason string }

// targetsOf turns the inventory into lookups, and the packages it cannot
// look up into gaps.
func targetsOf(inv *inventory.Inventory) ([]*target, []Gap) {
	byKey := map[string]*target{}
	gaps := map[gapKey]*Gap{}
	gap := func(eco, reason, example string) {
		k := gapKey{eco, reason}
		g := gaps[k]
		if g == nil {
			g = &Gap{Ecosystem: eco, Reason: reason, Example: example}
			gaps[k] = g
		}
		g.Packages++
	}
	add := func(ecos []string, name, version string, p inventory.Package) {
		key := NormalizeName(ecos[0], name)
		k := ecos[0] + "\x00" + key + "\x00" + version
		t := byKey[k]
		if t == nil {
			t = &target{ecos: ecos, name: name, key: key, version: version}
			byKey[k] = t
		}
		t.pkgs = append(t.pkgs, p)
	}
	goStdlib := map[string]bool{} // binaries whose stdlib the inventory lists
	for _, p := range inv.Packages {
		pe := p.Eco()
		if pe == inventory.Deb || pe == inventory.Apk {
			ecos, why := osEcosystems(pe, inv.OS)
			if ecos == nil {
				gap(p.Ecosystem, why, p.Name)
				continue
			}
			name, ver := nonEmpty(p.SourceName, p.Name), nonEmpty(p.SourceVersion, p.Version)
			add(ecos, name, ver, p)
			continue
		}
		eco := pe.OSVName()
		if eco == "" && Supported(p.Ecosystem) {
			eco = p.Ecosystem
		}
		if eco == "" {
			gap(nonEmpty(p.Ecosystem, p.Type), "no OSV ecosystem for these packages", p.Name)
			continue
		}
		if p.Version == "" {
			gap(eco, "package without a version", p.Name)
			continue
		}
		ver := p.Version
		if eco == "Go" && p.Name == "stdlib" {
			goStdlib[p.Path] = true
			if v, ok := goVersion(ver); ok {
				ver = v
			} else if v, ok := goVersion("go" + strings.TrimPrefix(ver, "v")); ok {
				ver = v
			}
		}
		add([]string{eco}, p.Name, ver, p)
	}
	// The Go toolchain that built each binary is the "stdlib" package of the
	// Go vulnerability database, unless the inventory already lists it.
	paths := make([]string, 0, len(inv.Binaries))
	for p := range inv.Binaries {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, path := range paths {
		b := inv.Binaries[path]
		if b.GoVersion == "" || goStdlib[path] {
			continue
		}
		v, ok := goVersion(b.GoVersion)
		if !ok {
			gap("Go", "Go toolchain version is a development build", b.GoVersion)
			continue
		}
		p := inventory.Package{Name: "stdlib", Version: b.GoVersion, Type: "lang", Ecosystem: string(inventory.Go), Path: path, Layer: b.Layer, PURL: "pkg:golang/stdlib@" + v}
		add([]string{"Go"}, "stdlib", v, p)
	}
	out := make([]*target, 0, len(byKey))
	for _, t := range byKey {
		sort.Slice(t.pkgs, func(i, j int) bool { return t.pkgs[i].Name < t.pkgs[j].Name })
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ecos[0] != out[j].ecos[0] {
			return out[i].ecos[0] < out[j].ecos[0]
		}
		if out[i].key != out[j].key {
			return out[i].key < out[j].key
		}
		return out[i].version < out[j].version
	})
	var gl []Gap
	for _, g := range gaps {
		gl = append(gl, *g)
	}
	sort.Slice(gl, func(i, j int) bool {
		if gl[i].Ecosystem != gl[j].Ecosystem {
			return gl[i].Ecosystem < gl[j].Ecosystem
		}
		return gl[i].Reason < gl[j].Reason
	})
	return out, gl
}
