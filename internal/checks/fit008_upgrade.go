package checks

import "time"

// fit008 is the check FIT-008.
func fit008() Check {
	return define(Meta{
		ID:          "FIT-008",
		Dimension:   Fit,
		Title:       "Upgrade and rollback work",
		Severity:    High,
		Description: "The baseline starts with a named volume; the candidate replaces it on the same port and volume; then the baseline comes back. Each step must become healthy and answer a smoke request (--smoke-path).",
		Remediation: "Keep the data format in the volume readable by both versions (forward- and backward-compatible migrations).",
	}, func(s *Subject) ([]Finding, error) {
		p, err := s.probed()
		if err != nil {
			return nil, err
		}
		u := p.Upgrade
		if u == nil {
			return nil, Skip("no baseline image: give --baseline")
		}
		var ev []Evidence
		var failed *Finding
		for _, st := range u.Steps {
			ev = append(ev, Evidence{Field: st.Name + " (" + st.Duration.Round(time.Millisecond).String() + ")", Value: st.Detail})
			if !st.OK && failed == nil {
				failed = &Finding{Severity: High, Title: st.Name + " failed: " + truncate(st.Detail, 140)}
			}
		}
		if failed == nil && len(u.Steps) < 3 {
			failed = &Finding{Severity: High, Title: "upgrade and rollback did not complete"}
		}
		if failed != nil {
			failed.Evidence = ev
			return []Finding{*failed}, nil
		}
		return []Finding{{Severity: Info, Title: "baseline -> candidate -> baseline stayed healthy on volume " + u.Volume, Evidence: ev}}, nil
	})
}
