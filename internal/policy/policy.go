// Package policy turns check results into a verdict: which findings fail the
// image, a score per dimension and an overall grade.
package policy

import (
	"fmt"
	"sort"
	"time"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/signature"
	"github.com/shipshape-dev/shipshape/internal/supplychain"
)

// Policy says what fails an image, and tunes the checks.
type Policy struct {
	// FailOn is the lowest severity that fails the run in addition to vetoes;
	// nil means only vetoes fail it (the default).
	FailOn *checks.Severity
	// Overrides change checks by ID.
	Overrides map[string]Override
	// Settings are handed to the checks.
	Settings checks.Settings
	// CVSS is the score from which a fixable vulnerability is a veto.
	CVSS float64
	// DeniedLicenses and AllowedLicenses are SPDX ids for CMP-002.
	DeniedLicenses  []string
	AllowedLicenses []string
	// TrustedRegistries are patterns for SEC-030.
	TrustedRegistries []string
	// Trust are the keys and keyless identities signatures are verified with (SEC-031, SEC-032).
	Trust signature.Trust
	// UpstreamSources map image repositories to their source repositories (MNT-007).
	UpstreamSources []supplychain.SourceMapping
	Rules           []*CompiledRule
	Exceptions      []Exception
	// Source is the file the policy came from ("" for the built-in default);
	// Digest is the sha256 of its bytes, recorded in reports.
	Source string
	Digest string
	// Service tunes approvals and re-evaluation in shipshape serve.
	Service Service
}

// Service is how shipshape serve treats images judged under a policy.
type Service struct {
	// AutoApprove approves an image whose evaluation passes.
	AutoApprove bool
	// Reevaluate is the age of an approved image's last evaluation at which
	// the daily sweep judges it again.
	Reevaluate time.Duration
	// Grace is how long an approved image that now fails stays admitted
	// (expiring) before it is retired; 0 retires it at once.
	Grace time.Duration
	// Validity bounds every approval; 0 means no bound.
	Validity time.Duration
}

// DefaultService is the service section of the default policy: approve on
// PASS, judge again each quarter, two weeks of grace.
func DefaultService() Service {
	return Service{AutoApprove: true, Reevaluate: 90 * 24 * time.Hour, Grace: 14 * 24 * time.Hour}
}

// Override changes one check.
type Override struct {
	Severity *checks.Severity
	Veto     *bool
	Disabled bool
}

// Default is the checklist's policy: vetoes fail the image, everything else is reported.
func Default() *Policy {
	return &Policy{
		Overrides:      map[string]Override{},
		Settings:       checks.DefaultSettings(),
		CVSS:           7.0,
		DeniedLicenses: []string{"AGPL-3.0-only", "AGPL-3.0-or-later"},
		Digest:         "builtin",
		Service:        DefaultService(),
	}
}

// Penalties are the points a failing check takes off its dimension's score,
// by the highest severity among its findings.
var Penalties = map[checks.Severity]int{checks.Critical: 40, checks.High: 20, checks.Medium: 10, checks.Low: 3, checks.Info: 0}

// Verdict is the model's verdict (finding.Verdict).
type Verdict = finding.Verdict

// Evaluate judges the results under p.
func Evaluate(results []checks.Result, p *Policy) Verdict {
	v := Verdict{Scores: map[checks.Dimension]int{}, FailOn: "veto"}
	if p.FailOn != nil {
		v.FailOn = p.FailOn.String()
	}
	seen := map[checks.Dimension]bool{}
	penalty := map[checks.Dimension]int{}
	for _, r := range results {
		if r.Status == checks.Skipped {
			continue
		}
		d := r.Check.Dimension
		seen[d] = true
		worst := checks.Severity(-1)
		for _, f := range r.Findings {
			if f.Veto {
				v.Vetoes = append(v.Vetoes, f)
			} else if p.FailOn != nil && f.Severity >= *p.FailOn {
				v.Failing = append(v.Failing, f)
			}
			if f.Severity > worst {
				worst = f.Severity
			}
		}
		if r.Status == checks.Fail && worst >= 0 {
			penalty[d] += Penalties[worst]
		}
	}
	total, n := 0, 0
	for _, d := range checks.Dimensions {
		if !seen[d] {
			continue
		}
		sc := 100 - penalty[d]
		if sc < 0 {
			sc = 0
		}
		v.Scores[d] = sc
		total += sc
		n++
	}
	if n > 0 {
		v.Score = (total + n/2) / n
	}
	v.Grade = Grade(v.Score, len(v.Vetoes) > 0)
	sortFindings(v.Vetoes)
	sortFindings(v.Failing)
	v.Pass = len(v.Vetoes) == 0 && len(v.Failing) == 0
	return v
}

// Grade maps a score to A-F; any veto is an F.
func Grade(score int, vetoed bool) string {
	switch {
	case vetoed:
		return "F"
	case score >= 90:
		return "A"
	case score >= 80:
		return "B"
	case score >= 70:
		return "C"
	case score >= 60:
		return "D"
	case score >= 50:
		return "E"
	}
	return "F"
}

func sortFindings(fs []checks.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Severity != fs[j].Severity {
			return fs[i].Severity > fs[j].Severity
		}
		return fs[i].CheckID < fs[j].CheckID
	})
}

// Explain describes the scoring formula.
func Explain() string {
	return fmt.Sprintf(`Scoring
  Each dimension starts at 100. Every check that fails takes off points by the
  highest severity among its findings: critical %d, high %d, medium %d, low %d,
  info %d. A dimension does not go below 0. Skipped checks do not count, and a
  dimension with no check run gets no score.
  The overall score is the mean of the dimension scores, rounded.
  Grade: A >= 90, B >= 80, C >= 70, D >= 60, E >= 50, F below 50 - and F
  whenever a veto fired.
Verdict
  FAIL when any veto fired, or any finding is at or above --fail-on (default:
  vetoes only). Otherwise PASS.
Exit codes
  0 pass, 1 policy failure, 2 usage or input error, 3 internal error.
`, Penalties[checks.Critical], Penalties[checks.High], Penalties[checks.Medium], Penalties[checks.Low], Penalties[checks.Info])
}
