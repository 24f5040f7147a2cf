package secrets

import (
	"fmt"
	"regexp"
	"strings"
)

// Kinds of rules.
const (
	// KindSecret is a credential in a file's content (CMP-004).
	KindSecret = "secret"
	// KindBackdoor is a way into a running container: a reverse shell, a
	// permissive sshd or sudoers line, a cron entry (CMP-007).
	KindBackdoor = "backdoor"
)

// Rule is one compiled rule.
type Rule struct {
	ID          string
	Description string
	Kind        string
	// Scripts limits the rule to scripts (see Input.Script).
	Scripts bool
	// Multiline lets a match span lines: up to blockSize bytes from the
	// keyword's line when the rule says so, smallBlock when the regex shows it.
	Multiline bool
	block     int

	re          *regexp.Regexp
	secretGroup int
	entropy     float64
	keywords    []string
	// exact holds the keywords as written, for caseSensitiveKeywords.
	exact []string
	path  *pathRe
	allow []*allowlist
}

// Regex returns the rule's regular expression source ("" for a path-only rule).
func (r *Rule) Regex() string {
	if r.re == nil {
		return ""
	}
	return r.re.String()
}

type target uint8

const (
	targetSecret target = iota
	targetMatch
	targetLine
)

// allowlist is a compiled allowlist: a finding it matches is dropped.
type allowlist struct {
	description string
	and         bool
	target      target
	regexes     []*regexp.Regexp
	paths       []pathRe
	stopwords   []string
	// rules, for a global allowlist, limits it to these rule IDs (nil: all).
	rules map[string]bool
}

func compileRegex(what, src string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return re, nil
}

func compileAllowlist(what string, a *AllowlistSpec) (*allowlist, error) {
	al := &allowlist{description: a.Description}
	switch strings.ToUpper(a.Condition) {
	case "", "OR":
	case "AND":
		al.and = true
	default:
		return nil, fmt.Errorf("%s: condition %q: want OR or AND", what, a.Condition)
	}
	switch a.RegexTarget {
	case "", "secret":
	case "match":
		al.target = targetMatch
	case "line":
		al.target = targetLine
	default:
		return nil, fmt.Errorf("%s: regexTarget %q: want secret, match or line", what, a.RegexTarget)
	}
	for i, src := range a.Regexes {
		re, err := compileRegex(fmt.Sprintf("%s: regexes[%d]", what, i), src)
		if err != nil {
			return nil, err
		}
		al.regexes = append(al.regexes, re)
	}
	for i, src := range a.Paths {
		re, err := compileRegex(fmt.Sprintf("%s: paths[%d]", what, i), src)
		if err != nil {
			return nil, err
		}
		al.paths = append(al.paths, newPathRe(re))
	}
	for _, w := range a.Stopwords {
		if w != "" {
			al.stopwords = append(al.stopwords, strings.ToLower(w))
		}
	}
	if len(a.TargetRules) > 0 {
		al.rules = map[string]bool{}
		for _, id := range a.TargetRules {
			al.rules[id] = true
		}
	}
	if len(al.regexes)+len(al.paths)+len(al.stopwords) == 0 && len(a.Commits) == 0 {
		return nil, fmt.Errorf("%s: an allowlist needs regexes, paths or stopwords", what)
	}
	return al, nil
}

// pathOnly reports whether the allowlist decides on the path alone, so that a
// file can be skipped before it is read.
func (a *allowlist) pathOnly() bool {
	if len(a.paths) == 0 {
		return false
	}
	return !a.and || len(a.regexes)+len(a.stopwords) == 0
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// allows reports whether the allowlist drops a finding.
func (a *allowlist) allows(path, secret, match, line string) bool {
	text := secret
	switch a.target {
	case targetMatch:
		text = match
	case targetLine:
		text = line
	}
	type crit struct{ set, ok bool }
	cs := [3]crit{
		{len(a.paths) > 0, len(a.paths) > 0 && anyPath(a.paths, path, strings.ToLower(path))},
		{len(a.regexes) > 0, len(a.regexes) > 0 && anyMatch(a.regexes, text)},
		{len(a.stopwords) > 0, false},
	}
	if cs[2].set {
		low := strings.ToLower(secret)
		for _, w := range a.stopwords {
			if strings.Contains(low, w) {
				cs[2].ok = true
				break
			}
		}
	}
	if a.and {
		any := false
		for _, c := range cs {
			if c.set && !c.ok {
				return false
			}
			any = any || c.set
		}
		return any
	}
	for _, c := range cs {
		if c.ok {
			return true
		}
	}
	return false
}

// compileRule checks and compiles one rule.
func compileRule(s *RuleSpec) (*Rule, error) {
	if s.ID == "" {
		return nil, fmt.Errorf("a rule has no id")
	}
	what := "rule " + s.ID
	r := &Rule{ID: s.ID, Description: s.Description, Kind: s.Kind, secretGroup: s.SecretGroup, entropy: s.Entropy, Multiline: s.Multiline}
	switch s.Kind {
	case "", KindSecret:
		r.Kind = KindSecret
	case KindBackdoor:
	default:
		return nil, fmt.Errorf("%s: kind %q: want secret or backdoor", what, s.Kind)
	}
	switch s.Scope {
	case "", "any":
	case "scripts":
		r.Scripts = true
	default:
		return nil, fmt.Errorf("%s: scope %q: want any or scripts", what, s.Scope)
	}
	if s.Regex == "" && s.Path == "" {
		return nil, fmt.Errorf("%s: needs a regex or a path", what)
	}
	if s.Regex != "" {
		re, err := compileRegex(what+": regex", s.Regex)
		if err != nil {
			return nil, err
		}
		if s.SecretGroup < 0 || s.SecretGroup > re.NumSubexp() {
			return nil, fmt.Errorf("%s: secretGroup %d, but the regex has %d groups", what, s.SecretGroup, re.NumSubexp())
		}
		r.re = re
		// A gitleaks regex that crosses lines says so with [\s\S], (?s) or
		// \n; those span a few lines, so a smaller block does.
		if r.Multiline {
			r.block = blockSize
		} else if strings.Contains(s.Regex, `[\s\S`) || strings.Contains(s.Regex, `(?s`) || strings.Contains(s.Regex, `\n]{`) || strings.Contains(s.Regex, `[\r\n]`) {
			r.Multiline, r.block = true, smallBlock
		}
	}
	if s.Path != "" {
		re, err := compileRegex(what+": path", s.Path)
		if err != nil {
			return nil, err
		}
		p := newPathRe(re)
		r.path = &p
	}
	for _, k := range s.Keywords {
		if k != "" {
			r.keywords = append(r.keywords, strings.ToLower(k))
			if s.CaseSensitiveKeywords {
				r.exact = append(r.exact, k)
			}
		}
	}
	specs := s.Allowlists
	if s.Allowlist != nil {
		specs = append([]AllowlistSpec{*s.Allowlist}, specs...)
	}
	for i := range specs {
		al, err := compileAllowlist(fmt.Sprintf("%s: allowlists[%d]", what, i), &specs[i])
		if err != nil {
			return nil, err
		}
		r.allow = append(r.allow, al)
	}
	return r, nil
}

// Name is a short name for the rule, fit for a title: its description when
// that is short, else its ID in words ("npm access token").
func (r *Rule) Name() string {
	if d := r.Description; d != "" && len(d) <= 60 && !strings.HasSuffix(d, ".") {
		return d
	}
	return strings.ReplaceAll(r.ID, "-", " ")
}
