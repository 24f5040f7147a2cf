package checks

import "fmt"

// fit004 is the check FIT-004.
func fit004() Check {
	return define(Meta{
		ID:          "FIT-004",
		Dimension:   Fit,
		Title:       "Logs reach stdout/stderr",
		Severity:    Medium,
		Description: "Lines arrive on stdout/stderr during startup and after a request to --smoke-path, and no log file grows inside the container's writable layer (found with the engine's filesystem diff).",
		Remediation: "Log to stdout/stderr (or link the log files to /dev/stdout and /dev/stderr) so the platform collects them.",
	}, func(s *Subject) ([]Finding, error) {
		p, err := s.probed()
		if err != nil {
			return nil, err
		}
		l := p.Logs
		if l == nil {
			return nil, Skip("the container did not stay up long enough to look at its logs (see FIT-001)")
		}
		var out []Finding
		if l.StartupLines == 0 && l.RequestLines <= 0 {
			what := "at startup"
			if l.RequestLines == 0 {
				what = "at startup or after a request"
			}
			out = append(out, Finding{Severity: Medium, Title: "no log line on stdout/stderr " + what,
				Evidence: []Evidence{{Field: "lines at startup", Value: fmt.Sprint(l.StartupLines)}, {Field: "lines after a request", Value: fmt.Sprint(l.RequestLines)}}})
		}
		for _, f := range l.Files {
			sev, title := Low, fmt.Sprintf("%s written inside the container", f.Path)
			if f.Growing {
				sev, title = Medium, fmt.Sprintf("%s grows inside the container: logs there are lost with it", f.Path)
			}
			out = append(out, Finding{Severity: sev, Title: title, Evidence: []Evidence{{Path: f.Path, Field: "size", Value: fmt.Sprint(f.Size)}}})
		}
		if len(out) == 0 {
			out = append(out, Finding{Severity: Info, Title: fmt.Sprintf("%s at startup, %d after a request", plural(l.StartupLines, "log line"), l.RequestLines)})
		}
		return out, nil
	})
}

// plural is "1 log line", "2 log lines".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
