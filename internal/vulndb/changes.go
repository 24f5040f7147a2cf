package vulndb

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// ChangedPackages returns the lower-case names of the packages that records
// modified after since name, over every source (an ecosystem-blind
// over-approximation: a change to "openssl" in any ecosystem names
// "openssl"). A source that since has no entry for (newly installed) counts
// with all its packages. The service uses it to re-judge only the images a
// database update can change.
func (db *DB) ChangedPackages(since map[string]time.Time) ([]string, error) {
	seen := map[string]bool{}
	for _, s := range db.sources {
		t := since[s.info.Name]
		rows, err := s.db.Query(`SELECT DISTINCT a.name FROM affected a JOIN vulns v ON v.id = a.vuln WHERE substr(v.modified, 1, 19) > ?`,
			t.UTC().Format("2006-01-02T15:04:05"))
		if err != nil {
			return nil, fmt.Errorf("%s: listing changed packages: %w", s.info.Path, err)
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return nil, fmt.Errorf("%s: %w", s.info.Path, err)
			}
			seen[strings.ToLower(name)] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.info.Path, err)
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// Newest returns each source's newest record time, by source name: the
// since of a later ChangedPackages call.
func (db *DB) Newest() map[string]time.Time {
	out := map[string]time.Time{}
	for _, s := range db.sources {
		out[s.info.Name] = s.info.Newest
	}
	return out
}
