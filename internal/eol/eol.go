// Package eol answers whether a product release (an OS, a runtime, a server)
// has reached its end of life, from endoflife.date data. A curated copy is
// embedded in the binary (data/, MIT, see data/LICENSE); a newer directory of
// the same files can replace it.
package eol

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

//go:embed data/*.json
var embedded embed.FS

// Date is a release date field: a day, or a bare true/false meaning "ended,
// date unknown" / "not ended".
type Date struct {
	Time  time.Time
	Known bool // a date was given
	Set   bool // true was given, or a date
}

// UnmarshalJSON reads "YYYY-MM-DD", true, false or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	switch s {
	case "null", "false":
		*d = Date{}
		return nil
	case "true":
		*d = Date{Set: true}
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return err
	}
	t, err := time.Parse("2006-01-02", str)
	if err != nil {
		return fmt.Errorf("date %q: %w", str, err)
	}
	*d = Date{Time: t, Known: true, Set: true}
	return nil
}

// Passed reports whether the date is set and not after now.
func (d Date) Passed(now time.Time) bool {
	return d.Set && (!d.Known || !d.Time.After(now))
}

// String formats the date.
func (d Date) String() string {
	switch {
	case d.Known:
		return d.Time.Format("2006-01-02")
	case d.Set:
		return "yes (date unknown)"
	}
	return "none announced"
}

// Release is one release cycle of a product.
type Release struct {
	Cycle           string `json:"cycle"`
	Codename        string `json:"codename,omitempty"`
	ReleaseDate     Date   `json:"releaseDate"`
	EOL             Date   `json:"eol"`
	Support         Date   `json:"support"`
	ExtendedSupport Date   `json:"extendedSupport"`
	Latest          string `json:"latest"`
}

// Product is one product's releases.
type Product struct {
	Product  string    `json:"product"`
	Title    string    `json:"title"`
	Releases []Release `json:"releases"`
}

// DB holds the products.
type DB struct {
	products map[string]*Product
	// Source says where the data came from.
	Source string
}

// Embedded returns the data compiled into the binary.
func Embedded() (*DB, error) {
	sub, err := fs.Sub(embedded, "data")
	if err != nil {
		return nil, err
	}
	return load(sub, "embedded endoflife.date data")
}

// LoadDir reads <product>.json files from dir (the layout of `shipshape db update`).
func LoadDir(dir string) (*DB, error) {
	return load(os.DirFS(dir), dir)
}

func load(fsys fs.FS, source string) (*DB, error) {
	db := &DB{products: map[string]*Product{}, Source: source}
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if n == "index.json" {
			continue
		}
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		var p Product
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(source, n), err)
		}
		if p.Product == "" {
			p.Product = strings.TrimSuffix(n, ".json")
		}
		db.products[p.Product] = &p
	}
	if len(db.products) == 0 {
		return nil, fmt.Errorf("%s: no product files", source)
	}
	return db, nil
}

// Product returns a product by its endoflife.date slug.
func (db *DB) Product(slug string) (*Product, bool) {
	p, ok := db.products[slug]
	return p, ok
}

// Lookup finds the release cycle that version belongs to: the longest cycle
// equal to the version or a dotted prefix of it ("3.19" for "3.19.1").
func (db *DB) Lookup(slug, version string) (*Product, *Release, bool) {
	p, ok := db.products[slug]
	if !ok {
		return nil, nil, false
	}
	version = strings.TrimPrefix(version, "v")
	var best *Release
	for i, r := range p.Releases {
		if r.Cycle == version || strings.HasPrefix(version, r.Cycle+".") || strings.HasPrefix(version, r.Cycle+"-") || strings.HasPrefix(version, r.Cycle+"+") {
			if best == nil || len(r.Cycle) > len(best.Cycle) {
				best = &p.Releases[i]
			}
		}
	}
	return p, best, best != nil
}

// Status is where a release stands on a given day.
type Status struct {
	// Ended: regular support is over.
	Ended bool
	// Extended: regular support is over, but extended (LTS) support still runs.
	Extended bool
	// Soon: regular support ends within the warning window.
	Soon bool
}

// StatusAt judges r at now with a warning window.
func (r *Release) StatusAt(now time.Time, warn time.Duration) Status {
	var s Status
	if r.EOL.Passed(now) {
		s.Ended = true
		s.Extended = r.ExtendedSupport.Known && r.ExtendedSupport.Time.After(now)
		return s
	}
	s.Soon = r.EOL.Known && r.EOL.Time.Before(now.Add(warn))
	return s
}
