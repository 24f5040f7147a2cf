package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
)

// gateFlags are the flags a Trivy user expects of a gate: what is shown
// (--severity), the exit code of a policy failure (--exit-code), and what
// is left out of the judgement (--ignore-unfixed, the plain ignore list).
type gateFlags struct {
	exitCode      int
	ignoreUnfixed bool
	ignoreList    string
}

// defaultIgnoreList is read when --ignore-list is not given and it exists.
const defaultIgnoreList = ".shipshapeignore"

func addGateFlags(fl *pflag.FlagSet, g *gateFlags) {
	fl.IntVar(&g.exitCode, "exit-code", ExitPolicy, "exit code when the policy fails; 0 reports without failing the job (report-only mode)")
	fl.BoolVar(&g.ignoreUnfixed, "ignore-unfixed", false, "leave vulnerabilities without a fixed version out of what is judged and shown (SEC-020)")
	fl.StringVar(&g.ignoreList, "ignore-list", "", "plain list `FILE` of advisory or check IDs to waive, one a line, # comments, optional exp:YYYY-MM-DD (default .shipshapeignore when it exists)")
}

// validate checks the flags before any work is done.
func (g gateFlags) validate() error {
	if c := g.exitCode; c < 0 || c > 125 || c == ExitInput || c == ExitInternal {
		return usageError{fmt.Errorf("--exit-code %d: want 0 (report only), 1 (the default) or 4-125; 2 and 3 mean a usage or internal error", c)}
	}
	return nil
}

// policyFailed is a FAIL verdict with the exit code --exit-code asks for.
type policyFailed struct{ code int }

func (policyFailed) Error() string { return policyFailure.Error() }

// Is makes errors.Is(err, policyFailure) hold.
func (policyFailed) Is(target error) bool { return target == policyFailure }

// failure is the error a FAIL verdict returns: nil in report-only mode.
func (g gateFlags) failure() error {
	if g.exitCode == ExitPass {
		return nil
	}
	return policyFailed{g.exitCode}
}

// idLine is one entry of the ignore list: an id, then exp:DATE, then a comment.
var idLine = regexp.MustCompile(`^(\S+)(?:\s+exp:(\S+))?\s*(?:#\s*(.*))?$`)

// parseIgnoreList reads a plain ignore list (like .trivyignore): one advisory
// id (CVE-..., GHSA-..., DSA-..., or any alias) or check id (SEC-001) a line,
// `#` comments, an optional `exp:YYYY-MM-DD` after the id. A comment on the
// line, or the one just above it, is the exception's reason.
func parseIgnoreList(name string, data []byte) ([]policy.Exception, error) {
	var out []policy.Exception
	above := ""
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			above = ""
			continue
		}
		if c, ok := strings.CutPrefix(line, "#"); ok {
			above = strings.TrimSpace(c)
			continue
		}
		m := idLine.FindStringSubmatch(line)
		if m == nil {
			return nil, usageError{fmt.Errorf("%s:%d: want an id, then optionally exp:YYYY-MM-DD and a # comment, got %q", name, i+1, line)}
		}
		e := policy.Exception{Expires: m[2], Reason: m[3]}
		if e.Expires != "" {
			if _, err := time.Parse("2006-01-02", e.Expires); err != nil {
				return nil, usageError{fmt.Errorf("%s:%d: exp:%s: want a date as YYYY-MM-DD", name, i+1, e.Expires)}
			}
		}
		if e.Reason == "" {
			e.Reason = above
		}
		if e.Reason == "" {
			e.Reason = fmt.Sprintf("listed in %s (line %d)", name, i+1)
		}
		if _, ok := checks.Lookup(strings.ToUpper(m[1])); ok {
			e.Check = strings.ToUpper(m[1])
		} else {
			e.Vulnerability = m[1]
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, nil
	}
	// The policy package parses the dates and checks the entries, as for
	// the YAML exceptions file.
	doc, err := yaml.Marshal(map[string]any{"exceptions": out})
	if err != nil {
		return nil, err
	}
	ex, err := policy.ParseExceptions(name, doc)
	if err != nil {
		return nil, usageError{fmt.Errorf("%s: %w", name, err)}
	}
	return ex, nil
}

// addIgnoreList merges the plain ignore list (--ignore-list, else
// .shipshapeignore when it exists) into the policy's exceptions.
func addIgnoreList(p *policy.Policy, file string) error {
	explicit := file != ""
	if !explicit {
		file = defaultIgnoreList
	}
	data, err := os.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		return nil
	case err != nil:
		return usageError{fmt.Errorf("--ignore-list: %w", err)}
	}
	ex, err := parseIgnoreList(file, data)
	if err != nil {
		return err
	}
	return p.AddExceptions(file, ex)
}

// unfixed says whether f is a SEC-020 vulnerability without a fixed version.
func unfixed(f finding.Finding) bool {
	if f.CheckID != "SEC-020" {
		return false
	}
	for _, e := range f.Evidence {
		if e.Field == "fixed version" {
			return strings.HasPrefix(e.Value, "no fix")
		}
	}
	return false
}

// dropUnfixed is --ignore-unfixed: SEC-020 findings without a fixed version
// leave the results, and the verdict is evaluated again under the policy.
func dropUnfixed(rep *report.Report, pol *policy.Policy) {
	n := 0
	for i := range rep.Results {
		r := &rep.Results[i]
		var kept []finding.Finding
		for _, f := range r.Findings {
			if unfixed(f) {
				n++
				continue
			}
			kept = append(kept, f)
		}
		if len(kept) == len(r.Findings) {
			continue
		}
		r.Findings = kept
		if r.Status == finding.Fail {
			r.Status = finding.Pass
			for _, f := range kept {
				if f.Severity > finding.Info || f.Veto {
					r.Status = finding.Fail
				}
			}
		}
		r.Note = strings.TrimSpace(r.Note + " vulnerabilities without a fixed version left out (--ignore-unfixed)")
	}
	var vs []report.Vulnerability
	for _, v := range rep.Vulnerabilities {
		if v.HasFix {
			vs = append(vs, v)
		}
	}
	rep.Vulnerabilities = vs
	if n > 0 {
		rep.Verdict = policy.Evaluate(rep.Results, pol)
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("--ignore-unfixed: %s without a fixed version left out of the judgement", plural(n, "vulnerability", "vulnerabilities")))
	}
}

// parseSeverities reads --severity: a comma-separated list of severities.
func parseSeverities(list []string) (map[finding.Severity]bool, error) {
	if len(list) == 0 {
		return nil, nil
	}
	set := map[finding.Severity]bool{}
	for _, s := range list {
		sev, err := finding.ParseSeverity(strings.TrimSpace(s))
		if err != nil {
			return nil, usageError{fmt.Errorf("--severity: %w", err)}
		}
		set[sev] = true
	}
	return set, nil
}

// shown is the report as --severity shows it: the findings of other
// severities are hidden from the results (never from the verdict, which
// was judged on all of them), and a warning says how many.
func shown(rep *report.Report, sev map[finding.Severity]bool) *report.Report {
	if sev == nil {
		return rep
	}
	cp := *rep
	cp.Results = make([]finding.Result, len(rep.Results))
	hidden := 0
	hiddenFP := map[string]bool{}
	for i, r := range rep.Results {
		var kept []finding.Finding
		for _, f := range r.Findings {
			if sev[f.Severity] {
				kept = append(kept, f)
			} else {
				hidden++
				hiddenFP[f.Fingerprint] = true
			}
		}
		r.Findings = kept
		cp.Results[i] = r
	}
	cp.Vulnerabilities = nil
	for _, v := range rep.Vulnerabilities {
		if !hiddenFP[v.Fingerprint] {
			cp.Vulnerabilities = append(cp.Vulnerabilities, v)
		}
	}
	if hidden > 0 {
		var names []string
		for _, s := range []finding.Severity{finding.Critical, finding.High, finding.Medium, finding.Low, finding.Info} {
			if sev[s] {
				names = append(names, s.String())
			}
		}
		cp.Warnings = append(append([]string(nil), rep.Warnings...), fmt.Sprintf("--severity %s: %s of other severities not shown (the verdict was judged on all of them)", strings.Join(names, ","), plural(hidden, "finding", "findings")))
	}
	return &cp
}

// plural says "1 finding" or "N findings".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// flagsFromEnv gives every flag of cmd that the command line did not set
// the value of its environment variable, SHIPSHAPE_<FLAG> with dashes as
// underscores (SHIPSHAPE_FAIL_ON=high, SHIPSHAPE_OFFLINE=1). The command
// line wins over the environment, the environment over the default.
func flagsFromEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if err != nil || fl.Changed || fl.Name == "help" || fl.Name == "version" {
			return
		}
		name := envName(fl.Name)
		v, ok := os.LookupEnv(name)
		if !ok || v == "" {
			return
		}
		if fl.Value.Type() == "bool" {
			switch strings.ToLower(v) {
			case "yes", "on":
				v = "true"
			case "no", "off":
				v = "false"
			}
		}
		if serr := cmd.Flags().Set(fl.Name, v); serr != nil {
			err = usageError{fmt.Errorf("%s=%q (for --%s): %w", name, v, fl.Name, serr)}
		}
	})
	return err
}

// envName is the environment variable of a flag.
func envName(flag string) string {
	return "SHIPSHAPE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}
