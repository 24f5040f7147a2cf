package checks

import (
	"fmt"
	"strings"
	"time"
)

// fit003 is the check FIT-003.
func fit003() Check {
	return define(Meta{
		ID:          "FIT-003",
		Dimension:   Fit,
		Title:       "Becomes healthy",
		Severity:    High,
		Description: "Within the start period (--start-period, default 60s) the container becomes healthy: the engine's HEALTHCHECK state, or the probe's own check (--http-path on --port, else a TCP connect to the first exposed port). The time to healthy is reported.",
		Remediation: "Fix the health command or endpoint (see the health log in the evidence), or lengthen the start period if the service is slow to start.",
	}, func(s *Subject) ([]Finding, error) {
		p, err := s.probed()
		if err != nil {
			return nil, err
		}
		h := p.Start.Health
		if h.Method == "none" {
			return nil, Skip("no HEALTHCHECK, no --http-path and no exposed port: health cannot be judged")
		}
		if !p.Start.Started {
			return nil, Skip("the container did not start (see FIT-001)")
		}
		if !h.Healthy {
			ev := []Evidence{{Field: "health (" + h.Method + ")", Value: h.Status}}
			if len(h.Log) > 0 {
				ev = append(ev, Evidence{Field: "health log", Value: truncate(strings.Join(h.Log, " | "), 600)})
			}
			return []Finding{{Severity: High, Title: fmt.Sprintf("not healthy (%s): %s", h.Method, truncate(h.Status, 120)), Evidence: ev}}, nil
		}
		return []Finding{{Severity: Info, Title: fmt.Sprintf("healthy after %s (%s)", h.After.Round(10*time.Millisecond), h.Method), Evidence: []Evidence{{Field: "health (" + h.Method + ")", Value: h.Status}}}}, nil
	})
}
