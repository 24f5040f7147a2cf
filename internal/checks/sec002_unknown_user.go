package checks

import (
	"fmt"
	"strings"
)

// sec002 is the check SEC-002.
func sec002() Check {
	return define(Meta{
		ID:          "SEC-002",
		Dimension:   Security,
		Title:       "USER names a user and group that exist",
		Severity:    High,
		Description: "A USER or group given by name must exist in the image's /etc/passwd or /etc/group, or the container fails to start (\"unable to find user\").",
		Remediation: "Create the user in the image (`RUN useradd -r -u 10001 app`) or use numeric ids (`USER 10001:10001`).",
	}, func(s *Subject) ([]Finding, error) {
		u := s.user()
		if len(u.Unknown) == 0 {
			return nil, nil
		}
		ev := []Evidence{field("Config.User", u.Raw)}
		where := "/etc/passwd"
		if !s.Inv.Accounts.HasPasswd {
			where = "/etc/passwd (the image has none)"
		} else {
			ev = append(ev, s.At("/etc/passwd"))
		}
		return []Finding{{
			Severity: High,
			Title:    fmt.Sprintf("USER %q: %s not found in %s; the container will not start", u.Raw, strings.Join(u.Unknown, " and "), where),
			Evidence: ev,
		}}, nil
	})
}
