package checks

import (
	"fmt"
	"path"
	"strings"
)

var initNames = map[string]bool{"tini": true, "tini-static": true, "dumb-init": true, "s6-svscan": true, "catatonit": true, "runsvdir": true, "supervisord": true}

// rel005 is the check REL-005.
func rel005() Check {
	return define(Meta{
		ID:          "REL-005",
		Dimension:   Reliability,
		Title:       "PID 1 receives SIGTERM",
		Severity:    Medium,
		Description: "With the shell form (`/bin/sh -c ...`) the shell is PID 1 and does not forward SIGTERM, so the application is killed after the grace period instead of shutting down cleanly, unless the line execs the program or an init (tini, dumb-init) runs first.",
		Remediation: "Use the exec form (`ENTRYPOINT [\"/app\"]`), or start the line with `exec`, or run an init such as tini.",
	}, func(s *Subject) ([]Finding, error) {
		argv := s.entrypoint()
		if len(argv) == 0 {
			return nil, Skip("no ENTRYPOINT or CMD")
		}
		if initNames[path.Base(argv[0])] {
			return nil, nil
		}
		script, ok := shellScript(argv)
		if !ok {
			return nil, nil
		}
		line := strings.TrimSpace(script)
		if shellExecsLast(line) {
			return nil, nil
		}
		if words, _ := shellCommandWords(line); len(words) > 0 && initNames[path.Base(words[0])] {
			return nil, nil
		}
		return []Finding{{Severity: Medium, Title: fmt.Sprintf("shell-form command %q: the shell is PID 1 and will not forward SIGTERM", line),
			Evidence: []Evidence{field("Config.Entrypoint+Cmd", strings.Join(argv, " "))}}}, nil
	})
}
