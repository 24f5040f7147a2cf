package checks

import (
	"fmt"
	"io/fs"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
)

// sec003 is the check SEC-003.
func sec003() Check {
	return define(Meta{
		ID:          "SEC-003",
		Dimension:   Security,
		Title:       "No setuid or setgid files",
		Severity:    Medium,
		Description: "Lists regular files with the setuid or setgid bit, with the layer that wrote them. They let a process gain the file owner's privileges.",
		Remediation: "Remove the bits in the Dockerfile (`RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +`) or remove the programs; allow the ones you need in the policy.",
	}, func(s *Subject) ([]Finding, error) {
		var out []Finding
		err := s.FS.Walk(func(n *imagefs.Node) error {
			if n.Type != imagefs.TypeRegular || n.Mode&(fs.ModeSetuid|fs.ModeSetgid) == 0 {
				return nil
			}
			if matchAny(s.settings().AllowedSetuid, n.Path) {
				return nil
			}
			kind := "setuid"
			switch {
			case n.Mode&fs.ModeSetuid != 0 && n.Mode&fs.ModeSetgid != 0:
				kind = "setuid and setgid"
			case n.Mode&fs.ModeSetgid != 0:
				kind = "setgid"
			}
			ev := s.At(n.Path)
			ev.Value = fmt.Sprintf("mode %s uid %d gid %d", modeString(n.Mode), n.UID, n.GID)
			out = append(out, Finding{Severity: Medium, Title: fmt.Sprintf("%s is %s", n.Path, kind), Evidence: []Evidence{ev}})
			return nil
		})
		return out, err
	})
}

// modeString formats permission bits with setuid, setgid and sticky as four octal digits.
func modeString(m fs.FileMode) string {
	v := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 04000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 02000
	}
	if m&fs.ModeSticky != 0 {
		v |= 01000
	}
	return fmt.Sprintf("%04o", v)
}
