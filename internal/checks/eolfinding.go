package checks

import (
	"fmt"

	"github.com/shipshape-dev/shipshape/internal/eol"
)

// eolFindings turns a release's support status into findings (none when supported).
func eolFindings(s *Subject, name string, r *eol.Release, ev []Evidence, sev Severity) []Finding {
	warn := s.settings().EOLWarning
	st := r.StatusAt(s.Now, warn)
	ev = append(ev, Evidence{Field: "end of life", Value: r.EOL.String()})
	switch {
	case st.Ended && st.Extended:
		ev = append(ev, Evidence{Field: "extended support until", Value: r.ExtendedSupport.String()})
		return []Finding{{Severity: min(sev, Medium), Title: fmt.Sprintf("%s is past its regular end of life (%s); only extended support remains, until %s", name, r.EOL, r.ExtendedSupport), Evidence: ev}}
	case st.Ended:
		return []Finding{{Severity: sev, Title: fmt.Sprintf("%s reached end of life on %s", name, r.EOL), Evidence: ev}}
	case st.Soon:
		return []Finding{{Severity: sev, Title: fmt.Sprintf("%s reaches end of life on %s, within %d days", name, r.EOL, int(warn.Hours()/24)), Evidence: ev}}
	}
	return nil
}
