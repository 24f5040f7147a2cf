package vulndb

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Record is the part of an OSV record (https://ossf.github.io/osv-schema/)
// that shipshape uses. Details and references are not kept: the report links
// to the advisory by its ids.
type Record struct {
	ID        string     `json:"id"`
	Modified  string     `json:"modified"`
	Published string     `json:"published"`
	Withdrawn string     `json:"withdrawn"`
	Aliases   []string   `json:"aliases"`
	Related   []string   `json:"related"`
	Summary   string     `json:"summary"`
	Details   string     `json:"details"`
	Severity  []Severity `json:"severity"`
	Affected  []Affected `json:"affected"`
	// DatabaseSpecific holds the fields of database_specific that shipshape
	// reads (GHSA's severity rating); anything else there is ignored.
	DatabaseSpecific Specific `json:"database_specific"`
}

// Severity is one entry of an OSV severity list: a type (CVSS_V2, CVSS_V3,
// CVSS_V4, Ubuntu) and a vector or rating.
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected is one affected package of a record.
type Affected struct {
	Package  Package    `json:"package"`
	Ranges   []Range    `json:"ranges"`
	Versions []string   `json:"versions"`
	Severity []Severity `json:"severity"`
	// EcosystemSpecific holds Debian's urgency, when present.
	EcosystemSpecific Specific `json:"ecosystem_specific"`
	DatabaseSpecific  Specific `json:"database_specific"`
}

// Package names an affected package.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	PURL      string `json:"purl"`
}

// Range is a list of events over one version ordering.
type Range struct {
	Type   string  `json:"type"`
	Repo   string  `json:"repo"`
	Events []Event `json:"events"`
}

// Event is one range event; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Specific is the lenient reading of the free-form database_specific and
// ecosystem_specific objects: it keeps the string fields shipshape knows and
// never fails, whatever the JSON holds.
type Specific struct {
	Severity string
	Urgency  string
}

// UnmarshalJSON reads the known string fields of an object and ignores
// everything else, including values that are not objects.
func (s *Specific) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	str := func(k string) string {
		var v string
		if raw, ok := m[k]; ok && json.Unmarshal(raw, &v) == nil {
			return v
		}
		return ""
	}
	s.Severity, s.Urgency = str("severity"), str("urgency")
	return nil
}

// Limits on one record, so that a hostile export cannot make shipshape keep
// unbounded data per record.
const (
	maxRecordBytes = 16 << 20
	maxIDLen       = 256
	maxSummary     = 300
)

// ErrMalformed marks a record that cannot be used at all.
var ErrMalformed = errors.New("malformed OSV record")

// ParseRecord decodes one OSV JSON record and checks the fields matching
// depends on. It returns an error wrapping ErrMalformed when the record is
// unusable (not JSON, no id); problems confined to one affected entry are
// returned as notes and that entry is dropped.
func ParseRecord(data []byte) (*Record, []Note, error) {
	if len(data) > maxRecordBytes {
		return nil, nil, fmt.Errorf("%w: %d bytes, over the %d-byte limit", ErrMalformed, len(data), maxRecordBytes)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if r.ID == "" {
		return nil, nil, fmt.Errorf("%w: no id", ErrMalformed)
	}
	if len(r.ID) > maxIDLen || !utf8.ValidString(r.ID) || strings.ContainsAny(r.ID, "\x00\n\r") {
		return nil, nil, fmt.Errorf("%w: bad id %.40q", ErrMalformed, r.ID)
	}
	if r.Summary == "" {
		r.Summary = firstSentence(r.Details)
	}
	r.Details = ""
	r.Summary = clip(r.Summary, maxSummary)
	var notes []Note
	kept := r.Affected[:0]
	for _, a := range r.Affected {
		n, ok := checkAffected(&a)
		if n.Kind != "" {
			notes = append(notes, n)
		}
		if ok {
			kept = append(kept, a)
		}
	}
	r.Affected = kept
	return &r, notes, nil
}

// checkAffected validates one affected entry in place. ok is false when the
// entry must be dropped; a note with ok true is a warning about a dropped
// range or event.
func checkAffected(a *Affected) (Note, bool) {
	if a.Package.Ecosystem == "" && a.Package.Name == "" {
		// Entries without a package carry only GIT ranges (commits of
		// upstream repositories); there is nothing to match them against.
		return Note{}, false
	}
	eco := a.Package.Ecosystem
	if a.Package.Name == "" || eco == "" {
		return Note{Kind: "affected entry without package name or ecosystem", Detail: eco + " " + a.Package.Name}, false
	}
	if !Supported(eco) {
		return Note{Kind: "unknown ecosystem (entry not matched)", Detail: BaseEcosystem(eco)}, false
	}
	var note Note
	ranges := a.Ranges[:0]
	for _, rg := range a.Ranges {
		if rg.Type != "ECOSYSTEM" && rg.Type != "SEMVER" {
			continue // GIT ranges name commits, not package versions
		}
		if err := checkEvents(eco, rg.Events); err != nil {
			note = Note{Kind: "invalid range (range not matched)", Detail: fmt.Sprintf("%s %s: %v", eco, a.Package.Name, err)}
			continue
		}
		ranges = append(ranges, rg)
	}
	a.Ranges = ranges
	if len(a.Ranges) == 0 && len(a.Versions) == 0 {
		if note.Kind == "" {
			note = Note{Kind: "affected entry with no usable range or version (entry not matched)", Detail: eco + " " + a.Package.Name}
		}
		return note, false
	}
	return note, true
}

// checkEvents checks that each event sets exactly one field, that the
// versions parse in the ecosystem's ordering, and that there is an
// introduced event to start from.
func checkEvents(eco string, evs []Event) error {
	if len(evs) == 0 {
		return errors.New("no events")
	}
	intro := false
	for _, e := range evs {
		k, v := e.kind()
		if k == 0 {
			return errors.New("an event must set exactly one of introduced, fixed, last_affected, limit")
		}
		if k == 'i' {
			intro = true
			if v == "0" {
				continue
			}
		}
		if _, err := parseVersion(eco, v); err != nil {
			return err
		}
	}
	if !intro {
		return errors.New("no introduced event")
	}
	return nil
}

// kind returns the event's type ('i', 'f', 'l' for last_affected, 'm' for
// limit) and version, or 0 when not exactly one field is set.
func (e Event) kind() (byte, string) {
	var k byte
	var v string
	n := 0
	for _, c := range []struct {
		k byte
		v string
	}{{'i', e.Introduced}, {'f', e.Fixed}, {'l', e.LastAffected}, {'m', e.Limit}} {
		if c.v != "" {
			k, v = c.k, c.v
			n++
		}
	}
	if n != 1 {
		return 0, ""
	}
	return k, v
}

func firstSentence(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\n"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	return s
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
