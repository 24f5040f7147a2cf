package checks

import (
	"strings"

	"github.com/shipshape-dev/shipshape/internal/probe"
)

// noProbe is the skip reason of FIT checks when the image was not run.
const noProbe = "the image was not run: use `shipshape probe IMAGE` or `shipshape check --probe IMAGE`"

// probed returns the observations, or a skip error when there are none.
func (s *Subject) probed() (*probe.Observations, error) {
	if s.Probe == nil {
		return nil, Skip(noProbe)
	}
	return s.Probe, nil
}

func logEvidence(lines []string) []Evidence {
	if len(lines) == 0 {
		return nil
	}
	return []Evidence{{Field: "last log lines", Value: truncate(strings.Join(lines, " | "), 600)}}
}
