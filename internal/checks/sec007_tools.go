package checks

import "fmt"

// sec007 is the check SEC-007.
func sec007() Check {
	return define(Meta{
		ID:          "SEC-007",
		Dimension:   Security,
		Title:       "No network, debug or privilege tools",
		Severity:    Low,
		Description: "curl, wget, nc, socat, telnet, ssh, scp, editors, compilers, debuggers, tcpdump, sudo and su widen what an intruder can do; sudo stands out.",
		Remediation: "Drop them from the final stage; for debugging use `kubectl debug` or an ephemeral debug container instead.",
	}, func(s *Subject) ([]Finding, error) {
		tools := s.findTools("curl", "wget", "nc", "netcat", "ncat", "socat", "telnet", "ssh", "scp", "vim", "vi", "nano",
			"gcc", "cc", "make", "gdb", "strace", "tcpdump", "sudo", "su")
		return s.toolFindings(tools, func(name string) Severity {
			if name == "sudo" {
				return Medium
			}
			return Low
		}, func(t foundTool) string { return fmt.Sprintf("%s present", t.Name) }), nil
	})
}
