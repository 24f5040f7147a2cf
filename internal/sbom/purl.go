package sbom

import (
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// PURL returns the package's purl: the one the analyzer set, else one made
// for OS packages (deb, apk) from the name, version, architecture and the
// image's OS, in the form other scanners use
// (pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12).
func PURL(p inventory.Package, osr *inventory.OS) string {
	if p.PURL != "" {
		return p.PURL
	}
	eco := p.Eco()
	if !eco.IsOS() {
		return ""
	}
	typ, ns := eco.PURLType(), map[inventory.Ecosystem]string{inventory.Deb: "debian", inventory.Apk: "alpine", inventory.RPM: "redhat"}[eco]
	var q packageurl.Qualifiers
	if p.Arch != "" {
		q = append(q, packageurl.Qualifier{Key: "arch", Value: p.Arch})
	}
	if osr != nil && osr.ID != "" {
		ns = strings.ToLower(osr.ID)
		if osr.VersionID != "" {
			q = append(q, packageurl.Qualifier{Key: "distro", Value: ns + "-" + osr.VersionID})
		}
	}
	if p.SourceName != "" && p.SourceName != p.Name && (typ == packageurl.TypeDebian || typ == packageurl.TypeRPM) {
		up := p.SourceName
		if p.SourceVersion != "" && p.SourceVersion != p.Version {
			up += "@" + p.SourceVersion
		}
		q = append(q, packageurl.Qualifier{Key: "upstream", Value: up})
	}
	return packageurl.NewPackageURL(typ, ns, p.Name, p.Version, q, "").ToString()
}
