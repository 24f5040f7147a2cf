package checks

import "fmt"

// sec006 is the check SEC-006.
func sec006() Check {
	return define(Meta{
		ID:          "SEC-006",
		Dimension:   Security,
		Title:       "No package managers",
		Severity:    Low,
		Description: "Package managers (apt, dpkg, apk, yum, dnf, rpm, microdnf, pip, npm, gem) let anyone with a shell install tools in the running container.",
		Remediation: "Use a multi-stage build: install in a build stage and copy only the results into a minimal final stage.",
	}, func(s *Subject) ([]Finding, error) {
		tools := s.findTools("apt", "apt-get", "dpkg", "apk", "yum", "dnf", "rpm", "microdnf", "pip", "pip3", "npm", "gem")
		return s.toolFindings(tools, func(string) Severity { return Low }, func(t foundTool) string {
			return fmt.Sprintf("package manager %s present", t.Name)
		}), nil
	})
}
