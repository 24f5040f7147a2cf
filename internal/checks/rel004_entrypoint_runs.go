package checks

import "strings"

// rel004 is the check REL-004.
func rel004() Check {
	return define(Meta{
		ID:          "REL-004",
		Dimension:   Reliability,
		Title:       "ENTRYPOINT/CMD can run",
		Severity:    Critical,
		Veto:        true,
		Description: "The program the container starts exists along the image's PATH, is executable, is built for the image's architecture, and has its dynamic loader or #! interpreter; every program a shell-form line runs is resolved too (parsed as a shell parses it, nested `sh -c` scripts included). A container that cannot start is a veto in the default policy.",
		Remediation: "Fix the path in ENTRYPOINT/CMD, copy the missing program or interpreter into the image, or build the binary for the image's platform.",
	}, func(s *Subject) ([]Finding, error) {
		argv := s.entrypoint()
		if len(argv) == 0 {
			return []Finding{{Severity: High, Title: "no ENTRYPOINT or CMD: the image does not say what to run", Evidence: []Evidence{field("Config.Entrypoint", ""), field("Config.Cmd", "")},
				Remediation: "Set `ENTRYPOINT [\"/path/to/app\"]` in exec form."}}, nil
		}
		var out []Finding
		for _, p := range s.commandProblems(argv, "Config.Entrypoint+Cmd", true) {
			out = append(out, Finding{Severity: Critical, Veto: true, Title: "the container cannot start: " + p.msg,
				Evidence: []Evidence{p.ev, field("Config.Entrypoint+Cmd", strings.Join(argv, " "))}})
		}
		return out, nil
	})
}
