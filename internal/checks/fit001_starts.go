package checks

import "fmt"

// fit001 is the check FIT-001.
func fit001() Check {
	return define(Meta{
		ID:          "FIT-001",
		Dimension:   Fit,
		Title:       "Starts and stays up",
		Severity:    Critical,
		Description: "The probe starts the image as configured and watches it for the observation window (--window, default 10s): it must still be running at the end. A port already in use before the start makes the results unreliable and is reported.",
		Remediation: "Read the exit code and last log lines in the evidence; run the image locally with the same command to reproduce.",
	}, func(s *Subject) ([]Finding, error) {
		p, err := s.probed()
		if err != nil {
			return nil, err
		}
		var out []Finding
		if p.PortBusy {
			out = append(out, Finding{Severity: High, Title: fmt.Sprintf("port %d was already in use on 127.0.0.1 before the container started", p.Port),
				Evidence: []Evidence{{Field: "port", Value: fmt.Sprint(p.Port)}}, Remediation: "Stop whatever listens on the port, or probe with --port."})
		}
		st := p.Start
		switch {
		case !st.Started:
			out = append(out, Finding{Severity: Critical, Title: "the container did not start: " + st.Error, Evidence: append([]Evidence{{Field: "engine error", Value: st.Error}}, logEvidence(st.LastLogs)...)})
		case st.Exited:
			why := fmt.Sprintf("exit code %d", st.ExitCode)
			if st.OOMKilled {
				why += ", killed for running out of memory"
			}
			out = append(out, Finding{Severity: Critical, Title: fmt.Sprintf("the container exited within %s (%s)", st.Window, why),
				Evidence: append([]Evidence{{Field: "exit code", Value: fmt.Sprint(st.ExitCode)}}, logEvidence(st.LastLogs)...)})
		}
		return out, nil
	})
}
