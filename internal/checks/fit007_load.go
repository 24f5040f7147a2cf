package checks

import (
	"fmt"
	"time"
)

// LoadThresholds are FIT-007's regression limits (Settings.Load).
type LoadThresholds struct {
	// P99Regression is how much worse the candidate's p99 may be (0.20 = 20%).
	P99Regression float64
	// MaxErrorRate is the highest acceptable error rate (0.01 = 1%).
	MaxErrorRate float64
}

// DefaultLoadThresholds are FIT-007's default limits: p99 20% worse, 1% errors.
func DefaultLoadThresholds() LoadThresholds {
	return LoadThresholds{P99Regression: 0.20, MaxErrorRate: 0.01}
}

// fit007 is the check FIT-007.
func fit007() Check {
	return define(Meta{
		ID:          "FIT-007",
		Dimension:   Fit,
		Title:       "No regression under load",
		Severity:    High,
		Description: "A fixed-rate HTTP load (--load-rate per second for --load-duration) against the candidate, then against the baseline (the image in production) on the same port and machine: throughput, p50/p95/p99 latency, error rate, CPU and memory from the engine. A p99 worse by more than 20% or an error rate above 1% is high.",
		Remediation: "Profile the candidate under the same load; compare with the baseline's numbers in the evidence.",
	}, func(s *Subject) ([]Finding, error) {
		p, err := s.probed()
		if err != nil {
			return nil, err
		}
		l := p.Load
		if l == nil {
			return nil, Skip("no load test: give --baseline (or --load-rate) and an HTTP port")
		}
		c := l.Candidate
		lt := s.settings().Load
		if lt == (LoadThresholds{}) {
			lt = DefaultLoadThresholds()
		}
		ev := []Evidence{{Field: "candidate", Value: c.String()}}
		if l.Baseline != nil {
			ev = append(ev, Evidence{Field: "baseline", Value: l.Baseline.String()})
		}
		var out []Finding
		if c.Error != "" {
			return []Finding{{Severity: High, Title: "the load test could not run on the candidate: " + c.Error, Evidence: ev}}, nil
		}
		if c.ErrorRate > lt.MaxErrorRate {
			out = append(out, Finding{Severity: High, Title: fmt.Sprintf("%.1f%% of requests failed under %d req/s", c.ErrorRate*100, l.Rate), Evidence: ev})
		}
		if b := l.Baseline; b != nil && b.Error == "" && b.P99 > 0 {
			worse := float64(c.P99-b.P99) / float64(b.P99)
			if worse > lt.P99Regression {
				out = append(out, Finding{Severity: High, Title: fmt.Sprintf("p99 latency %s vs %s in production (+%.0f%%)", c.P99.Round(time.Microsecond), b.P99.Round(time.Microsecond), worse*100), Evidence: ev})
			}
		}
		if len(out) == 0 {
			out = append(out, Finding{Severity: Info, Title: fmt.Sprintf("under %d req/s: p99 %s, errors %.2f%%", l.Rate, c.P99.Round(time.Microsecond), c.ErrorRate*100), Evidence: ev})
		}
		return out, nil
	})
}
