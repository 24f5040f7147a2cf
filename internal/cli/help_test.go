package cli

import (
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// flagLine is one line of a Flags: section: shorthand, name, value name, usage.
var flagLine = regexp.MustCompile(`^\s+(?:-[a-zA-Z], )?--([a-z0-9-]+)(?: (\S.*?))?\s{2,}(\S.*)$`)

// valueName is what pflag may show after a flag: its type, or a value
// name a `backquoted` word of the help asked for (FILE, DIR, FORMAT=FILE).
var valueName = regexp.MustCompile(`^(string|strings|stringArray|int|uint|float|duration|[A-Z][A-Z0-9_]*(?:[=|/.][A-Z][A-Z0-9_]*)*)$`)

// Every command's --help renders, and every flag line in it is sane: pflag
// turns the first `backquoted` word of a flag's help into its value name,
// so a quoted command in the help (`shipshape probe --help`) must never
// become one (issue 15, item 11).
func TestHelpOfEveryCommand(t *testing.T) {
	isolate(t)
	var walk func(c *cobra.Command)
	var cmds [][]string
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		cmds = append(cmds, strings.Fields(c.CommandPath())[1:])
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRoot(io.Discard, io.Discard, &runControl{}))
	if len(cmds) < 15 {
		t.Fatalf("only %d commands found", len(cmds))
	}
	for _, path := range cmds {
		r := run(t, append(append([]string(nil), path...), "--help")...)
		name := "shipshape " + strings.Join(path, " ")
		if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("%s --help: exit %d, stderr %q", name, r.code, r.stderr)
			continue
		}
		if strings.Contains(r.stdout, "Flags:") && !strings.Contains(r.stdout, "SHIPSHAPE_<FLAG>") {
			t.Errorf("%s --help does not say flags can come from the environment", name)
		}
		inFlags := false
		for _, line := range strings.Split(r.stdout, "\n") {
			switch {
			case strings.HasSuffix(line, "Flags:"):
				inFlags = true
				continue
			case strings.TrimSpace(line) == "":
				inFlags = false
				continue
			case !inFlags:
				continue
			}
			m := flagLine.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("%s: unreadable flag line %q", name, line)
				continue
			}
			flag, value, usage := m[1], m[2], m[3]
			if value != "" && !valueName.MatchString(value) {
				t.Errorf("%s --%s: value name %q (a stray backquoted word?)\n%s", name, flag, value, line)
			}
			if strings.Contains(usage, "`") {
				t.Errorf("%s --%s: a backquote is left in the help: %s", name, flag, usage)
			}
			if strings.Count(usage, "(default") > 1 {
				t.Errorf("%s --%s: two defaults: %s", name, flag, usage)
			}
			if strings.HasSuffix(strings.TrimSpace(usage), ".") {
				t.Errorf("%s --%s: help ends with a full stop: %s", name, flag, usage)
			}
		}
	}
}
