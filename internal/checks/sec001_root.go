package checks

import (
	"fmt"
	"strings"
)

// sec001 is the check SEC-001.
func sec001() Check {
	return define(Meta{
		ID:          "SEC-001",
		Dimension:   Security,
		Title:       "Runs as a non-root user",
		Severity:    Critical,
		Veto:        true,
		Description: "Resolves the image's USER through its own /etc/passwd and /etc/group. An empty USER, 0, root, 0:0, root:root or any name that maps to uid 0 is root. A numeric uid with no passwd entry is fine. Root is a veto unless `shipshape probe` showed the image works as 65534:65534 with a read-only root filesystem (FIT-002): then it is high, with the flags that work.",
		Remediation: "Create an unprivileged user and switch to it: `RUN useradd -r -u 10001 app` then `USER 10001:10001` (numeric, so Kubernetes runAsNonRoot can verify it).",
	}, func(s *Subject) ([]Finding, error) {
		u := s.user()
		if !u.UIDKnown {
			return nil, Skip("USER %q does not resolve in the image (see SEC-002)", u.Raw)
		}
		if !u.Root {
			return nil, nil
		}
		value := u.Raw
		why := "USER is not set, so the container runs as root"
		if value != "" {
			why = fmt.Sprintf("USER %q maps to uid 0 (root)", value)
		}
		rem := "Add `USER 10001:10001` after creating the user with `RUN useradd -r -u 10001 app`."
		if nobody, ok := s.Inv.Accounts.UserByName("nobody"); ok && nobody.UID != 0 {
			rem = fmt.Sprintf("Add `USER %d:%d` (the image's existing user nobody), or create a dedicated user with `RUN useradd -r -u 10001 app` and `USER 10001:10001`.", nobody.UID, nobody.GID)
		}
		ev := field("Config.User", value)
		if s.Probe != nil && s.Probe.NonRootWorks() {
			flags := strings.Join(s.Probe.NonRoot.Flags, " ")
			return []Finding{{Severity: High, Title: why + "; root can be dropped: it runs with " + flags,
				Evidence:    []Evidence{ev, {Field: "probe (FIT-002)", Value: "started, stayed up and was healthy with " + flags}},
				Remediation: "Run it with `" + flags + "` (Kubernetes: runAsUser: 65534, runAsNonRoot: true, readOnlyRootFilesystem: true), and set `USER 65534:65534` in the image."}}, nil
		}
		return []Finding{{Severity: Critical, Veto: true, Title: why, Evidence: []Evidence{ev}, Remediation: rem}}, nil
	})
}
