package checks

import (
	"path"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
)

var standardBinDirs = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// envPath returns the PATH directories from the image's ENV (the default PATH when unset).
func (s *Subject) envPath() []string {
	p := defaultPath
	if s.Config != nil {
		for _, e := range s.Config.Config.Env {
			if v, ok := strings.CutPrefix(e, "PATH="); ok {
				p = v
			}
		}
	}
	var out []string
	for _, d := range strings.Split(p, ":") {
		if d != "" {
			out = append(out, d)
		}
	}
	return out
}

// foundTool is a program present in the image.
type foundTool struct {
	Name string
	// Path is where it was found; Real is the file it resolves to.
	Path string
	Real string
	Node *imagefs.Node
}

// findTools returns the named programs present as executable files in the
// standard and PATH directories, one entry per distinct file.
func (s *Subject) findTools(names ...string) []foundTool {
	dirs := append(append([]string{}, s.envPath()...), standardBinDirs...)
	seen := map[string]bool{}
	var out []foundTool
	for _, name := range names {
		for _, d := range dirs {
			p := path.Join(d, name)
			n, real, err := s.FS.Stat(p)
			if err != nil || !n.IsExecutable() {
				continue
			}
			key := name + "\x00" + real
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, foundTool{Name: name, Path: p, Real: real, Node: n})
			break
		}
	}
	return out
}

// toolFindings turns found tools into one finding each.
func (s *Subject) toolFindings(tools []foundTool, sev func(name string) Severity, title func(t foundTool) string) []Finding {
	var out []Finding
	for _, t := range tools {
		ev := s.At(t.Path)
		if t.Real != t.Path {
			ev.Value = "-> " + t.Real
			if n, ok := s.FS.Lookup(t.Real); ok {
				l := n.Layer
				ev.Layer = &l
				if ls := s.FS.Layers(); l < len(ls) {
					ev.LayerDigest = ls[l].Digest
				}
			}
		}
		out = append(out, Finding{Severity: sev(t.Name), Title: title(t), Evidence: []Evidence{ev}})
	}
	return out
}
