package vulndb

// prepare parses one record and turns its affected entries into stored rows:
// all of them, or only those of the base ecosystem only when it is set (an
// OSV <Ecosystem>/all.zip export is the data for that ecosystem; the other
// entries of its combined records belong to other exports). It never fails:
// problems are carried in the result for the builder to report.
func prepare(entry string, data []byte, only string, cache *parseCache) *prepared {
	p := &prepared{entry: entry}
	r, notes, err := ParseRecord(data)
	if err != nil {
		p.err = err
		return p
	}
	p.rec, p.notes = r, notes
	if r.Withdrawn != "" {
		return p
	}
	var sn []Note
	p.score, sn = bestCVSS(r.Severity)
	p.notes = append(p.notes, sn...)
	seenBase := map[string]bool{}
	for _, a := range r.Affected {
		eco := a.Package.Ecosystem
		if only != "" && BaseEcosystem(eco) != only {
			continue
		}
		c := cache.get(eco)
		d := affectedData{Versions: a.Versions, Urgency: a.EcosystemSpecific.Urgency, DBSeverity: a.DatabaseSpecific.Severity}
		key := NormalizeName(eco, a.Package.Name)
		if key != a.Package.Name {
			d.Name = a.Package.Name
		}
		for _, rg := range a.Ranges {
			evs, ok := sortEvents(c, rg.Events)
			if !ok {
				continue // ParseRecord dropped ranges that do not parse
			}
			d.Ranges = append(d.Ranges, evs)
		}
		d.Versions = uncovered(c, d.Ranges, d.Versions)
		if len(a.Severity) > 0 {
			if s, n := bestCVSS(a.Severity); s.Vector != "" {
				s.From = r.ID
				d.Score = &s
			} else {
				p.notes = append(p.notes, n...)
			}
		}
		p.rows = append(p.rows, preparedRow{eco: eco, key: key, data: d.marshal()})
		if base := BaseEcosystem(eco); !seenBase[base] {
			seenBase[base] = true
			p.bases = append(p.bases, base)
		}
	}
	return p
}

// uncovered drops the listed versions that the ranges already cover: they
// change nothing in matching (a version is affected if it is listed or in a
// range) and Debian's lists make up most of the stored data.
func uncovered(c *versionCache, ranges [][]event, versions []string) []string {
	if len(ranges) == 0 || len(versions) == 0 {
		return versions
	}
	var out []string
	for _, v := range versions {
		pv, ok := c.get(v)
		covered := false
		if ok {
			for _, evs := range ranges {
				if evalRange(evs, pv, c).affected {
					covered = true
					break
				}
			}
		}
		if !covered {
			out = append(out, v)
		}
	}
	return out
}

// parseCache keeps parsed versions per base ecosystem for one import
// worker: the same versions recur across the records of a package.
type parseCache struct {
	m map[string]*versionCache
}

// maxCached bounds the versions one cache keeps parsed (parsed Alpine
// versions take about a kilobyte each).
const maxCached = 20_000

func (p *parseCache) get(eco string) *versionCache {
	base := BaseEcosystem(eco)
	if p.m == nil {
		p.m = map[string]*versionCache{}
	}
	c := p.m[base]
	if c == nil {
		c = newVersionCache(base)
		p.m[base] = c
	}
	return c
}
