package vulndb

import (
	"fmt"
	"strings"
	"testing"
)

func ev(pairs ...string) []Event {
	var out []Event
	for i := 0; i+1 < len(pairs); i += 2 {
		switch pairs[i] {
		case "i":
			out = append(out, Event{Introduced: pairs[i+1]})
		case "f":
			out = append(out, Event{Fixed: pairs[i+1]})
		case "l":
			out = append(out, Event{LastAffected: pairs[i+1]})
		case "m":
			out = append(out, Event{Limit: pairs[i+1]})
		}
	}
	return out
}

func eval(t *testing.T, eco string, evs []Event, v string) rangeHit {
	t.Helper()
	sorted, ok := sortEvents(newVersionCache(eco), evs)
	if !ok {
		t.Fatalf("events %v do not parse", evs)
	}
	pv, err := parseVersion(eco, v)
	if err != nil {
		t.Fatal(err)
	}
	return evalRange(sorted, pv, newVersionCache(eco))
}

// The OSV range semantics on hand-made ranges: several intervals, events out
// of order, last_affected, limit, introduced "0", and the fix of the
// interval that holds the version.
func TestEvalRange(t *testing.T) {
	two := ev("i", "0", "f", "1.18.6", "i", "1.19.0-0", "f", "1.19.1") // GO-2022-0969's stdlib range
	cases := []struct {
		name, eco string
		evs       []Event
		v         string
		affected  bool
		fixed     string
		last      string
	}{
		{"first interval", "Go", two, "1.18.5", true, "1.18.6", ""},
		{"at first fix", "Go", two, "1.18.6", false, "", ""},
		{"between intervals", "Go", two, "1.18.10", false, "", ""},
		{"second interval", "Go", two, "1.19.0", true, "1.19.1", ""},
		{"past all", "Go", two, "1.20.0", false, "", ""},
		{"out of order", "Go", ev("f", "1.19.1", "i", "1.19.0-0", "f", "1.18.6", "i", "0"), "1.19.0", true, "1.19.1", ""},
		{"last_affected inside", "npm", ev("i", "4.0.0", "l", "4.4.0"), "4.4.0", true, "", "4.4.0"},
		{"last_affected past", "npm", ev("i", "4.0.0", "l", "4.4.0"), "4.4.1", false, "", ""},
		{"before introduced", "npm", ev("i", "3.7.0", "f", "4.17.19"), "3.6.9", false, "", ""},
		{"no fix", "npm", ev("i", "0"), "99.0.0", true, "", ""},
		{"limit above", "npm", ev("i", "1.0.0", "m", "2.0.0"), "1.5.0", true, "", ""},
		{"limit below", "npm", ev("i", "1.0.0", "m", "2.0.0"), "2.1.0", false, "", ""},
		{"last then later interval", "npm", ev("i", "0", "l", "1.0.0", "i", "2.0.0", "f", "2.5.0"), "1.0.0", true, "", "1.0.0"},
		{"dpkg tilde", "Debian:12", ev("i", "0", "f", "3.0.11-1~deb12u2"), "3.0.11-1~deb12u1", true, "3.0.11-1~deb12u2", ""},
		{"dpkg tilde sorts before", "Debian:12", ev("i", "0", "f", "3.0.11-1"), "3.0.11-1~deb12u2", true, "3.0.11-1", ""},
		{"dpkg epoch", "Debian:12", ev("i", "0", "f", "1:9.2p1-2+deb12u1"), "9.9p1-1", true, "1:9.2p1-2+deb12u1", ""},
		{"dpkg +debNuM", "Debian:12", ev("i", "0", "f", "2.36-9+deb12u4"), "2.36-9+deb12u10", false, "", ""},
		{"apk revision", "Alpine:v3.18", ev("i", "0", "f", "3.1.4-r1"), "3.1.4-r0", true, "3.1.4-r1", ""},
		{"pep440", "PyPI", ev("i", "0", "f", "3.2.5"), "3.2.5rc1", true, "3.2.5", ""},
		{"pep440 post", "PyPI", ev("i", "0", "f", "3.2.5"), "3.2.5.post1", false, "", ""},
		{"go pseudo-version", "Go", ev("i", "0", "f", "0.0.0-20220906165146-f3363e06e74c"), "v0.0.0-20210226172049-e18ecbb05110", true, "0.0.0-20220906165146-f3363e06e74c", ""},
		{"go +incompatible", "Go", ev("i", "0", "f", "2.1.0"), "v2.0.5+incompatible", true, "2.1.0", ""},
		{"maven qualifiers", "Maven", ev("i", "0", "f", "2.15.0"), "2.15.0-rc1", true, "2.15.0", ""},
		{"rubygems", "RubyGems", ev("i", "0", "f", "6.1.7.1"), "6.1.7", true, "6.1.7.1", ""},
		{"nuget", "NuGet", ev("i", "0", "f", "13.0.1"), "12.0.3", true, "13.0.1", ""},
		{"crates", "crates.io", ev("i", "0.5.0", "f", "0.5.5"), "0.5.4", true, "0.5.5", ""},
		{"packagist", "Packagist", ev("i", "0", "f", "5.4.4"), "5.4.3", true, "5.4.4", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := eval(t, c.eco, c.evs, c.v)
			if h.affected != c.affected || h.fixed != c.fixed || h.lastAffected != c.last {
				t.Errorf("%s %s in %v: %+v, want affected=%v fixed=%q last=%q", c.eco, c.v, c.evs, h, c.affected, c.fixed, c.last)
			}
		})
	}
}

// reference is the OSV specification's algorithm, evaluated literally: for
// each event in order, compare with the version.
func reference(t *testing.T, eco string, evs []Event, v string) bool {
	sorted, _ := sortEvents(newVersionCache(eco), evs)
	pv, _ := parseVersion(eco, v)
	cmp := func(s string) int {
		x, _ := parseVersion(eco, s)
		r, _ := pv.Compare(x)
		return r
	}
	var limits []string
	for _, e := range sorted {
		if e.K == 'm' {
			limits = append(limits, e.V)
		}
	}
	if len(limits) > 0 {
		below := false
		for _, l := range limits {
			below = below || l == "*" || cmp(l) < 0 // "*" is no limit
		}
		if !below {
			return false
		}
	}
	affected := false
	for _, e := range sorted {
		switch e.K {
		case 'i':
			if e.V == "0" || cmp(e.V) >= 0 {
				affected = true
			}
		case 'f':
			if cmp(e.V) >= 0 {
				affected = false
			}
		case 'l':
			if cmp(e.V) > 0 {
				affected = false
			}
		}
	}
	return affected
}

// FuzzRange checks the matcher against the specification's algorithm on
// random semver ranges, and that no input makes it panic.
func FuzzRange(f *testing.F) {
	f.Add(uint8(0), "0", "1.2.3", "1.5.0", "2.0.0", "1.4.9")
	f.Add(uint8(1), "1.0.0", "1.0.0", "1.0.0", "3.0.0", "1.0.0")
	f.Add(uint8(7), "0.0.0-2021", "0.0.0-2022", "1.0.0-rc.1", "1.0.0", "0.0.0-20210226172049-e18ecbb05110")
	f.Add(uint8(200), "2.0", "1.9.9", "10.0.0", "2.0.0+build", "9.9.9")
	f.Fuzz(func(t *testing.T, kinds uint8, a, b, c, d, v string) {
		for _, s := range []string{a, b, c, d, v} {
			if len(s) > 64 || strings.TrimSpace(s) == "" {
				return
			}
		}
		ks := []string{"i", "f", "l", "m"}
		evs := ev("i", a,
			ks[kinds&3], b,
			ks[(kinds>>2)&3], c,
			ks[(kinds>>4)&3], d)
		for _, eco := range []string{"npm", "Go"} {
			if checkEvents(eco, evs) != nil {
				continue
			}
			sorted, ok := sortEvents(newVersionCache(eco), evs)
			if !ok {
				t.Fatalf("checked events do not sort: %v", evs)
			}
			pv, err := parseVersion(eco, v)
			if err != nil {
				continue
			}
			got := evalRange(sorted, pv, newVersionCache(eco)).affected
			if want := reference(t, eco, evs, v); got != want {
				t.Fatalf("%s %q in %v: matcher says %v, the specification %v", eco, v, fmt.Sprint(sorted), got, want)
			}
		}
	})
}
