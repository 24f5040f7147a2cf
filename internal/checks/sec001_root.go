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
		rem := s.nonRootRemedy()
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

// nonRootRemedy says how to run this image as non-root with what the image
// has: an existing unprivileged user, the tool that creates one (useradd,
// or BusyBox's adduser), or, without /etc/passwd or any such tool (FROM
// scratch, distroless), a numeric uid, which needs no passwd entry.
func (s *Subject) nonRootRemedy() string {
	has := func(prog string) bool {
		_, n, _, err := s.lookPath(prog)
		if err != nil {
			for _, d := range []string{"/usr/sbin/", "/sbin/"} {
				_, n, _, err = s.lookPath(d + prog)
				if err == nil {
					break
				}
			}
		}
		return err == nil && n != nil && n.Mode&0o111 != 0
	}
	var create string
	switch {
	case has("useradd"):
		create = "create a dedicated user with `RUN useradd -r -u 10001 app` and `USER 10001:10001`"
	case has("adduser") && has("addgroup"):
		create = "create a dedicated user with `RUN addgroup -S -g 10001 app && adduser -S -D -H -u 10001 -G app app` and `USER 10001:10001`"
	}
	acc := s.Inv.Accounts
	for _, name := range []string{"nonroot", "nobody"} {
		if u, ok := acc.UserByName(name); ok && u.UID != 0 {
			rem := fmt.Sprintf("Add `USER %d:%d` (the image's existing user %s)", u.UID, u.GID, name)
			if create != "" {
				return rem + ", or " + create + "."
			}
			return rem + "."
		}
	}
	if create != "" {
		return strings.ToUpper(create[:1]) + create[1:] + " (numeric, so Kubernetes runAsNonRoot can verify it)."
	}
	why := "the image has no /etc/passwd and no useradd"
	if acc.HasPasswd {
		why = "the image has no useradd or adduser to create a user"
	}
	return "Add `USER 65532:65532`: a numeric uid and gid need no /etc/passwd entry (" + why + "); make the files the program writes owned by that uid (`COPY --chown=65532:65532`). Kubernetes runAsNonRoot verifies a numeric USER."
}
