package checks

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/secrets"
)

// assignment finds KEY=VALUE words in history lines (build args show up so).
var assignment = regexp.MustCompile(`(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S+)`)

// cmp005 is the check CMP-005.
func cmp005() Check {
	return define(Meta{
		ID:          "CMP-005",
		Dimension:   Compliance,
		Title:       "No secrets in ENV, labels or history",
		Severity:    Critical,
		Veto:        true,
		Description: "ENV values, labels and history lines (where build arguments are recorded) are readable by anyone who pulls the image. Values shaped like credentials (cloud keys, tokens, private keys, URLs with passwords) and non-empty values of secret-named variables are reported, masked. A credential-shaped value is a veto in the default policy; a secret-named variable whose value has no credential shape is critical, not a veto.",
		Remediation: "Rotate the credential now, then pass secrets at run time (orchestrator secrets) and at build time with `RUN --mount=type=secret`, never with ENV or ARG.",
	}, func(s *Subject) ([]Finding, error) {
		if s.Config == nil {
			return nil, Skip("no config")
		}
		// One finding per distinct secret, with every place it appears as evidence.
		var out []Finding
		byValue := map[string]int{}
		add := func(where, key, value, kind string) {
			ev := Evidence{Field: where, Value: key + "=" + secrets.Mask(value)}
			if i, ok := byValue[value]; ok {
				out[i].Evidence = append(out[i].Evidence, ev)
				return
			}
			byValue[value] = len(out)
			// A value shaped like a credential (a rule of secretValues) is a
			// live credential: a veto. A secret-named variable is known only
			// by its name: critical, not a veto.
			out = append(out, Finding{Severity: Critical, Veto: kind != secretNamedVariable, Title: fmt.Sprintf("%s in %s: %s", kind, where, key), Evidence: []Evidence{ev}})
		}
		for _, e := range s.Config.Config.Env {
			k, v, _ := strings.Cut(e, "=")
			if kind, ok := findSecret(k, v); ok {
				add("Config.Env", k, v, kind)
			}
		}
		var keys []string
		for k := range s.Config.Config.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := s.Config.Config.Labels[k]
			if kind, ok := findSecret(k, v); ok {
				add("Config.Labels", k, v, kind)
			}
		}
		for i, h := range s.Config.History {
			line := h.CreatedBy
			where := fmt.Sprintf("history[%d]", i)
			seen := map[string]bool{}
			for _, m := range assignment.FindAllStringSubmatch(line, -1) {
				k, v := m[1], strings.Trim(m[2], `"'`)
				if kind, ok := findSecret(k, v); ok && !seen[v] {
					add(where, k, v, kind)
					seen[v] = true
				}
			}
			for _, r := range secretValues {
				for _, v := range r.re.FindAllString(line, -1) {
					if !seenWithin(seen, v) {
						add(where, "(value)", v, r.name)
						seen[v] = true
					}
				}
			}
		}
		return out, nil
	})
}

// seenWithin reports whether v is, or is part of, a value already reported for this line.
func seenWithin(seen map[string]bool, v string) bool {
	for k := range seen {
		if strings.Contains(k, v) {
			return true
		}
	}
	return false
}
