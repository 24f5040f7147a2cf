package checks

import (
	"fmt"
	"path"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
)

// problem is one reason a command cannot run.
type problem struct {
	msg string
	ev  Evidence
}

// shellBuiltins are words a POSIX shell runs itself, so they need no file.
var shellBuiltins = map[string]bool{
	"exit": true, "test": true, "[": true, "[[": true, "echo": true, "printf": true, "cd": true, "true": true,
	"false": true, ":": true, "set": true, "export": true, "unset": true, "read": true, "source": true, ".": true,
	"eval": true, "wait": true, "trap": true, "shift": true, "return": true, "kill": true, "ulimit": true,
	"umask": true, "command": true, "type": true, "exec": true, "if": true, "then": true, "else": true,
	"elif": true, "fi": true, "do": true, "done": true, "while": true, "until": true, "for": true, "case": true,
	"esac": true, "in": true, "!": true, "{": true, "}": true, "local": true, "sleep": false,
}

// shellCommandWords returns the command words of a shell command line: the
// first word of each simple command, after variable assignments and exec.
// Words that need expansion ($VAR, globs) are left out: they cannot be resolved statically.
func shellCommandWords(line string) []string {
	for _, op := range []string{"&&", "||", ";;", "\n", ";", "|", "&", "(", ")", "`", "$("} {
		line = strings.ReplaceAll(line, op, "\x00")
	}
	var out []string
	for _, seg := range strings.Split(line, "\x00") {
		words := strings.Fields(seg)
		for len(words) > 0 {
			w := strings.Trim(words[0], `"'`)
			switch {
			case w == "exec" || w == "if" || w == "then" || w == "else" || w == "elif" || w == "do" || w == "while" || w == "until" || w == "!" || w == "{" || w == "time" || w == "nohup":
				words = words[1:]
				continue
			case isAssignment(w):
				words = words[1:]
				continue
			}
			if !shellBuiltins[w] && !strings.ContainsAny(w, "$*?[]<>{}~") && w != "" && !strings.HasPrefix(w, "-") {
				out = append(out, w)
			}
			break
		}
	}
	return out
}

func isAssignment(w string) bool {
	k, _, ok := strings.Cut(w, "=")
	if !ok || k == "" {
		return false
	}
	for i, r := range k {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// isShellForm reports whether argv is Docker's shell form (["/bin/sh", "-c", "..."]).
func isShellForm(argv []string) bool {
	if len(argv) < 3 || argv[1] != "-c" {
		return false
	}
	switch path.Base(argv[0]) {
	case "sh", "bash", "dash", "ash", "zsh", "ksh":
		return true
	}
	return false
}

// lookPath finds word the way the runtime does: a word with a slash is a path
// (relative to the working directory), anything else is searched along the
// image's PATH.
func (s *Subject) lookPath(word string) (string, *imagefs.Node, string, error) {
	if strings.Contains(word, "/") {
		p := word
		if !strings.HasPrefix(p, "/") {
			wd := "/"
			if s.Config != nil && s.Config.Config.WorkingDir != "" {
				wd = s.Config.Config.WorkingDir
			}
			p = path.Join(wd, p)
		}
		n, real, err := s.FS.Stat(p)
		if err != nil {
			return p, nil, "", err
		}
		return p, n, real, nil
	}
	var firstErr error
	for _, d := range s.envPath() {
		p := path.Join(d, word)
		n, real, err := s.FS.Stat(p)
		if err == nil && n.Type == imagefs.TypeRegular {
			return p, n, real, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return word, nil, "", fmt.Errorf("not found in PATH (%s)", strings.Join(s.envPath(), ":"))
}

// runnable says why the program named by word cannot start: missing, not a
// file, not executable, wrong architecture, missing dynamic loader, missing
// script interpreter. field names the config field for the evidence.
func (s *Subject) runnable(word, field string, checkArch bool) []problem {
	p, n, real, err := s.lookPath(word)
	ev := Evidence{Field: field, Value: word}
	if err != nil {
		return []problem{{fmt.Sprintf("%s: %v", word, err), ev}}
	}
	ev = s.At(p)
	ev.Field = field
	if real != p {
		ev.Value = "-> " + real
	}
	if n.Type != imagefs.TypeRegular {
		return []problem{{fmt.Sprintf("%s is a %s, not a file", p, n.Type), ev}}
	}
	if n.Mode&0o111 == 0 {
		return []problem{{fmt.Sprintf("%s is not executable (mode %04o)", p, n.Mode.Perm()), ev}}
	}
	b := s.Inv.Binaries[real]
	if b == nil {
		return nil
	}
	var out []problem
	switch b.Format {
	case "elf":
		if checkArch && s.Config != nil && b.Arch != "" && b.Arch != s.Config.Architecture {
			out = append(out, problem{fmt.Sprintf("%s is built for %s but the image is %s", p, b.Arch, s.Config.Architecture), ev})
		}
		if b.Interp != "" {
			if ln, _, err := s.FS.Stat(b.Interp); err != nil || ln.Type != imagefs.TypeRegular {
				out = append(out, problem{fmt.Sprintf("%s needs the dynamic loader %s, which is missing", p, b.Interp), ev})
			}
		}
	case "script":
		interp := strings.Fields(b.Shebang)
		if len(interp) == 0 {
			out = append(out, problem{fmt.Sprintf("%s has an empty #! line", p), ev})
			break
		}
		if ps := s.runnable(interp[0], field+" (interpreter of "+p+")", checkArch); len(ps) > 0 {
			return append(out, ps...)
		}
		if path.Base(interp[0]) == "env" && len(interp) > 1 {
			prog := interp[1]
			if prog == "-S" && len(interp) > 2 {
				prog = interp[2]
			}
			out = append(out, s.runnable(prog, field+" (interpreter of "+p+" via env)", checkArch)...)
		}
	}
	return out
}

// commandProblems checks an argv as the runtime would start it.
func (s *Subject) commandProblems(argv []string, field string, checkArch bool) []problem {
	if len(argv) == 0 {
		return nil
	}
	out := s.runnable(argv[0], field, checkArch)
	if isShellForm(argv) && len(out) == 0 {
		for _, w := range shellCommandWords(argv[2]) {
			out = append(out, s.runnable(w, field+" (command in shell form)", checkArch)...)
		}
	}
	return out
}

// entrypoint returns the argv the container starts with (ENTRYPOINT + CMD).
func (s *Subject) entrypoint() []string {
	if s.Config == nil {
		return nil
	}
	c := s.Config.Config
	return append(append([]string{}, c.Entrypoint...), c.Cmd...)
}
