package checks

import "fmt"

// sec005 is the check SEC-005.
func sec005() Check {
	return define(Meta{
		ID:          "SEC-005",
		Dimension:   Security,
		Title:       "No shells",
		Severity:    Low,
		Description: "A shell (sh, bash, dash, ash, zsh, ksh, busybox) in a production image gives an attacker who gets code execution a ready tool.",
		Remediation: "Build from a distroless or scratch base and copy in only the application, or remove the shell in the final stage.",
	}, func(s *Subject) ([]Finding, error) {
		tools := s.findTools("sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox")
		return s.toolFindings(tools, func(string) Severity { return Low }, func(t foundTool) string {
			return fmt.Sprintf("shell %s present", t.Name)
		}), nil
	})
}
