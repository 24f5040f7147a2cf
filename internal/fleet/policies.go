package fleet

import (
	"fmt"
	"path"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/policy"
)

// Binding binds a policy to the repositories matching Pattern: a
// path.Match pattern over the repository ("registry.example.com/team/*"), or
// a prefix ending in "/**" for a whole namespace and everything below it.
type Binding struct {
	Pattern string
	Policy  *policy.Policy
}

// Policies are the service's policies: the first binding whose pattern
// matches an image's repository judges it; Default judges the rest.
type Policies struct {
	Default  *policy.Policy
	Bindings []Binding
}

// ParseBinding parses PATTERN=FILE as given to `serve --policy`.
func ParseBinding(s string) (pattern, file string, err error) {
	pattern, file, ok := strings.Cut(s, "=")
	if !ok || pattern == "" || file == "" {
		return "", "", fmt.Errorf("want REPOSITORY_PATTERN=POLICY_FILE, got %q", s)
	}
	if _, err := path.Match(strings.TrimSuffix(pattern, "/**"), ""); err != nil {
		return "", "", fmt.Errorf("bad repository pattern %q: %w", pattern, err)
	}
	return pattern, file, nil
}

// For returns the policy that judges images of repository.
func (p *Policies) For(repository string) *policy.Policy {
	for _, b := range p.Bindings {
		if MatchRepository(b.Pattern, repository) {
			return b.Policy
		}
	}
	if p.Default != nil {
		return p.Default
	}
	return policy.Default()
}

// MatchRepository reports whether a repository pattern matches repository.
func MatchRepository(pattern, repository string) bool {
	if pattern == "" || pattern == "*" || pattern == "**" {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, "/**"); ok {
		ok, _ := path.Match(prefix, repository)
		if ok {
			return true
		}
		for i := range len(repository) {
			if repository[i] == '/' {
				if ok, _ := path.Match(prefix, repository[:i]); ok {
					return true
				}
			}
		}
		return false
	}
	ok, _ := path.Match(pattern, repository)
	return ok
}

// pathMatch validates a pattern.
func pathMatch(pattern string) (bool, error) { return path.Match(pattern, "") }
