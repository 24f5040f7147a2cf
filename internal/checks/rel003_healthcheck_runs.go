package checks

import (
	"fmt"
	"strings"
)

// rel003 is the check REL-003.
func rel003() Check {
	return define(Meta{
		ID:          "REL-003",
		Dimension:   Reliability,
		Title:       "HEALTHCHECK can run",
		Severity:    High,
		Description: "The HEALTHCHECK's executable exists in the image and is executable (via symlinks and the image's PATH); the shell form needs the image's shell and every program the shell line runs (parsed as a shell parses it: pipelines, && and || lists, `exec`, nested `sh -c`/`bash -c` scripts; redirections, assignments and builtins are not programs); an ELF binary's dynamic loader and a script's #! interpreter must exist.",
		Remediation: "Use a health command that ships in the image, e.g. the application's own `-healthcheck` flag, instead of curl or wget.",
	}, func(s *Subject) ([]Finding, error) {
		test := s.healthcheck()
		if test == nil {
			return nil, Skip("no HEALTHCHECK (see REL-002)")
		}
		var argv []string
		switch test[0] {
		case "CMD":
			argv = test[1:]
		case "CMD-SHELL":
			shell := []string{"/bin/sh", "-c"}
			if len(s.Config.Config.Shell) > 0 {
				shell = s.Config.Config.Shell
			}
			argv = append(append([]string{}, shell...), strings.Join(test[1:], " "))
		default:
			argv = test
		}
		if len(argv) == 0 {
			return []Finding{{Severity: High, Title: "HEALTHCHECK has no command", Evidence: []Evidence{field("Config.Healthcheck.Test", strings.Join(test, " "))}}}, nil
		}
		var out []Finding
		for _, p := range s.commandProblems(argv, "Config.Healthcheck.Test", false) {
			out = append(out, Finding{Severity: High, Title: fmt.Sprintf("HEALTHCHECK cannot run: %s", p.msg), Evidence: []Evidence{p.ev, field("Config.Healthcheck.Test", strings.Join(test, " "))}})
		}
		return out, nil
	})
}
