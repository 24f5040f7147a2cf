package checks

import "strings"

// healthcheck returns the HEALTHCHECK test, or nil when none (or NONE).
func (s *Subject) healthcheck() []string {
	if s.Config == nil || s.Config.Config.Healthcheck == nil {
		return nil
	}
	t := s.Config.Config.Healthcheck.Test
	if len(t) == 0 || t[0] == "NONE" {
		return nil
	}
	return t
}

// rel002 is the check REL-002.
func rel002() Check {
	return define(Meta{
		ID:          "REL-002",
		Dimension:   Reliability,
		Title:       "HEALTHCHECK present",
		Severity:    High,
		Description: "The image declares a HEALTHCHECK that is not NONE, so engines (and humans) can tell a live container from a hung one. Orchestrators with their own probes still benefit from a documented health command.",
		Remediation: "Add `HEALTHCHECK CMD [\"/app\", \"-healthcheck\"]` (exec form, a binary that is in the image), or document the HTTP probe for your orchestrator.",
	}, func(s *Subject) ([]Finding, error) {
		if s.healthcheck() != nil {
			return nil, nil
		}
		v := ""
		if s.Config != nil && s.Config.Config.Healthcheck != nil {
			v = strings.Join(s.Config.Config.Healthcheck.Test, " ")
		}
		title := "no HEALTHCHECK"
		if v != "" {
			title = "HEALTHCHECK is disabled (NONE)"
		}
		return []Finding{{Severity: High, Title: title, Evidence: []Evidence{field("Config.Healthcheck", v)}}}, nil
	})
}
