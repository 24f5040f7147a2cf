package policy

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/finding"
)

// Waiver, ExpiredException and Waivers are the model's (package finding).
type (
	// Waiver is finding.Waiver.
	Waiver = finding.Waiver
	// ExpiredException is finding.ExpiredException.
	ExpiredException = finding.ExpiredException
	// Waivers is finding.Waivers.
	Waivers = finding.Waivers
)

func (e *Exception) describe() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+" "+v)
		}
	}
	add("check", e.Check)
	add("vulnerability", e.Vulnerability)
	add("package", e.Package)
	add("path", e.Path)
	add("image", e.Image)
	s := strings.Join(parts, ", ")
	if e.name != "" {
		s = e.name + ": " + s
	}
	if e.line > 0 {
		s = fmt.Sprintf("line %d: %s", e.line, s)
	}
	return s
}

func globOrEqual(pattern, s string) bool {
	if pattern == s {
		return true
	}
	ok, _ := path.Match(pattern, s)
	return ok
}

// matches reports whether the exception covers finding f on image ref.
func (e *Exception) matches(f checks.Finding, ref string) bool {
	if e.Check != "" && !strings.EqualFold(e.Check, f.CheckID) {
		return false
	}
	if e.Vulnerability != "" {
		ok := strings.EqualFold(e.Vulnerability, f.Vulnerability)
		for _, a := range f.Aliases {
			ok = ok || strings.EqualFold(e.Vulnerability, a)
		}
		if !ok {
			return false
		}
	}
	if e.Package != "" && e.Package != f.Package {
		return false
	}
	if e.Path != "" {
		ok := false
		for _, ev := range f.Evidence {
			ok = ok || ev.Path != "" && globOrEqual(e.Path, ev.Path)
		}
		if !ok {
			return false
		}
	}
	if e.Image != "" && !globOrEqual(e.Image, ref) {
		return false
	}
	return true
}

// Apply runs the policy's overrides and exceptions over the results:
// disabled checks become skipped, severities and vetoes are rewritten, and
// findings covered by a current exception move to the waivers.
func (p *Policy) Apply(results []checks.Result, ref string, now time.Time) ([]checks.Result, Waivers) {
	var w Waivers
	var live []*Exception
	for i := range p.Exceptions {
		e := &p.Exceptions[i]
		if !e.expires.IsZero() && now.After(e.expires) {
			w.Expired = append(w.Expired, ExpiredException{Rule: e.describe(), Reason: e.Reason, Expired: e.Expires})
			continue
		}
		live = append(live, e)
	}
	out := make([]checks.Result, 0, len(results))
	for _, r := range results {
		if ov, ok := p.Overrides[r.Check.ID]; ok {
			if ov.Disabled {
				r.Status, r.Findings, r.Note = checks.Skipped, nil, "disabled by the policy"
				out = append(out, r)
				continue
			}
			for i := range r.Findings {
				if ov.Severity != nil && r.Findings[i].Severity > checks.Info {
					r.Findings[i].Severity = *ov.Severity
				}
				if ov.Veto != nil && r.Findings[i].Severity > checks.Info {
					r.Findings[i].Veto = *ov.Veto
				}
			}
		}
		var kept []checks.Finding
		waived := 0
		for _, f := range r.Findings {
			var by *Exception
			for _, e := range live {
				if e.matches(f, ref) {
					by = e
					break
				}
			}
			if by == nil {
				kept = append(kept, f)
				continue
			}
			waived++
			w.Applied = append(w.Applied, Waiver{Finding: f, Reason: by.Reason, Expires: by.Expires, Rule: by.describe()})
		}
		if waived > 0 {
			r.Findings = kept
			r.Status = checks.Pass
			for _, f := range kept {
				if f.Severity > checks.Info || f.Veto {
					r.Status = checks.Fail
				}
			}
			r.Note = strings.TrimSpace(r.Note + fmt.Sprintf(" %d finding(s) waived by exceptions", waived))
		}
		out = append(out, r)
	}
	return out, w
}

// StoredException is an exception held by the service (shipshape serve)
// rather than written in a policy file: Name identifies it in reports
// ("exception 12"), Expires ends it (zero: never).
func StoredException(name string, e Exception, expires time.Time) Exception {
	e.name = name
	e.expires = expires
	if !expires.IsZero() {
		e.Expires = expires.UTC().Format(time.DateOnly)
	}
	return e
}

// WithExceptions returns a copy of p that also applies ex.
func (p *Policy) WithExceptions(ex ...Exception) *Policy {
	if len(ex) == 0 {
		return p
	}
	c := *p
	c.Exceptions = append(append([]Exception(nil), p.Exceptions...), ex...)
	return &c
}
