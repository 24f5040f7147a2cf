package cli

import (
	"strings"
	"testing"
)

// Every usage error exits 2, never 3 ("a bug in shipshape") nor 0, and says
// how to do it right.
func TestUsageErrors(t *testing.T) {
	isolate(t)
	for _, tc := range []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"bogus"}, `unknown command "bogus" for "shipshape": want one of`},
		{[]string{"db", "bogus"}, `unknown command "bogus" for "shipshape db": want one of import, status, update`},
		{[]string{"policy", "bogus"}, `want one of explain, init, validate`},
		{[]string{"cache", "bogus"}, `unknown command "bogus" for "shipshape cache"`},
		{[]string{"db"}, "shipshape db needs a subcommand: import, status, update"},
		{[]string{"policy"}, "needs a subcommand"},
		{[]string{"cache"}, "needs a subcommand"},
		{[]string{"docs"}, "needs a subcommand: checks"},
		{[]string{"policy", "explain"}, "usage: shipshape policy explain CHECK-ID"},
		{[]string{"policy", "validate"}, "usage: shipshape policy validate FILE..."},
		{[]string{"policy", "init", "a", "b"}, "usage: shipshape policy init [FILE]"},
		{[]string{"db", "import"}, "usage: shipshape db import PATH"},
		{[]string{"version", "x"}, "usage: shipshape version"},
		{[]string{"check"}, "check takes one IMAGE, got 0 arguments"},
		{[]string{"check", "a", "b"}, "usage: shipshape check IMAGE"},
		{[]string{"check", "--bogus", "x"}, "unknown flag: --bogus (see shipshape check --help)"},
		{[]string{"sbom"}, "sbom takes one IMAGE, got 0 arguments"},
		{[]string{"diff", "a"}, "diff takes BASELINE and CANDIDATE, got 1 argument "},
		{[]string{"probe", "a", "b", "c"}, "probe takes one IMAGE, got 3 arguments"},
		{[]string{"observe"}, "observe takes one IMAGE"},
	} {
		r := run(t, tc.args...)
		if r.code != ExitInput || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "bug in shipshape") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// A lone `shipshape` shows the help, and `check -h` is not an error.
func TestHelpIsNotAnError(t *testing.T) {
	for _, args := range [][]string{nil, {"--help"}, {"check", "--help"}, {"db", "--help"}} {
		r := run(t, args...)
		if r.code != ExitPass || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("%q: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
}
