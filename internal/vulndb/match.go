package vulndb

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/osv-scalibr/semantic"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// hit is one stored record whose affected entry covers a target.
type hit struct {
	src   *source
	vuln  *vulnRow
	data  *affectedData
	rng   rangeHit
	byVer bool
}

// Match looks every package of the inventory up and returns the
// vulnerabilities that affect the installed versions.
func (db *DB) Match(inv *inventory.Inventory) (*Report, error) {
	start := time.Now()
	rep := &Report{Evaluated: true, Sources: db.Sources(), Refreshed: db.Refreshed()}
	targets, gaps := targetsOf(inv)
	rep.Gaps = gaps
	var warn Warnings
	caches := map[string]*versionCache{}
	uncovered := map[string]*Gap{}
	for _, t := range targets {
		eco, srcs := db.sourcesFor(t.ecos)
		if len(srcs) == 0 {
			g := uncovered[t.ecos[0]]
			if g == nil {
				g = &Gap{Ecosystem: t.ecos[0], Reason: db.gapReason(t.ecos[0]), Example: t.name + " " + t.version}
				uncovered[t.ecos[0]] = g
			}
			g.Packages += len(t.pkgs)
			continue
		}
		c := caches[eco]
		if c == nil {
			c = newVersionCache(eco)
			caches[eco] = c
		}
		hits, err := db.lookup(t, eco, srcs, c, &warn)
		if err != nil {
			return nil, err
		}
		rep.Looked++
		if len(rep.Ecosystems) == 0 || !containsString(rep.Ecosystems, eco) {
			rep.Ecosystems = append(rep.Ecosystems, eco)
		}
		if len(hits) == 0 {
			continue
		}
		ms, err := db.group(t, eco, hits, c)
		if err != nil {
			return nil, err
		}
		rep.Matches = append(rep.Matches, ms...)
	}
	sort.Strings(rep.Ecosystems)
	for _, g := range uncovered {
		rep.Gaps = append(rep.Gaps, *g)
	}
	sort.Slice(rep.Gaps, func(i, j int) bool { return rep.Gaps[i].Ecosystem < rep.Gaps[j].Ecosystem })
	sort.SliceStable(rep.Matches, func(i, j int) bool {
		a, b := rep.Matches[i], rep.Matches[j]
		if ra, rb := ratingRank(a.Rating()), ratingRank(b.Rating()); ra != rb {
			return ra > rb
		}
		if a.Score.Value != b.Score.Value {
			return a.Score.Value > b.Score.Value
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
	rep.Warnings = warn.Lines()
	rep.Duration = time.Since(start)
	return rep, nil
}

// sourcesFor returns the first of the ecosystems some source has entries
// for, and those sources. (A source imported from OSV's <Ecosystem>/all.zip
// holds only that ecosystem's entries, so the Debian entries that the Alpine
// export's combined CVE records carry never pass for Debian data.)
func (db *DB) sourcesFor(ecos []string) (string, []*source) {
	for _, eco := range ecos {
		var out []*source
		for _, s := range db.sources {
			if s.info.Ecosystems[eco] > 0 {
				out = append(out, s)
			}
		}
		if len(out) > 0 {
			return eco, out
		}
	}
	return "", nil
}

func (db *DB) source(name string) *source {
	for _, s := range db.sources {
		if s.info.Name == name {
			return s
		}
	}
	return nil
}

func (db *DB) gapReason(eco string) string {
	base := BaseEcosystem(eco)
	if db.source(base) == nil {
		return fmt.Sprintf("no %s advisories installed (run shipshape db update --ecosystems %s, or db import an offline %s/all.zip)", base, base, base)
	}
	return fmt.Sprintf("the installed %s advisories have no entries for %s", base, eco)
}

// lookup finds the records whose affected entries cover the target's version.
func (db *DB) lookup(t *target, eco string, srcs []*source, c *versionCache, warn *Warnings) ([]hit, error) {
	ver := normalizeVersion(eco, t.version)
	var pv semantic.Version
	if v, err := parseVersion(eco, t.version); err != nil {
		warn.Add(t.name+" "+t.version, Note{Kind: "installed version does not parse (matched by exact version lists only)", Detail: err.Error()})
	} else {
		pv = v
	}
	var hits []hit
	for _, s := range srcs {
		rows, err := s.lookup(eco, t.key)
		if err != nil {
			return nil, err
		}
		first := len(hits)
		var ids []int64
		for i := range rows {
			d := &rows[i].data
			h := hit{src: s, data: d}
			for _, lv := range d.Versions {
				if lv == t.version || normalizeVersion(eco, lv) == ver {
					h.byVer = true
					break
				}
			}
			if pv != nil {
				for _, evs := range d.Ranges {
					if r := evalRange(evs, pv, c); r.affected {
						// Of several ranges covering v, keep the one with a fix.
						if !h.rng.affected || (h.rng.fixed == "" && r.fixed != "") {
							h.rng = r
						}
					}
				}
			}
			if !h.byVer && !h.rng.affected {
				continue
			}
			hits = append(hits, h)
			ids = append(ids, rows[i].vuln)
		}
		vs, err := s.vulns(ids)
		if err != nil {
			return nil, err
		}
		for i, v := range vs {
			hits[first+i].vuln = v
		}
	}
	return dedupeHits(hits, eco), nil
}

// dedupeHits keeps one hit per advisory id: the one from the source named
// for the ecosystem, else the most recently modified.
func dedupeHits(hits []hit, eco string) []hit {
	best := map[string]int{}
	var out []hit
	for _, h := range hits {
		i, ok := best[h.vuln.id]
		if !ok {
			best[h.vuln.id] = len(out)
			out = append(out, h)
			continue
		}
		cur := out[i]
		own := BaseEcosystem(eco)
		if (h.src.info.Name == own) != (cur.src.info.Name == own) {
			if h.src.info.Name == own {
				out[i] = h
			}
			continue
		}
		if h.vuln.modified > cur.vuln.modified {
			out[i] = h
		}
	}
	return out
}

// isOSEcosystem says whether matches should be reported per source package
// (OS packages) rather than per installed path (language packages).
func isOSEcosystem(eco string) bool {
	switch BaseEcosystem(eco) {
	case "Debian", "Ubuntu", "Alpine", "Wolfi", "Chainguard":
		return true
	}
	return false
}

// packageNames lists the distinct names of the packages.
func packageNames(ps []inventory.Package) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range ps {
		if !seen[p.Name] {
			seen[p.Name] = true
			out = append(out, p.Name)
		}
	}
	return out
}

// perPath splits a target's packages by the path that evidences them.
func perPath(ps []inventory.Package) [][]inventory.Package {
	idx := map[string]int{}
	var out [][]inventory.Package
	for _, p := range ps {
		i, ok := idx[p.Path]
		if !ok {
			i = len(out)
			idx[p.Path] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], p)
	}
	return out
}

func trimIDs(ids []string) []string {
	out := ids[:0]
	seen := map[string]bool{}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
