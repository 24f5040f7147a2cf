package checks

import (
	"fmt"
	"strings"
)

// mnt005 is the check MNT-005.
func mnt005() Check {
	return define(Meta{
		ID:          "MNT-005",
		Dimension:   Maintainability,
		Title:       "Platforms",
		Severity:    Info,
		Description: "Lists the platforms of the image index and the one that was judged. A single-platform image cannot run on other architectures (e.g. arm64 nodes). `check --all-platforms` judges every platform and shows how each differs from the first.",
		Remediation: "Publish a multi-platform index (`docker buildx build --platform linux/amd64,linux/arm64`).",
	}, func(s *Subject) ([]Finding, error) {
		judged := s.Image.Platform.String()
		if len(s.Image.Platforms) == 0 {
			return []Finding{{Severity: Info, Title: fmt.Sprintf("single-platform image (%s)", judged), Evidence: []Evidence{field("platform", judged)}}}, nil
		}
		var ps []string
		for _, p := range s.Image.Platforms {
			ps = append(ps, p.String())
		}
		return []Finding{{Severity: Info, Title: fmt.Sprintf("multi-platform index with %d platforms; judged %s", len(ps), judged),
			Evidence: []Evidence{field("index "+s.Image.IndexDigest, strings.Join(ps, ", "))}}}, nil
	})
}
