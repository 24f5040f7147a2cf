package checks

import (
	"sort"
	"strings"
)

var metricsLabels = []string{"prometheus.io/scrape", "prometheus.io/port", "prometheus.io/path", "io.prometheus.port", "metrics.port", "metrics.path"}

// rel007 is the check REL-007.
func rel007() Check {
	return define(Meta{
		ID:          "REL-007",
		Dimension:   Reliability,
		Title:       "Metrics endpoint declared",
		Severity:    Low,
		Description: "Lists the exposed ports and labels that point at a metrics endpoint (prometheus.io/*). `shipshape probe` checks that the endpoint really answers.",
		Remediation: "Expose the metrics port (`EXPOSE 9090`) and label it (`LABEL prometheus.io/scrape=true prometheus.io/port=9090 prometheus.io/path=/metrics`).",
	}, func(s *Subject) ([]Finding, error) {
		var ports []string
		labels := map[string]string{}
		if s.Config != nil {
			for p := range s.Config.Config.ExposedPorts {
				ports = append(ports, p)
			}
			labels = s.Config.Config.Labels
		}
		sort.Strings(ports)
		var ev []Evidence
		for _, k := range metricsLabels {
			if v, ok := labels[k]; ok {
				ev = append(ev, Evidence{Field: "label " + k, Value: v})
			}
		}
		if len(ev) > 0 {
			return nil, nil
		}
		title := "no metrics endpoint declared (no prometheus.io labels)"
		if len(ports) == 0 {
			title = "no exposed port and no metrics labels"
		}
		return []Finding{{Severity: Low, Title: title, Evidence: []Evidence{field("Config.ExposedPorts", strings.Join(ports, " "))}}}, nil
	})
}
