package checks

import (
	"fmt"
	"time"
)

// fit006 is the check FIT-006.
func fit006() Check {
	return define(Meta{
		ID:          "FIT-006",
		Dimension:   Fit,
		Title:       "Stops gracefully",
		Severity:    Medium,
		Description: "The probe sends the image's STOPSIGNAL (SIGTERM by default) and measures the time to exit; a container still running after the grace period (--grace, default 10s) is killed, which loses in-flight work.",
		Remediation: "Handle SIGTERM in the application (finish requests, then exit), use the exec form so PID 1 receives it, or run an init such as tini.",
	}, func(s *Subject) ([]Finding, error) {
		p, err := s.probed()
		if err != nil {
			return nil, err
		}
		st := p.Stop
		if st == nil {
			return nil, Skip("the container did not stay up long enough to be stopped (see FIT-001)")
		}
		ev := []Evidence{{Field: "signal", Value: st.Signal}, {Field: "time to exit", Value: st.Duration.Round(10 * time.Millisecond).String()}, {Field: "exit code", Value: fmt.Sprint(st.ExitCode)}}
		if st.Killed {
			return []Finding{{Severity: Medium, Title: fmt.Sprintf("ignored %s: killed after the %s grace period", st.Signal, st.Grace), Evidence: ev}}, nil
		}
		if st.Error != "" {
			return []Finding{{Severity: Medium, Title: "stopping failed: " + st.Error, Evidence: ev}}, nil
		}
		return []Finding{{Severity: Info, Title: fmt.Sprintf("exited %s after %s (code %d)", st.Duration.Round(10*time.Millisecond), st.Signal, st.ExitCode), Evidence: ev}}, nil
	})
}
