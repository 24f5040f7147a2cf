package checks

import (
	"fmt"
	"io/fs"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
)

// sec004 is the check SEC-004.
func sec004() Check {
	return define(Meta{
		ID:          "SEC-004",
		Dimension:   Security,
		Title:       "No world-writable files or directories without the sticky bit",
		Severity:    Medium,
		Description: "Any user in the container can change a world-writable file, or replace files in a world-writable directory that lacks the sticky bit.",
		Remediation: "Tighten the mode in the Dockerfile (`chmod o-w PATH`), or set the sticky bit on shared directories (`chmod 1777 DIR`).",
	}, func(s *Subject) ([]Finding, error) {
		var out []Finding
		err := s.FS.Walk(func(n *imagefs.Node) error {
			if n.Type != imagefs.TypeRegular && n.Type != imagefs.TypeDir {
				return nil
			}
			if n.Mode&0o002 == 0 || (n.Type == imagefs.TypeDir && n.Mode&fs.ModeSticky != 0) {
				return nil
			}
			ev := s.At(n.Path)
			ev.Value = "mode " + modeString(n.Mode)
			out = append(out, Finding{Severity: Medium, Title: fmt.Sprintf("%s %s is world-writable", n.Type, n.Path), Evidence: []Evidence{ev}})
			return nil
		})
		return out, err
	})
}
