package checks

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
)

var (
	aptUpdate  = regexp.MustCompile(`apt-get\s+update|apt\s+update`)
	aptClean   = regexp.MustCompile(`rm\s+-[a-z]*r[a-z]*f?\s+[^;&|]*?/var/lib/apt/lists|apt-get\s+clean.*lists`)
	addRemote  = regexp.MustCompile(`^ADD\s+(--\S+\s+)*(https?://\S+)`)
	addArchive = regexp.MustCompile(`^ADD\s+(--\S+\s+)*\S+\.(tar|tar\.gz|tgz|tar\.bz2|tar\.xz|zip)\s`)
	// sudoCommand is the fallback for a RUN line the shell parser cannot
	// read: sudo at the start of a command, not as an argument.
	sudoCommand  = regexp.MustCompile(`(^|[;&|(]\s*)sudo\s`)
	leftoverDirs = []string{".git", ".svn", ".hg", ".idea", ".vscode"}
)

// historyCommand normalises a history line to the Dockerfile instruction it came from.
func historyCommand(createdBy string) string {
	c := strings.TrimSpace(createdBy)
	c = strings.TrimPrefix(c, "/bin/sh -c #(nop) ")
	c = strings.TrimSuffix(c, " # buildkit")
	// BuildKit records `RUN /bin/sh -c ...` and `RUN |1 A=1 /bin/sh -c ...`.
	if r := strings.TrimPrefix(c, "RUN "); r != c && (strings.HasPrefix(r, "/bin/sh -c ") || strings.HasPrefix(r, "|")) {
		c = r
	}
	if strings.HasPrefix(c, "/bin/sh -c ") {
		c = "RUN " + strings.TrimPrefix(c, "/bin/sh -c ")
	}
	if strings.HasPrefix(c, "|") { // classic builder: "|2 A=1 B=2 /bin/sh -c ..."
		if i := strings.Index(c, "/bin/sh -c "); i >= 0 {
			c = "RUN " + c[i+len("/bin/sh -c "):]
		}
	}
	return strings.TrimSpace(c)
}

// mnt008 is the check MNT-008.
func mnt008() Check {
	return define(Meta{
		ID:          "MNT-008",
		Dimension:   Maintainability,
		Title:       "Build hygiene",
		Severity:    Low,
		Description: "From the history and the filesystem: `apt-get update` whose package lists are left in the image, apt/pip/npm caches, ADD of remote URLs or archives, sudo in RUN, and leftovers such as .git directories, Dockerfiles and editor state.",
		Remediation: "Clean in the same RUN (`apt-get update && apt-get install ... && rm -rf /var/lib/apt/lists/*`), use COPY instead of ADD, keep a .dockerignore, and use multi-stage builds.",
	}, func(s *Subject) ([]Finding, error) {
		var out []Finding
		if s.Config != nil {
			for i, h := range s.Config.History {
				cmd := historyCommand(h.CreatedBy)
				ev := Evidence{Field: fmt.Sprintf("history[%d]", i), Value: truncate(Redact(cmd), 160)}
				switch {
				case strings.HasPrefix(cmd, "RUN") && aptUpdate.MatchString(cmd) && !aptClean.MatchString(cmd):
					out = append(out, Finding{Severity: Low, Title: "`apt-get update` without removing /var/lib/apt/lists in the same RUN", Evidence: []Evidence{ev}})
				case addRemote.MatchString(cmd):
					out = append(out, Finding{Severity: Low, Title: "ADD of a remote URL: unverified download at build time", Evidence: []Evidence{ev}})
				case addArchive.MatchString(cmd):
					out = append(out, Finding{Severity: Low, Title: "ADD of an archive: implicit extraction; prefer COPY plus an explicit step", Evidence: []Evidence{ev}})
				}
				if strings.HasPrefix(cmd, "RUN ") && runsSudo(strings.TrimPrefix(cmd, "RUN ")) {
					out = append(out, Finding{Severity: Low, Title: "sudo used in RUN", Evidence: []Evidence{ev}})
				}
			}
		}
		if n := len(s.FS.Glob("/var/lib/apt/lists/*_Packages*")); n > 0 {
			out = append(out, Finding{Severity: Low, Title: fmt.Sprintf("apt package lists left in the image (%d index files)", n), Evidence: []Evidence{s.At("/var/lib/apt/lists")}})
		}
		if n := len(s.FS.Glob("/var/cache/apt/archives/*.deb")); n > 0 {
			out = append(out, Finding{Severity: Low, Title: fmt.Sprintf("%d downloaded .deb files left in /var/cache/apt/archives", n), Evidence: []Evidence{s.At("/var/cache/apt/archives")}})
		}
		for _, c := range []string{"/root/.cache/pip", "/root/.npm/_cacache", "/usr/local/share/.cache/yarn"} {
			if n, ok := s.FS.Lookup(c); ok && n.Type == imagefs.TypeDir {
				out = append(out, Finding{Severity: Low, Title: "package cache left in the image: " + c, Evidence: []Evidence{s.At(c)}})
			}
		}
		err := s.FS.Walk(func(n *imagefs.Node) error {
			base := path.Base(n.Path)
			switch {
			case n.Type == imagefs.TypeDir && contains(leftoverDirs, base):
				out = append(out, Finding{Severity: Low, Title: fmt.Sprintf("%s directory left in the image", base), Evidence: []Evidence{s.At(n.Path)}})
				return skipDir
			case n.Type == imagefs.TypeRegular && (base == "Dockerfile" || base == "Containerfile" || strings.HasSuffix(base, ".swp") || base == ".DS_Store"):
				if strings.HasPrefix(n.Path, "/usr/share/") {
					return nil
				}
				out = append(out, Finding{Severity: Low, Title: fmt.Sprintf("build leftover %s in the image", n.Path), Evidence: []Evidence{s.At(n.Path)}})
			}
			return nil
		})
		return out, err
	})
}

// runsSudo reports whether a RUN line runs sudo as a command (also inside
// `sh -c`, pipelines and lists), not merely names it, as `apt-get install
// sudo` does.
func runsSudo(script string) bool {
	cmds, err := shellCommands(script)
	if err != nil {
		return sudoCommand.MatchString(script)
	}
	for _, c := range cmds {
		if !c.Dynamic && path.Base(c.Name) == "sudo" {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
