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
	// DeniedLicenses replaces CMP-002's DefaultLicenseDenylist when not nil.
	DeniedLicenses []string
	// AllowedLicenses, when set, are the only SPDX ids CMP-002 accepts without a finding.
	AllowedLicenses []string
	// CVSS is the CVSS base score at or above which a vulnerability with a
	// fixed version is a veto (SEC-020); zero means DefaultCVSS.
	CVSS float64
	// CVSSHigh is the CVSS base score at or above which a vulnerability
	// without a fixed version is high, not a veto (SEC-020); zero means DefaultCVSS.
	CVSSHigh float64
	// TrustedRegistries are the sources SEC-030 accepts (supplychain.Match
	// patterns); empty means any.
	TrustedRegistries []string
	// RequireSignature makes a missing, unverified or wrong-digest signature a veto (SEC-031).
	RequireSignature bool
	// MaxUpstreamAge is how long the upstream default branch may go without
	// a commit before MNT-007 vetoes the image.
	MaxUpstreamAge time.Duration
	// Load are FIT-007's limits; the zero value means DefaultLoadThresholds.
	Load LoadThresholds
}

// DefaultCVSS is the checklist's SEC-020 threshold: a fixable vulnerability
// with CVSS >= 7.0 is a veto, an unfixed one is high.
const DefaultCVSS = 7.0

// DefaultSettings returns the checklist's defaults.
func DefaultSettings() Settings {
	return Settings{MaxImageAge: 365 * 24 * time.Hour, EOLWarning: 90 * 24 * time.Hour, MaxUpstreamAge: 365 * 24 * time.Hour,
		CVSS: DefaultCVSS, CVSSHigh: DefaultCVSS}
}

func (st Settings) vetoCVSS() float64 {
	if st.CVSS > 0 {
		return st.CVSS
	}
	return DefaultCVSS
}

func (st Settings) highCVSS() float64 {
	if st.CVSSHigh > 0 {
		return st.CVSSHigh
	}
	return DefaultCVSS
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
