package checks

import (
	"fmt"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/signature"
	"github.com/shipshape-dev/shipshape/internal/supplychain"
)

// supply returns the subject's supply-chain evidence, or a skip when it was not gathered.
func (s *Subject) supply() (*supplychain.Evidence, error) {
	if s.Supply == nil {
		return nil, Skip("supply-chain evidence was not gathered")
	}
	return s.Supply, nil
}

// attachedEvidence points at where a signature or attestation was found.
func attachedEvidence(format signature.Format, location, attachedTo string) Evidence {
	return Evidence{Field: string(format), Path: location, Value: attachedTo}
}

// subjectsText lists the digests signatures were looked up under.
func subjectsText(r *signature.Report) string {
	var parts []string
	for i, d := range r.Subjects {
		what := "the image manifest"
		if i > 0 {
			what = "its index"
		}
		parts = append(parts, fmt.Sprintf("%s %s", what, shortDigest(d)))
	}
	return strings.Join(parts, " and ")
}

// supplyClip shortens s to n bytes for a finding's title.
func supplyClip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// firstSubject is the image digest signatures were looked up under, if any.
func firstSubject(r *signature.Report) string {
	if len(r.Subjects) == 0 {
		return "(none)"
	}
	return r.Subjects[0]
}
