package checks

import (
	"fmt"
	"time"
)

// mnt002 is the check MNT-002.
func mnt002() Check {
	return define(Meta{
		ID:          "MNT-002",
		Dimension:   Maintainability,
		Title:       "Image built within the last year",
		Severity:    Medium,
		Description: "The config's `created` time must be within 365 days (policy: thresholds.maxImageAgeDays): an older image has missed a year of fixes. Reproducible builds that set the epoch (1970) or no date are reported as unknown age.",
		Remediation: "Rebuild the image regularly (for example weekly in CI) so that base image and dependency fixes reach it.",
	}, func(s *Subject) ([]Finding, error) {
		if s.Config == nil || s.Config.Created.IsZero() || s.Config.Created.Year() < 2000 {
			return []Finding{{Severity: Info, Title: "image age unknown: no build date in the config", Evidence: []Evidence{field("created", "")},
				Remediation: "Set the org.opencontainers.image.created label so the age is known."}}, nil
		}
		created := s.Config.Created.Time
		age := s.Now.Sub(created)
		ev := []Evidence{field("created", created.UTC().Format(time.RFC3339))}
		if age > s.settings().MaxImageAge {
			return []Finding{{Severity: Medium, Title: fmt.Sprintf("image is %d days old (built %s)", int(age.Hours()/24), created.UTC().Format("2006-01-02")), Evidence: ev}}, nil
		}
		if age < -24*time.Hour {
			return []Finding{{Severity: Low, Title: fmt.Sprintf("image claims to be built in the future (%s)", created.UTC().Format("2006-01-02")), Evidence: ev}}, nil
		}
		return nil, nil
	})
}
