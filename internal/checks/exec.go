package checks

import (
	"fmt"
	"path"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
)

// problem is one reason a command cannot run.
type problem struct {
	msg string
	ev  Evidence
}

// shellBuiltins are the commands bash and POSIX shells run themselves: they
// need no file on PATH.
var shellBuiltins = map[string]bool{
	".": true, ":": true, "[": true, "alias": true, "bg": true, "bind": true, "break": true, "builtin": true,
	"caller": true, "cd": true, "command": true, "compgen": true, "complete": true, "compopt": true,
	"continue": true, "declare": true, "dirs": true, "disown": true, "echo": true, "enable": true, "eval": true,
	"exec": true, "exit": true, "export": true, "false": true, "fc": true, "fg": true, "getopts": true,
	"hash": true, "help": true, "history": true, "jobs": true, "kill": true, "let": true, "local": true,
	"logout": true, "mapfile": true, "popd": true, "printf": true, "pushd": true, "pwd": true, "read": true,
	"readarray": true, "readonly": true, "return": true, "set": true, "shift": true, "shopt": true,
	"source": true, "suspend": true, "test": true, "times": true, "trap": true, "true": true, "type": true,
	"typeset": true, "ulimit": true, "umask": true, "unalias": true, "unset": true, "wait": true,
}

// shellNames are the shells whose `-c SCRIPT` is parsed as a nested script.
var shellNames = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "mksh": true}

// maxShellDepth bounds `sh -c 'sh -c ...'` nesting.
const maxShellDepth = 8

// shellCommand is one simple command of a shell script: the word the shell
// looks up (a program, unless it is a builtin or a function of the script)
// and its arguments. A word that needs expansion ($VAR, $(...), globs) is
// "" and Dynamic is true: it cannot be resolved statically.
type shellCommand struct {
	Name    string
	Args    []string
	Dynamic bool
	// Exec says the command replaces the shell (`exec prog`).
	Exec bool
}

// shellCommands parses script as a shell (bash syntax, a superset of POSIX
// sh) and returns every simple command it runs, in order: each command of
// every pipeline and && / || list, in subshells, command substitutions,
// conditions and loop bodies, and, recursively, in the scripts given to
// `sh -c` / `bash -c`. Redirections and variable assignments are not
// commands; `exec` without a command only redirects, `exec prog` and
// `command prog` run prog. Builtins are returned too (see shellBuiltins);
// calls of the script's own functions are returned as dynamic.
func shellCommands(script string) ([]shellCommand, error) {
	return parseShellDepth(script, 0)
}

func parseShellDepth(script string, depth int) ([]shellCommand, error) {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(script), "")
	if err != nil {
		return nil, err
	}
	var out []shellCommand
	var firstErr error
	syntax.Walk(f, func(n syntax.Node) bool {
		call, ok := n.(*syntax.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		words := make([]string, len(call.Args))
		dynamic := make([]bool, len(call.Args))
		for i, w := range call.Args {
			words[i], dynamic[i] = literalWord(w)
		}
		c := shellCommand{Name: words[0], Args: words[1:], Dynamic: dynamic[0]}
		// exec [-cl] [-a name] [prog args...], command [-pVv] prog args...: the
		// program is the first word after the options.
		for !c.Dynamic && (c.Name == "exec" || c.Name == "command" || c.Name == "builtin") {
			wrapper := c.Name
			out = append(out, c)
			i := 1
			for i < len(words) && !dynamic[i] && strings.HasPrefix(words[i], "-") {
				if words[i] == "--" {
					i++
					break
				}
				if wrapper == "exec" && words[i] == "-a" {
					i++
				}
				if wrapper == "command" && (words[i] == "-v" || words[i] == "-V") {
					i = len(words) // command -v prog only looks prog up
				}
				i++
			}
			if i >= len(words) {
				return true // exec with only redirections, or command -v
			}
			words, dynamic = words[i:], dynamic[i:]
			c = shellCommand{Name: words[0], Args: words[1:], Dynamic: dynamic[0], Exec: wrapper == "exec"}
		}
		out = append(out, c)
		if c.Dynamic || depth >= maxShellDepth || !shellNames[path.Base(c.Name)] {
			return true
		}
		// sh -c SCRIPT [name args...]: the script's commands run too.
		if i := shellScriptArg(c.Args, dynamic[1:]); i >= 0 {
			nested, err := parseShellDepth(c.Args[i], depth+1)
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("%s -c: %w", c.Name, err)
			}
			out = append(out, nested...)
		}
		return true
	})
	// Functions the script declares are not looked up on PATH.
	funcs := map[string]bool{}
	syntax.Walk(f, func(n syntax.Node) bool {
		if fd, ok := n.(*syntax.FuncDecl); ok && fd.Name != nil {
			funcs[fd.Name.Value] = true
		}
		return true
	})
	if len(funcs) > 0 {
		for i := range out {
			if funcs[out[i].Name] {
				out[i].Name, out[i].Dynamic = "", true
			}
		}
	}
	return out, firstErr
}

// literalWord returns the value of a word made only of literal and quoted
// text; ok is false (dynamic true) when it needs expansion.
func literalWord(w *syntax.Word) (string, bool) {
	var b strings.Builder
	for _, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			if strings.ContainsAny(p.Value, "*?[") || strings.HasPrefix(p.Value, "~") && b.Len() == 0 {
				return "", true
			}
			b.WriteString(unescapeLit(p.Value))
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", true
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				l, ok := q.(*syntax.Lit)
				if !ok {
					return "", true
				}
				b.WriteString(unescapeDbl(l.Value))
			}
		default:
			return "", true
		}
	}
	return b.String(), false
}

// unescapeLit removes the backslashes of an unquoted word.
func unescapeLit(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			if s[i] == '\n' {
				continue // line continuation
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unescapeDbl removes the backslashes that escape $ ` " \ and newline inside double quotes.
func unescapeDbl(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
			i++
			if s[i] == '\n' {
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// shellCommandWords returns the distinct programs a shell line looks up on
// PATH or by path: the command words of shellCommands that are neither
// builtins nor dynamic, in order.
func shellCommandWords(line string) ([]string, error) {
	cmds, err := shellCommands(line)
	var out []string
	seen := map[string]bool{}
	for _, c := range cmds {
		if c.Dynamic || c.Name == "" || shellBuiltins[c.Name] || seen[c.Name] {
			continue
		}
		seen[c.Name] = true
		out = append(out, c.Name)
	}
	return out, err
}

// shellExecsLast reports whether the script ends by replacing the shell
// with a program (`exec prog`, also as the last command of an && list), so
// that the program, not the shell, ends up as PID 1.
func shellExecsLast(script string) bool {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(script), "")
	if err != nil || len(f.Stmts) == 0 {
		return false
	}
	st := f.Stmts[len(f.Stmts)-1]
	for {
		if st.Background || st.Negated {
			return false
		}
		b, ok := st.Cmd.(*syntax.BinaryCmd)
		if !ok || b.Op != syntax.AndStmt && b.Op != syntax.OrStmt {
			break
		}
		st = b.Y
	}
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Args) < 2 {
		return false
	}
	name, dyn := literalWord(call.Args[0])
	if dyn || name != "exec" {
		return false
	}
	for _, w := range call.Args[1:] {
		a, dyn := literalWord(w)
		if dyn || !strings.HasPrefix(a, "-") {
			return true
		}
	}
	return false
}

// shellScriptArg returns the index in args (a shell's arguments) of the
// script of `-c SCRIPT`, also with options before it or combined with -c
// (`-ec`, `-lc`, `-o pipefail -c`), or -1 when the shell reads a script
// file or stdin instead. A dynamic argument (dynamic[i]) stops the search.
func shellScriptArg(args []string, dynamic []bool) int {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if i < len(dynamic) && dynamic[i] || !strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "+") || a == "--" || a == "-" {
			return -1 // sh SCRIPTFILE: not read here
		}
		if a == "-o" || a == "+o" || a == "-O" || a == "+O" {
			i++
			continue
		}
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a[1:], "c") {
			if i+1 < len(args) && !(i+1 < len(dynamic) && dynamic[i+1]) {
				return i + 1
			}
			return -1
		}
	}
	return -1
}

// shellScript returns the script of an argv that runs a shell with -c
// (Docker's shell form ["/bin/sh", "-c", "..."], or `bash -lc "..."`).
func shellScript(argv []string) (string, bool) {
	if len(argv) < 3 || !shellNames[path.Base(argv[0])] {
		return "", false
	}
	i := shellScriptArg(argv[1:], nil)
	if i < 0 {
		return "", false
	}
	return argv[1+i], true
}

// isShellForm reports whether argv runs its command line through a shell
// (Docker's shell form ["/bin/sh", "-c", "..."], or `bash -ec "..."`).
func isShellForm(argv []string) bool {
	_, ok := shellScript(argv)
	return ok
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
	if script, ok := shellScript(argv); ok && len(out) == 0 {
		words, err := shellCommandWords(script)
		if err != nil {
			out = append(out, problem{fmt.Sprintf("the shell cannot parse the command line: %v", err), Evidence{Field: field, Value: script}})
		}
		for _, w := range words {
			if w == argv[0] || path.Base(w) == path.Base(argv[0]) && !strings.Contains(w, "/") {
				continue // the shell itself, already resolved
			}
			out = append(out, s.runnable(w, field+" (command in shell form)", checkArch)...)
		}
	}
	// One problem per message: a program used twice is reported once.
	seen := map[string]bool{}
	kept := out[:0]
	for _, p := range out {
		if !seen[p.msg] {
			seen[p.msg] = true
			kept = append(kept, p)
		}
	}
	return kept
}

// entrypoint returns the argv the container starts with (ENTRYPOINT + CMD).
func (s *Subject) entrypoint() []string {
	if s.Config == nil {
		return nil
	}
	c := s.Config.Config
	return append(append([]string{}, c.Entrypoint...), c.Cmd...)
}
