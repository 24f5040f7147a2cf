package checks

import "fmt"

// fit005 is the check FIT-005.
func fit005() Check {
	return define(Meta{
		ID:          "FIT-005",
		Dimension:   Fit,
		Title:       "Metrics endpoint answers",
		Severity:    Low,
		Description: "The metrics endpoint (--metrics-path, or the prometheus.io/path label, or /metrics when prometheus.io/scrape is true) answers 200 with valid Prometheus text exposition format, parsed with the Prometheus library.",
		Remediation: "Serve Prometheus metrics on the declared port and path (e.g. with the Prometheus client library of your language).",
	}, func(s *Subject) ([]Finding, error) {
		p, err := s.probed()
		if err != nil {
			return nil, err
		}
		m := p.Metrics
		if m == nil {
			return nil, Skip("no metrics endpoint declared (--metrics-path or prometheus.io labels) or the container did not stay up")
		}
		ev := []Evidence{{Field: "url", Value: m.URL}}
		if m.Error != "" {
			return []Finding{{Severity: Low, Title: "metrics endpoint: " + truncate(m.Error, 160), Evidence: append(ev, Evidence{Field: "status", Value: fmt.Sprint(m.Status)})}}, nil
		}
		return []Finding{{Severity: Info, Title: fmt.Sprintf("%d metric families, %d samples", m.Families, m.Samples), Evidence: ev}}, nil
	})
}
