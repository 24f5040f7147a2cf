package vulndb

import (
	"sort"

	"github.com/google/osv-scalibr/semantic"
)

// event is a range event in stored form: a kind ('i' introduced, 'f' fixed,
// 'l' last_affected, 'm' limit) and a version.
type event struct {
	K byte   `json:"k"`
	V string `json:"v"`
}

// kindOrder breaks ties between events at the same version: an introduced
// version is affected, a fixed one is not, so introduced sorts first.
var kindOrder = map[byte]int{'i': 0, 'l': 1, 'f': 2, 'm': 3}

// sortEvents orders a range's events by version in the ecosystem's ordering,
// with introduced "0" first. It reports false when a version does not parse
// (ParseRecord has already dropped such ranges).
func sortEvents(c *versionCache, evs []Event) ([]event, bool) {
	type pe struct {
		e event
		v semantic.Version
	}
	ps := make([]pe, 0, len(evs))
	for _, e := range evs {
		k, s := e.kind()
		p := pe{e: event{K: k, V: s}}
		if !(k == 'i' && s == "0") {
			v, ok := c.get(s)
			if !ok {
				return nil, false
			}
			p.v = v
		}
		ps = append(ps, p)
	}
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		switch {
		case a.v == nil && b.v == nil:
			return false
		case a.v == nil:
			return true
		case b.v == nil:
			return false
		}
		c, err := a.v.Compare(b.v)
		if err != nil || c == 0 {
			return kindOrder[a.e.K] < kindOrder[b.e.K]
		}
		return c < 0
	})
	out := make([]event, len(ps))
	for i, p := range ps {
		out[i] = p.e
	}
	return out, true
}

// versionCache parses each event version once per match run.
type versionCache struct {
	eco string
	m   map[string]semantic.Version
}

func newVersionCache(eco string) *versionCache {
	return &versionCache{eco: eco, m: map[string]semantic.Version{}}
}

func (c *versionCache) get(s string) (semantic.Version, bool) {
	if v, ok := c.m[s]; ok {
		return v, v != nil
	}
	if len(c.m) > maxCached {
		clear(c.m)
	}
	v, err := parseVersion(c.eco, s)
	if err != nil {
		v = nil
	}
	c.m[s] = v
	return v, v != nil
}

// rangeHit is the outcome of evaluating one range for one version.
type rangeHit struct {
	affected bool
	// introduced is the version the affected interval starts at.
	introduced string
	// fixed is the first fixed version after v, "" when none is known.
	fixed string
	// lastAffected is set when the interval ends with a last_affected event
	// (a version after it is safe but no fixed version is named).
	lastAffected string
}

// evalRange evaluates sorted events for the installed version v, following
// the OSV specification's algorithm: walk the events in order; introduced
// opens an affected interval, fixed (at or below v) and last_affected (below
// v) close it; limit events bound the range from above.
func evalRange(evs []event, v semantic.Version, c *versionCache) rangeHit {
	var h rangeHit
	var limits []string
	for _, e := range evs {
		if e.K == 'm' {
			limits = append(limits, e.V)
		}
	}
	if len(limits) > 0 && !belowAnyLimit(limits, v, c) {
		return rangeHit{}
	}
	affected := false
	lastAt := "" // a last_affected event equal to v closes v's interval at v
	for i, e := range evs {
		cmp := 1 // introduced "0" is below every version
		if !(e.K == 'i' && e.V == "0") {
			ev, ok := c.get(e.V)
			if !ok {
				continue
			}
			r, err := v.Compare(ev)
			if err != nil {
				continue
			}
			cmp = r
		}
		if cmp < 0 {
			// This event and every later one are above v: v's state is
			// settled; if it is affected, the next closing event names the fix.
			if affected {
				h.affected = true
				if lastAt != "" {
					h.lastAffected = lastAt
					return h
				}
				for _, n := range evs[i:] {
					if n.K == 'f' {
						h.fixed = n.V
						break
					}
					if n.K == 'l' {
						h.lastAffected = n.V
						break
					}
					if n.K == 'm' {
						break
					}
				}
			}
			return h
		}
		switch e.K {
		case 'i':
			if !affected {
				h.introduced = e.V
			}
			affected = true
			lastAt = ""
		case 'f':
			affected = false
		case 'l':
			if cmp > 0 {
				affected = false
			} else if affected {
				lastAt = e.V
			}
		}
	}
	h.affected = affected
	if affected {
		h.lastAffected = lastAt
	}
	return h
}

func belowAnyLimit(limits []string, v semantic.Version, c *versionCache) bool {
	for _, l := range limits {
		if l == "*" {
			return true
		}
		lv, ok := c.get(l)
		if !ok {
			continue
		}
		if r, err := v.Compare(lv); err == nil && r < 0 {
			return true
		}
	}
	return false
}
