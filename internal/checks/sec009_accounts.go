package checks

import (
	"fmt"
	"strings"
)

// sec009 is the check SEC-009.
func sec009() Check {
	return define(Meta{
		ID:          "SEC-009",
		Dimension:   Security,
		Title:       "No empty passwords or duplicate UIDs/GIDs",
		Severity:    High,
		Description: "An account with an empty password hash in /etc/shadow (or /etc/passwd) can log in without a password; duplicate UIDs or GIDs make two names one identity.",
		Remediation: "Lock the account (`passwd -l NAME` or `usermod -p '*' NAME`) and give every user and group its own id.",
	}, func(s *Subject) ([]Finding, error) {
		acc := &s.Inv.Accounts
		if !acc.HasPasswd && !acc.HasShadow {
			return nil, Skip("no /etc/passwd or /etc/shadow")
		}
		var out []Finding
		for _, sh := range acc.Shadow {
			if sh.Hash == "" {
				e := s.At("/etc/shadow")
				e.Line = sh.Line
				e.Value = sh.Name + ":<empty>"
				out = append(out, Finding{Severity: High, Title: fmt.Sprintf("account %s has an empty password in /etc/shadow", sh.Name), Evidence: []Evidence{e}})
			}
		}
		for _, u := range acc.Users {
			if u.Password == "" {
				e := s.At("/etc/passwd")
				e.Line = u.Line
				e.Value = u.Name + ":<empty>"
				out = append(out, Finding{Severity: High, Title: fmt.Sprintf("account %s has an empty password field in /etc/passwd", u.Name), Evidence: []Evidence{e}})
			}
		}
		uids := map[int][]string{}
		for _, u := range acc.Users {
			uids[u.UID] = append(uids[u.UID], u.Name)
		}
		for _, u := range acc.Users {
			if names := uids[u.UID]; len(names) > 1 && names[0] == u.Name {
				e := s.At("/etc/passwd")
				e.Value = fmt.Sprintf("uid %d: %s", u.UID, strings.Join(names, ", "))
				out = append(out, Finding{Severity: High, Title: fmt.Sprintf("uid %d is shared by %s", u.UID, strings.Join(names, ", ")), Evidence: []Evidence{e}})
			}
		}
		gids := map[int][]string{}
		for _, g := range acc.Groups {
			gids[g.GID] = append(gids[g.GID], g.Name)
		}
		for _, g := range acc.Groups {
			if names := gids[g.GID]; len(names) > 1 && names[0] == g.Name {
				e := s.At("/etc/group")
				e.Value = fmt.Sprintf("gid %d: %s", g.GID, strings.Join(names, ", "))
				out = append(out, Finding{Severity: High, Title: fmt.Sprintf("gid %d is shared by %s", g.GID, strings.Join(names, ", ")), Evidence: []Evidence{e}})
			}
		}
		return out, nil
	})
}
