package vulndb

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// newestKeyPrefix is the meta key prefix of the per-ecosystem newest record.
const newestKeyPrefix = "newest_record/"

// Freshness are the thresholds on the age of the advisory data itself (its
// newest record's `modified` date), as opposed to when it was imported: a
// database imported a minute ago from a two-year-old export is two years
// out of date.
type Freshness struct {
	// WarnAfter: data whose newest record is older warns (default 7 days;
	// 0 disables the warning).
	WarnAfter time.Duration `json:"warn_after" yaml:"warnAfter"`
	// FailAfter: data whose newest record is older fails the check
	// (default 0: off).
	FailAfter time.Duration `json:"fail_after" yaml:"failAfter"`
}

// DefaultFreshness warns when the newest record of an ecosystem the image
// uses is over 7 days old, and never fails.
var DefaultFreshness = Freshness{WarnAfter: 7 * 24 * time.Hour}

// DataAge is the age of one OSV ecosystem's advisory data.
type DataAge struct {
	// Ecosystem is the OSV ecosystem ("Debian:12", "Go"); Source the
	// source holding it ("Debian").
	Ecosystem string `json:"ecosystem"`
	Source    string `json:"source"`
	// Newest is the latest `modified` among its records; zero when none
	// is dated (Known is then false and Age 0).
	Newest time.Time     `json:"newest_record,omitzero"`
	Known  bool          `json:"known"`
	Age    time.Duration `json:"age"`
}

// String says "Debian:12: newest record 2025-02-12 (662 days old)".
func (a DataAge) String() string {
	if !a.Known {
		return fmt.Sprintf("%s: no dated record (the %s data sets no `modified` dates)", a.Ecosystem, a.Source)
	}
	return fmt.Sprintf("%s: newest record %s (%s old)", a.Ecosystem, a.Newest.UTC().Format("2006-01-02"), Age(a.Age))
}

// Age writes a duration the way `db status` does: minutes, hours, days.
func Age(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// NewestRecords gives the age of every OSV ecosystem of every source at
// now, sorted by ecosystem. A source imported by an older shipshape (no
// per-ecosystem dates) gives its own newest record for each ecosystem.
func (db *DB) NewestRecords(now time.Time) []DataAge {
	var out []DataAge
	for _, s := range db.sources {
		for eco := range s.info.Ecosystems {
			t, ok := s.info.NewestBy[eco]
			if !ok && len(s.info.NewestBy) == 0 {
				t = s.info.Newest
			}
			a := DataAge{Ecosystem: eco, Source: s.info.Name}
			if !t.IsZero() {
				a.Newest, a.Known, a.Age = t, true, now.Sub(t)
			}
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ecosystem < out[j].Ecosystem })
	return out
}

// Staleness is the outcome of Freshness.Check.
type Staleness struct {
	// Warn and Fail list the ecosystems over WarnAfter and FailAfter (an
	// ecosystem over FailAfter is in both).
	Warn, Fail []DataAge
	// Unknown lists the ecosystems whose records carry no dates.
	Unknown []DataAge
}

// Message is a one-line summary for a warning or a finding, "" when
// nothing is stale.
func (s Staleness) Message() string {
	l := s.Warn
	if len(s.Fail) > 0 {
		l = s.Fail
	}
	if len(l) == 0 {
		return ""
	}
	parts := make([]string, len(l))
	for i, a := range l {
		parts[i] = a.String()
	}
	return "the advisory data is old: " + strings.Join(parts, "; ") + " (run shipshape db update, or import a newer export)"
}

// Check compares the ages of the ecosystems (usually Report.Ecosystems, the
// ones an image was matched against; all of them when ecos is empty) with
// the thresholds.
func (f Freshness) Check(db *DB, now time.Time, ecos []string) Staleness {
	want := map[string]bool{}
	for _, e := range ecos {
		want[e] = true
	}
	var st Staleness
	for _, a := range db.NewestRecords(now) {
		if len(want) > 0 && !want[a.Ecosystem] {
			continue
		}
		switch {
		case !a.Known:
			st.Unknown = append(st.Unknown, a)
			continue
		case f.WarnAfter > 0 && a.Age > f.WarnAfter:
			st.Warn = append(st.Warn, a)
		}
		if f.FailAfter > 0 && a.Age > f.FailAfter {
			if f.WarnAfter <= 0 || a.Age <= f.WarnAfter {
				st.Warn = append(st.Warn, a)
			}
			st.Fail = append(st.Fail, a)
		}
	}
	return st
}
