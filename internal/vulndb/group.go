package vulndb

import (
	"sort"
	"strings"
)

// group merges the hits of one target into vulnerabilities and returns the
// matches. Records that name each other in aliases are one vulnerability. A
// distribution advisory (a Debian DSA or DLA bundling CVE fixes) that names a
// matched vulnerability in related, or is named by it, is not reported on
// its own: its id is listed with each vulnerability it names, and its fixed
// version is used where their own records know none.
func (db *DB) group(t *target, eco string, hits []hit, c *versionCache) ([]Match, error) {
	n := len(hits)
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, h := range hits {
		for _, id := range append([]string{h.vuln.id}, h.vuln.aliases...) {
			if j, ok := owner[id]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[id] = i
			}
		}
	}
	groups := map[int][]int{}
	var roots []int
	for i := range hits {
		r := find(i)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], i)
	}
	// Attach related bundles. rev maps an id to the groups whose records
	// name it in related.
	rev := map[string][]int{}
	for _, r := range roots {
		for _, i := range groups[r] {
			for _, rel := range hits[i].vuln.related {
				rev[rel] = append(rev[rel], r)
			}
		}
	}
	attached := map[int][]int{} // root -> hits of bundles attached to it
	absorbed := map[int]bool{}
	for _, r := range roots {
		if !isBundle(hits, groups[r]) {
			continue
		}
		targets := map[int]bool{}
		for _, i := range groups[r] {
			for _, rel := range hits[i].vuln.related {
				if j, ok := owner[rel]; ok && find(j) != r {
					targets[find(j)] = true
				}
			}
			for _, id := range append([]string{hits[i].vuln.id}, hits[i].vuln.aliases...) {
				for _, other := range rev[id] {
					if other != r {
						targets[other] = true
					}
				}
			}
		}
		trs := make([]int, 0, len(targets))
		for tr := range targets {
			trs = append(trs, tr)
		}
		sort.Ints(trs)
		for _, tr := range trs {
			if !absorbed[tr] {
				attached[tr] = append(attached[tr], groups[r]...)
				absorbed[r] = true
			}
		}
	}
	var out []Match
	for _, r := range roots {
		if absorbed[r] {
			continue
		}
		m, err := db.buildMatch(t, eco, hits, groups[r], attached[r], c)
		if err != nil {
			return nil, err
		}
		if isOSEcosystem(eco) {
			m.Package, m.Packages = t.pkgs[0], packageNames(t.pkgs)
			out = append(out, m)
			continue
		}
		for _, ps := range perPath(t.pkgs) {
			mm := m
			mm.Package, mm.Packages = ps[0], packageNames(ps)
			out = append(out, mm)
		}
	}
	return out, nil
}

// bundlePrefixes are the ids of distribution advisories that bundle the
// fixes of several CVEs (Debian DSA, DLA, DTSA; Ubuntu USN; Red Hat,
// Rocky, Alma, Oracle and SUSE errata).
var bundlePrefixes = []string{"DSA-", "DLA-", "DTSA-", "USN-", "RHSA-", "RLSA-", "ALSA-", "ELSA-", "SUSE-", "openSUSE-"}

// isBundle says every record of the group is a distribution advisory.
func isBundle(hits []hit, idx []int) bool {
	for _, i := range idx {
		ok := false
		for _, p := range bundlePrefixes {
			ok = ok || strings.HasPrefix(hits[i].vuln.id, p)
		}
		if !ok {
			return false
		}
	}
	return true
}

// idRank orders ids for the main id: CVE first, then GHSA, then the rest.
func idRank(id string) int {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return 0
	case strings.HasPrefix(id, "GHSA-"):
		return 1
	}
	return 2
}

func (db *DB) buildMatch(t *target, eco string, hits []hit, members, extra []int, c *versionCache) (Match, error) {
	m := Match{Ecosystem: eco, Name: t.name, Version: t.version}
	var recIDs, ids []string
	srcs := map[string]bool{}
	for _, i := range members {
		h := hits[i]
		recIDs = append(recIDs, h.vuln.id)
		ids = append(ids, h.vuln.id)
		ids = append(ids, h.vuln.aliases...)
		srcs[h.src.info.Name] = true
	}
	for _, i := range extra {
		ids = append(ids, hits[i].vuln.id)
		srcs[hits[i].src.info.Name] = true
	}
	sort.Slice(recIDs, func(i, j int) bool {
		if a, b := idRank(recIDs[i]), idRank(recIDs[j]); a != b {
			return a < b
		}
		return recIDs[i] < recIDs[j]
	})
	m.ID = recIDs[0]
	sort.Strings(ids)
	m.IDs = trimIDs(append([]string{m.ID}, ids...))
	for s := range srcs {
		m.Sources = append(m.Sources, s)
	}
	sort.Strings(m.Sources)

	// Fix: the highest fixed version among the records' covering ranges;
	// the attached bundles' fixes only when the records know none.
	pick := func(idx []int) {
		for _, i := range idx {
			h := hits[i]
			if h.vuln.id == m.ID && m.Summary == "" {
				m.Summary = h.vuln.summary
			}
			if !h.rng.affected {
				if h.byVer && !h.rng.affected && m.Fixed == "" && m.LastAffected == "" {
					m.ByVersionList = true
				}
				continue
			}
			m.ByVersionList = false
			if h.rng.fixed != "" {
				if m.Fixed == "" || greater(c, h.rng.fixed, m.Fixed) {
					m.Fixed, m.Introduced = h.rng.fixed, h.rng.introduced
				}
				m.LastAffected = ""
			} else if m.Fixed == "" {
				m.Introduced = h.rng.introduced
				if h.rng.lastAffected != "" {
					m.LastAffected = h.rng.lastAffected
				}
			}
		}
	}
	pick(members)
	if m.Fixed == "" {
		pick(extra)
	}
	for _, i := range members {
		if m.Summary == "" {
			m.Summary = hits[i].vuln.summary
		}
	}
	sc, err := db.severity(hits, members, extra, m.IDs)
	if err != nil {
		return m, err
	}
	m.Score = sc
	m.Vendor = vendorSeverity(eco, hits, members)
	return m, nil
}

// vendorSeverity is the distribution's own rating of the vulnerability for
// the package: the highest Debian urgency among the records' entries for
// this release, read from the Debian source only. The bundles attached to
// the vulnerability (DSA, DLA) carry none.
func vendorSeverity(eco string, hits []hit, members []int) *VendorSeverity {
	if BaseEcosystem(eco) != "Debian" {
		return nil
	}
	var best *VendorSeverity
	for _, i := range members {
		h := hits[i]
		if h.src.info.Name != "Debian" {
			continue
		}
		if v, ok := debianUrgency(h.data.Urgency); ok && (best == nil || ratingRank(v.Rating) > ratingRank(best.Rating)) {
			best = &v
		}
	}
	return best
}

func greater(c *versionCache, a, b string) bool {
	va, ok1 := c.get(a)
	vb, ok2 := c.get(b)
	if !ok1 || !ok2 {
		return false
	}
	r, err := va.Compare(vb)
	return err == nil && r > 0
}

// severity picks the score: the highest CVSS of the records (per-package
// severity first), then the CVSS of an alias stored in any source (Go
// records carry none, the CVE record of another source may), then GHSA's
// rating, then Debian's urgency.
func (db *DB) severity(hits []hit, members, extra []int, ids []string) (Score, error) {
	var best Score
	consider := func(s Score) {
		if s.Vector != "" && (best.Vector == "" || s.Value > best.Value) {
			best = s
		}
	}
	all := append(append([]int{}, members...), extra...)
	for _, i := range all {
		if hits[i].data.Score != nil {
			consider(*hits[i].data.Score)
		}
	}
	if best.Vector != "" {
		return best, nil
	}
	have := map[string]bool{}
	for _, i := range all {
		consider(hits[i].vuln.score)
		have[hits[i].vuln.id] = true
	}
	if best.Vector != "" {
		return best, nil
	}
	for _, id := range ids {
		if have[id] {
			continue
		}
		for _, s := range db.sources {
			rows, err := s.byID(id)
			if err != nil {
				return Score{}, err
			}
			for _, v := range rows {
				if v.score.Vector != "" {
					sc := v.score
					sc.From = v.id
					sc.Basis += " (of alias " + v.id + ", from the " + s.info.Name + " data)"
					consider(sc)
				}
			}
		}
	}
	if best.Vector != "" {
		return best, nil
	}
	var fallback Score
	take := func(s Score, ok bool) {
		if ok && s.Value > fallback.Value {
			fallback = s
		}
	}
	for _, i := range all {
		h := hits[i]
		take(fromRating(h.vuln.dbSeverity, "GHSA severity", h.vuln.id))
		take(fromRating(h.data.DBSeverity, "GHSA severity", h.vuln.id))
	}
	if fallback.Rating == "" {
		for _, i := range all {
			take(fromRating(hits[i].data.Urgency, "Debian urgency", hits[i].vuln.id))
		}
	}
	if fallback.Rating != "" {
		return fallback, nil
	}
	return Score{Rating: "unknown", Basis: "no CVSS vector or severity rating in the advisory data"}, nil
}
