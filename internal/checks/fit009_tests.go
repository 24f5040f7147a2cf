package checks

import "fmt"

// fit009 is the check FIT-009.
func fit009() Check {
	return define(Meta{
		ID:          "FIT-009",
		Dimension:   Fit,
		Title:       "Functional tests pass",
		Severity:    High,
		Description: "User-defined tests in container-structure-test YAML (--tests FILE): commandTests, fileExistenceTests, fileContentTests and metadataTest, run against the image.",
		Remediation: "Fix the image or the test; the evidence gives each failed expectation.",
	}, func(s *Subject) ([]Finding, error) {
		p, err := s.probed()
		if err != nil {
			return nil, err
		}
		if p.Tests == nil {
			return nil, Skip("no --tests file")
		}
		var out []Finding
		passed := 0
		for _, t := range p.Tests {
			if t.Passed {
				passed++
				continue
			}
			out = append(out, Finding{Severity: High, Title: fmt.Sprintf("%s test %q failed", t.Kind, t.Name), Evidence: []Evidence{{Field: t.Kind, Value: t.Detail}}})
		}
		if len(out) == 0 {
			out = append(out, Finding{Severity: Info, Title: fmt.Sprintf("%d structure tests passed", passed)})
		}
		return out, nil
	})
}
