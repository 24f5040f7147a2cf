package checks

import (
	"regexp"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/secrets"
)

// secretValue is a rule that recognises a credential by the shape of its value.
type secretValue struct {
	name string
	re   *regexp.Regexp
}

var secretValues = []secretValue{
	{"AWS access key ID", regexp.MustCompile(`\b(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b`)},
	{"GitHub token", regexp.MustCompile(`\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{82}\b`)},
	{"GitLab token", regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20}\b`)},
	{"Slack token", regexp.MustCompile(`\bxox[baprs]-[A-Za-z0-9-]{10,}\b`)},
	{"Stripe key", regexp.MustCompile(`\b(sk|rk)_live_[A-Za-z0-9]{20,}\b`)},
	{"npm token", regexp.MustCompile(`\bnpm_[A-Za-z0-9]{36}\b`)},
	{"Google API key", regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`)},
	{"private key", regexp.MustCompile(`-----BEGIN ([A-Z]+ )?PRIVATE KEY-----`)},
	{"JSON web token", regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`)},
	{"URL with a password", regexp.MustCompile(`[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]{3,}@[^\s/]+`)},
}

// secretKey matches variable names that hold credentials.
var secretKey = regexp.MustCompile(`(?i)(passw(or)?d|passwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?\b|auth[_-]?(token|key)|authorization)`)

// referenceKey matches names whose value points at a secret rather than holding it.
var referenceKey = regexp.MustCompile(`(?i)[_.-](file|path|dir|url|uri|host|endpoint|name|id)$`)

// notSecret matches values that reference a secret instead of holding one.
var notSecret = regexp.MustCompile(`^(/|\$|\{\{|<|file:|env:|vault:|arn:|projects/|none$|null$|false$|true$|0$|1$|yes$|no$)`)

// secretNamedVariable is findSecret's kind for a value known to be secret
// only by the name of its variable.
const secretNamedVariable = "secret-named variable"

// findSecret says whether KEY=VALUE holds a credential, and which kind.
func findSecret(key, value string) (string, bool) {
	for _, r := range secretValues {
		if r.re.MatchString(value) {
			return r.name, true
		}
	}
	v := strings.TrimSpace(value)
	if key != "" && secretKey.MatchString(key) && len(v) >= 4 && !notSecret.MatchString(strings.ToLower(v)) {
		if referenceKey.MatchString(key) {
			return "", false
		}
		return secretNamedVariable, true
	}
	return "", false
}

// Redact masks every credential-shaped value, and the value of every
// secret-named KEY=VALUE, in a line such as a history entry.
func Redact(line string) string {
	line = assignment.ReplaceAllStringFunc(line, func(m string) string {
		sub := assignment.FindStringSubmatch(m)
		k, v := sub[1], strings.Trim(sub[2], `"'`)
		if _, ok := findSecret(k, v); ok {
			return strings.Replace(m, sub[2], secrets.Mask(v), 1)
		}
		return m
	})
	for _, r := range secretValues {
		line = r.re.ReplaceAllStringFunc(line, secrets.Mask)
	}
	return line
}

// MaskIfSecret returns value masked when KEY=VALUE holds a credential, else value.
func MaskIfSecret(key, value string) string {
	if _, ok := findSecret(key, value); ok {
		return secrets.Mask(value)
	}
	return value
}
