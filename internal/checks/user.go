package checks

import (
	"strconv"
	"strings"
)

// effectiveUser is the image's USER resolved through its own /etc/passwd and /etc/group.
type effectiveUser struct {
	Raw   string
	User  string
	Group string
	UID   int
	// UIDKnown is false when User is a name that /etc/passwd does not have.
	UIDKnown bool
	Root     bool
	// Unknown lists names that do not resolve ("user \"app\"", "group \"web\"").
	Unknown []string
}

func (s *Subject) user() effectiveUser {
	raw := ""
	if s.Config != nil {
		raw = strings.TrimSpace(s.Config.Config.User)
	}
	u := effectiveUser{Raw: raw}
	u.User, u.Group, _ = strings.Cut(raw, ":")
	acc := &s.Inv.Accounts
	switch {
	case u.User == "":
		u.UID, u.UIDKnown = 0, true
	default:
		if n, err := strconv.Atoi(u.User); err == nil {
			u.UID, u.UIDKnown = n, true
		} else if e, ok := acc.UserByName(u.User); ok {
			u.UID, u.UIDKnown = e.UID, true
		} else {
			u.Unknown = append(u.Unknown, "user \""+u.User+"\"")
		}
	}
	if u.Group != "" {
		if _, err := strconv.Atoi(u.Group); err != nil {
			if _, ok := acc.GroupByName(u.Group); !ok {
				u.Unknown = append(u.Unknown, "group \""+u.Group+"\"")
			}
		}
	}
	u.Root = u.UIDKnown && u.UID == 0
	return u
}
