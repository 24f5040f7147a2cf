package checks

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxEvidence bounds the evidence entries of one finding.
const maxEvidence = 20

// removal says how a version written by layer left the final filesystem:
// "deleted by layer 2" or "overwritten by layer 3". The caller knows the
// version is not current; removedBy is the layer that removed it (-1 if unknown).
func (s *Subject) removal(path string, removedBy int) string {
	verb := "deleted"
	if _, ok := s.FS.Lookup(path); ok {
		verb = "overwritten"
	}
	if removedBy < 0 {
		return verb + " by a later layer"
	}
	return fmt.Sprintf("%s by layer %d", verb, removedBy)
}

// where says where a version of a file is: "in /x (layer 1)" when it is in
// the final filesystem, or, louder, "in /x: deleted by layer 2 but still
// recoverable from layer 1".
func (s *Subject) where(path string, layer int, current bool, removedBy int) string {
	if current {
		return fmt.Sprintf("%s (layer %d)", shownPath(path), layer)
	}
	return fmt.Sprintf("%s: %s but still recoverable from layer %d", shownPath(path), s.removal(path, removedBy), layer)
}

// shownPath quotes a path that holds control characters or invalid UTF-8
// (a file named with a newline), so that a title stays one line.
func shownPath(p string) string {
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return strconv.Quote(p)
		}
	}
	return p
}

// fromDistribution says whether the current version of path was installed by
// an OS package (dpkg or apk file lists) outside /etc: a file of the
// distribution, not of the image's author. Keys and keystores there are the
// packages' own test or template files. Files under /etc are configuration
// that the image's author edits, so they are never excused.
func (s *Subject) fromDistribution(path string) bool {
	if s.Inv == nil || strings.HasPrefix(path, "/etc/") {
		return false
	}
	_, ok := s.Inv.Owner(path)
	return ok
}
