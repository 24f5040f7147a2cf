package secrets

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// pathRe is a path regular expression with a literal that every match must
// contain: strings.Contains on it rejects most paths before the regex runs
// (a walk asks about every file of the image).
type pathRe struct {
	re *regexp.Regexp
	// lit is lowercase; "" when the regex has no required literal of 3+ bytes.
	lit string
}

func newPathRe(re *regexp.Regexp) pathRe {
	p := pathRe{re: re}
	if t, err := syntax.Parse(re.String(), syntax.Perl); err == nil {
		if lit := requiredLiteral(t.Simplify()); len(lit) >= 3 {
			p.lit = strings.ToLower(lit)
		}
	}
	return p
}

// match reports whether the regex matches path; low is strings.ToLower(path).
func (p pathRe) match(path, low string) bool {
	if p.lit != "" && !strings.Contains(low, p.lit) {
		return false
	}
	return p.re.MatchString(path)
}

// requiredLiteral returns the longest literal string that every match of re
// contains, or "".
func requiredLiteral(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		return string(re.Rune)
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiteral(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiteral(re.Sub[0])
		}
	case syntax.OpConcat:
		best := ""
		for _, s := range re.Sub {
			if l := requiredLiteral(s); len(l) > len(best) {
				best = l
			}
		}
		return best
	}
	return ""
}

func anyPath(res []pathRe, path, low string) bool {
	for _, p := range res {
		if p.match(path, low) {
			return true
		}
	}
	return false
}
