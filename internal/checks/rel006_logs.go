package checks

import (
	"fmt"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
)

// logDirs are where well-known servers write log files by default.
var logDirs = []string{"/var/log/nginx", "/var/log/apache2", "/var/log/httpd", "/var/log/mysql", "/var/log/postgresql", "/var/log/redis", "/var/log/supervisor", "/var/log/app"}

// rel006 is the check REL-006.
func rel006() Check {
	return define(Meta{
		ID:          "REL-006",
		Dimension:   Reliability,
		Title:       "Logs go to stdout/stderr",
		Severity:    Medium,
		Description: "Log files of well-known servers must be links to /dev/stdout or /dev/stderr, and no VOLUME should be declared for logs, so that the platform collects them.",
		Remediation: "Link the log files to the standard streams (`ln -sf /dev/stdout /var/log/nginx/access.log`) or configure the application to log to stdout, and drop the log VOLUME.",
	}, func(s *Subject) ([]Finding, error) {
		var out []Finding
		if s.Config != nil {
			for v := range s.Config.Config.Volumes {
				if strings.Contains(strings.ToLower(v), "log") {
					out = append(out, Finding{Severity: Medium, Title: fmt.Sprintf("VOLUME %s looks like a log volume: logs there bypass the platform's collection", v),
						Evidence: []Evidence{field("Config.Volumes", v)}})
				}
			}
		}
		for _, d := range logDirs {
			nodes, err := s.FS.ReadDir(d)
			if err != nil {
				continue
			}
			for _, n := range nodes {
				if n.Type == imagefs.TypeRegular && strings.HasSuffix(n.Path, ".log") {
					out = append(out, Finding{Severity: Medium, Title: fmt.Sprintf("%s is a regular file, not a link to /dev/stdout or /dev/stderr", n.Path),
						Evidence: []Evidence{s.At(n.Path)}})
				}
			}
		}
		return out, nil
	})
}
