package checks

import "strings"

// osProducts maps os-release IDs to endoflife.date products.
var osProducts = map[string]string{
	"debian": "debian", "ubuntu": "ubuntu", "alpine": "alpine-linux", "centos": "centos", "rhel": "rhel",
	"rocky": "rocky-linux", "almalinux": "almalinux", "amzn": "amazon-linux", "fedora": "fedora",
	"ol": "oracle-linux", "opensuse-leap": "opensuse", "sles": "sles",
}

// mnt003 is the check MNT-003.
func mnt003() Check {
	return define(Meta{
		ID:          "MNT-003",
		Dimension:   Maintainability,
		Title:       "Base OS supported",
		Severity:    High,
		Description: "The OS release from os-release must not have reached its end of life (or be within 90 days of it), per endoflife.date data embedded in shipshape. A release past regular support but inside extended (LTS) support is medium.",
		Remediation: "Rebuild on a supported release of the base OS.",
	}, func(s *Subject) ([]Finding, error) {
		os := s.Inv.OS
		if os == nil {
			return nil, Skip("no OS release found (scratch or distroless without os-release)")
		}
		slug := osProducts[os.ID]
		if slug == "" {
			return nil, Skip("no end-of-life data for OS %q", os.ID)
		}
		version := os.VersionID
		if slug == "alpine-linux" {
			parts := strings.SplitN(version, ".", 3)
			if len(parts) >= 2 {
				version = parts[0] + "." + parts[1]
			}
		}
		if version == "" {
			return nil, Skip("os-release has no VERSION_ID (a rolling or testing release)")
		}
		p, r, ok := s.EOL.Lookup(slug, version)
		if !ok {
			return nil, Skip("no release cycle %q of %s in the end-of-life data (%s)", version, slug, s.EOL.Source)
		}
		return eolFindings(s, p.Title+" "+r.Cycle, r, []Evidence{s.At(os.Path)}, High), nil
	})
}
