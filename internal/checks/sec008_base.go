package checks

import (
	"fmt"
	"strings"
)

// Base kinds reported by SEC-008.
const (
	BaseScratch    = "scratch"
	BaseDistroless = "distroless"
	BaseMinimal    = "minimal"
	BaseFull       = "full distribution"
)

// classifyBase sorts the image into scratch, distroless, minimal or full.
func classifyBase(s *Subject) (kind, why string) {
	os := s.Inv.OS
	shells := s.findTools("sh", "bash", "dash", "ash", "busybox")
	_, hasStatusD := s.FS.Lookup("/var/lib/dpkg/status.d")
	_, hasStatus := s.FS.Lookup("/var/lib/dpkg/status")
	debs := 0
	for _, p := range s.Inv.Packages {
		if p.Ecosystem == "deb" {
			debs++
		}
	}
	switch {
	case os == nil && len(s.Inv.PackageDBs) == 0:
		return BaseScratch, "no os-release and no package database"
	case os != nil && strings.Contains(strings.ToLower(os.PrettyName), "distroless"):
		return BaseDistroless, fmt.Sprintf("os-release says %q", os.PrettyName)
	case hasStatusD && !hasStatus:
		return BaseDistroless, "per-package /var/lib/dpkg/status.d and no dpkg status file"
	case len(shells) == 0:
		return BaseDistroless, "an OS base without any shell"
	case os != nil && (os.ID == "alpine" || os.ID == "wolfi" || os.ID == "chainguard" || os.ID == "busybox"):
		return BaseMinimal, os.ID
	case debs > 0 && debs <= 120:
		return BaseMinimal, fmt.Sprintf("%d Debian packages (slim/minbase)", debs)
	}
	return BaseFull, fmt.Sprintf("%d packages", len(s.Inv.Packages))
}

// sec008 is the check SEC-008.
func sec008() Check {
	return define(Meta{
		ID:          "SEC-008",
		Dimension:   Security,
		Title:       "Base classification",
		Severity:    Info,
		Description: "Classifies the base as scratch, distroless, minimal (alpine, slim) or a full distribution, with the OS name and version from os-release. Scratch and distroless are never guessed as a distribution.",
		Remediation: "Prefer a distroless or minimal base for production.",
	}, func(s *Subject) ([]Finding, error) {
		kind, why := classifyBase(s)
		title := "base: " + kind
		var ev []Evidence
		if os := s.Inv.OS; os != nil {
			name := os.PrettyName
			if name == "" {
				name = strings.TrimSpace(os.Name + " " + os.VersionID)
			}
			title += ", " + name
			e := s.At(os.Path)
			e.Value = name
			ev = append(ev, e)
		}
		ev = append(ev, Evidence{Field: "classification", Value: why})
		return []Finding{{Severity: Info, Title: title, Evidence: ev}}, nil
	})
}
