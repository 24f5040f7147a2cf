package checks

import (
	"path"
	"time"
)

// Settings are the thresholds and lists that checks consult. The policy file
// sets them; DefaultSettings is the checklist's default.
type Settings struct {
	// MaxImageAge is the age past which MNT-002 reports an image.
	MaxImageAge time.Duration
	// EOLWarning is how long before an end of life MNT-003/MNT-004 warn.
	EOLWarning time.Duration
	// RequiredLabels are labels MNT-001 requires in addition to the OCI set.
	RequiredLabels []string
	// AllowedSetuid are path patterns (path.Match) SEC-003 does not report.
	AllowedSetuid []string
}

// DefaultSettings returns the checklist's defaults.
func DefaultSettings() Settings {
	return Settings{MaxImageAge: 365 * 24 * time.Hour, EOLWarning: 90 * 24 * time.Hour}
}

// settings returns the subject's settings, or the defaults when unset.
func (s *Subject) settings() Settings {
	if s.Settings == nil {
		return DefaultSettings()
	}
	return *s.Settings
}

func matchAny(patterns []string, p string) bool {
	for _, pat := range patterns {
		if ok, _ := path.Match(pat, p); ok || pat == p {
			return true
		}
	}
	return false
}
