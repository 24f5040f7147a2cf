// Package vulndb is shipshape's vulnerability advisory database: OSV records
// (https://ossf.github.io/osv-schema/) imported from OSV's per-ecosystem
// all.zip exports into one SQLite file per source, and the matching of an
// image's inventory against them.
//
// Each source (an OSV ecosystem export: "Debian", "Go", "npm", ...) is a
// write-once SQLite file <dir>/<source>.db, built beside the old one and
// renamed over it, so that a failed or interrupted import or update never
// leaves a broken database. Lookups go by (OSV ecosystem, package name),
// which is indexed.
package vulndb

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver
)

// SchemaVersion is the layout of the source files this shipshape writes and reads.
const SchemaVersion = 1

// applicationID marks a SQLite file as a shipshape advisory source ("SHPV").
const applicationID = 0x53485056

// ErrNoDB means no advisory database has been installed.
var ErrNoDB = errors.New("no vulnerability database")

// ErrSchema means a source file was written by another version of shipshape.
var ErrSchema = errors.New("vulnerability database schema mismatch")

// Remedy is the command that installs or refreshes the database.
const Remedy = "`shipshape db update`, or `shipshape db import PATH` with offline copies of OSV's <Ecosystem>/all.zip exports"

// DefaultDir is $XDG_CACHE_HOME/shipshape/vulndb, or SHIPSHAPE_VULNDB_DIR when set.
func DefaultDir() (string, error) {
	if d := os.Getenv("SHIPSHAPE_VULNDB_DIR"); d != "" {
		return d, nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w (set XDG_CACHE_HOME or SHIPSHAPE_VULNDB_DIR)", err)
	}
	return filepath.Join(c, "shipshape", "vulndb"), nil
}

// SourceInfo describes one installed source.
type SourceInfo struct {
	// Name is the source's name, the OSV ecosystem of its export ("Debian").
	Name string `json:"name"`
	Path string `json:"path"`
	// Origin is the URL or path it was imported from.
	Origin  string `json:"origin"`
	Records int    `json:"records"`
	// Withdrawn counts withdrawn records, which are not stored.
	Withdrawn int `json:"withdrawn"`
	// Warnings counts problems found at import (see `db import` output).
	Warnings int `json:"warnings"`
	// Ecosystems maps each OSV ecosystem ("Debian:12") to its affected entries.
	Ecosystems map[string]int `json:"ecosystems"`
	ImportedAt time.Time      `json:"imported_at"`
	// CheckedAt is the last time `db update` found the source current.
	CheckedAt time.Time `json:"checked_at"`
	// Newest is the latest `modified` time among its records: the data's own
	// age, whatever the import date. Zero (and left out of JSON) when no
	// record carries a date (the Go vulnerability database's own files set
	// `modified` to 0001-01-01).
	Newest time.Time `json:"newest_record,omitzero"`
	// NewestBy is Newest per OSV ecosystem of Ecosystems ("Debian:12");
	// an ecosystem without an entry has no dated record (or the file was
	// imported by an older shipshape).
	NewestBy map[string]time.Time `json:"newest_by_ecosystem,omitempty"`
	ETag     string               `json:"-"`
	// LastModified is the HTTP Last-Modified of the downloaded export.
	LastModified string `json:"-"`
}

// Refreshed is when the source was last known current: imported or checked.
func (s SourceInfo) Refreshed() time.Time {
	if s.CheckedAt.After(s.ImportedAt) {
		return s.CheckedAt
	}
	return s.ImportedAt
}

// DB is an opened advisory database: every source file of a directory,
// opened read-only once. Its methods are safe for concurrent use: Match may
// be called from many goroutines on one DB (the record caches are guarded,
// and the SQLite handles are database/sql pools).
type DB struct {
	Dir     string
	sources []*source
}

type source struct {
	info      SourceInfo
	db        *sql.DB
	byPackage *sql.Stmt
	vulnByOSV *sql.Stmt
	// mu guards the caches; it is never held during a query.
	mu         sync.Mutex
	vulnCached map[int64]*vulnRow
	idCached   map[string][]*vulnRow
}

// Open opens every source in dir. It returns an error wrapping ErrNoDB when
// dir holds none, and one wrapping ErrSchema naming the file when a source
// was written by a newer (or older) shipshape.
func Open(dir string) (*DB, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.db"))
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w in %s: run %s", ErrNoDB, dir, Remedy)
	}
	sort.Strings(files)
	db := &DB{Dir: dir}
	for _, f := range files {
		s, err := openSource(f)
		if err != nil {
			db.Close()
			return nil, err
		}
		db.sources = append(db.sources, s)
	}
	return db, nil
}

func dsn(path string, readOnly bool) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	u := url.URL{Scheme: "file", Path: abs}
	if readOnly {
		u.RawQuery = "mode=ro&immutable=1&_pragma=mmap_size(1073741824)"
	}
	return u.String()
}

func openSource(path string) (*source, error) {
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	fail := func(err error) (*source, error) {
		db.Close()
		return nil, err
	}
	var app, ver int
	if err := db.QueryRow("PRAGMA application_id").Scan(&app); err != nil {
		return fail(fmt.Errorf("reading %s: %w (remove it and run %s)", path, err, Remedy))
	}
	if app != applicationID {
		return fail(fmt.Errorf("%s is not a shipshape vulnerability database (remove it and run %s)", path, Remedy))
	}
	if err := db.QueryRow("PRAGMA user_version").Scan(&ver); err != nil {
		return fail(fmt.Errorf("reading %s: %w", path, err))
	}
	switch {
	case ver > SchemaVersion:
		return fail(fmt.Errorf("%w: %s has schema version %d, newer than this shipshape reads (%d): upgrade shipshape, or rebuild the database with this one (%s)", ErrSchema, path, ver, SchemaVersion, Remedy))
	case ver < SchemaVersion:
		return fail(fmt.Errorf("%w: %s has schema version %d, older than this shipshape reads (%d): rebuild it (%s)", ErrSchema, path, ver, SchemaVersion, Remedy))
	}
	s := &source{db: db, vulnCached: map[int64]*vulnRow{}, idCached: map[string][]*vulnRow{}}
	s.info, err = readInfo(db, path)
	if err != nil {
		return fail(err)
	}
	if s.byPackage, err = db.Prepare(`SELECT vuln, data FROM affected WHERE ecosystem = ? AND name = ?`); err != nil {
		return fail(fmt.Errorf("%s: %w", path, err))
	}
	if s.vulnByOSV, err = db.Prepare(`SELECT ` + vulnCols + ` FROM vulns WHERE osv_id = ?`); err != nil {
		return fail(fmt.Errorf("%s: %w", path, err))
	}
	return s, nil
}

func readInfo(db *sql.DB, path string) (SourceInfo, error) {
	info := SourceInfo{Path: path, Ecosystems: map[string]int{}}
	rows, err := db.Query(`SELECT key, value FROM meta`)
	if err != nil {
		return info, fmt.Errorf("reading %s: %w", path, err)
	}
	meta := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return info, fmt.Errorf("reading %s: %w", path, err)
		}
		meta[k] = v
	}
	rows.Close()
	info.Name = meta["source"]
	if info.Name == "" {
		return info, fmt.Errorf("%s names no source (remove it and run %s)", path, Remedy)
	}
	info.Origin = meta["origin"]
	fmt.Sscan(meta["records"], &info.Records)
	fmt.Sscan(meta["withdrawn"], &info.Withdrawn)
	fmt.Sscan(meta["warnings"], &info.Warnings)
	info.ImportedAt, _ = time.Parse(time.RFC3339, meta["imported_at"])
	info.Newest, _ = time.Parse(time.RFC3339, meta["newest_record"])
	info.ETag, info.LastModified = meta["etag"], meta["last_modified"]
	erows, err := db.Query(`SELECT ecosystem, entries FROM ecosystems`)
	if err != nil {
		return info, fmt.Errorf("reading %s: %w", path, err)
	}
	for erows.Next() {
		var e string
		var n int
		if err := erows.Scan(&e, &n); err != nil {
			erows.Close()
			return info, fmt.Errorf("reading %s: %w", path, err)
		}
		info.Ecosystems[e] = n
	}
	erows.Close()
	for k, v := range meta {
		eco, ok := strings.CutPrefix(k, newestKeyPrefix)
		if !ok || info.Ecosystems[eco] == 0 {
			continue
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil && t.Year() > 1 {
			if info.NewestBy == nil {
				info.NewestBy = map[string]time.Time{}
			}
			info.NewestBy[eco] = t
		}
	}
	if info.Newest.Year() <= 1 {
		info.Newest = time.Time{}
	}
	if st, err := readState(statePath(path)); err == nil {
		info.CheckedAt = st.CheckedAt
		if st.ETag != "" || st.LastModified != "" {
			info.ETag, info.LastModified = st.ETag, st.LastModified
		}
	}
	return info, nil
}

// Sources describes the installed sources, by name.
func (db *DB) Sources() []SourceInfo {
	out := make([]SourceInfo, len(db.sources))
	for i, s := range db.sources {
		out[i] = s.info
	}
	return out
}

// Refreshed is the oldest refresh time among the sources: the database is as
// current as its stalest source.
func (db *DB) Refreshed() time.Time {
	var t time.Time
	for _, s := range db.sources {
		if r := s.info.Refreshed(); t.IsZero() || r.Before(t) {
			t = r
		}
	}
	return t
}

// Close closes every source.
func (db *DB) Close() error {
	var first error
	for _, s := range db.sources {
		if err := s.db.Close(); err != nil && first == nil {
			first = err
		}
	}
	db.sources = nil
	return first
}

const vulnCols = `id, osv_id, modified, summary, aliases, related, score, vector, basis, rating, db_severity`

// vulnRow is one stored record, without its affected entries.
type vulnRow struct {
	row        int64
	id         string
	modified   string
	summary    string
	aliases    []string
	related    []string
	score      Score
	dbSeverity string
	source     string
}

func (s *source) scanVuln(r interface{ Scan(...any) error }) (*vulnRow, error) {
	var v vulnRow
	var aliases, related string
	if err := r.Scan(&v.row, &v.id, &v.modified, &v.summary, &aliases, &related, &v.score.Value, &v.score.Vector, &v.score.Basis, &v.score.Rating, &v.dbSeverity); err != nil {
		return nil, err
	}
	v.aliases, v.related = splitIDs(aliases), splitIDs(related)
	if v.score.Vector != "" {
		v.score.From = v.id
	}
	v.source = s.info.Name
	return &v, nil
}

// vulns loads the records stored under rows into the cache, in batches,
// and returns them in the order of rows.
func (s *source) vulns(rows []int64) ([]*vulnRow, error) {
	var missing []any
	s.mu.Lock()
	for _, r := range rows {
		if _, ok := s.vulnCached[r]; !ok {
			missing = append(missing, r)
		}
	}
	s.mu.Unlock()
	const batch = 256
	for len(missing) > 0 {
		n := min(len(missing), batch)
		q := `SELECT ` + vulnCols + ` FROM vulns WHERE id IN (?` + strings.Repeat(",?", n-1) + `)`
		rs, err := s.db.Query(q, missing[:n]...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.info.Path, err)
		}
		var got []*vulnRow
		for rs.Next() {
			v, err := s.scanVuln(rs)
			if err != nil {
				rs.Close()
				return nil, fmt.Errorf("%s: %w", s.info.Path, err)
			}
			got = append(got, v)
		}
		err = rs.Err()
		rs.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.info.Path, err)
		}
		s.mu.Lock()
		for _, v := range got {
			if _, ok := s.vulnCached[v.row]; !ok {
				s.vulnCached[v.row] = v
			}
		}
		s.mu.Unlock()
		missing = missing[n:]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*vulnRow, len(rows))
	for i, r := range rows {
		v, ok := s.vulnCached[r]
		if !ok {
			return nil, fmt.Errorf("%s: record %d is missing (corrupt database? rebuild it with %s)", s.info.Path, r, Remedy)
		}
		out[i] = v
	}
	return out, nil
}

// byID returns the records stored under an OSV id, cached for the life of the DB.
func (s *source) byID(id string) ([]*vulnRow, error) {
	s.mu.Lock()
	v, ok := s.idCached[id]
	s.mu.Unlock()
	if ok {
		return v, nil
	}
	rows, err := s.vulnByOSV.Query(id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*vulnRow
	for rows.Next() {
		v, err := s.scanVuln(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if v, ok := s.idCached[id]; ok {
		out = v // another goroutine stored it first: share one copy
	} else {
		s.idCached[id] = out
	}
	s.mu.Unlock()
	return out, nil
}

// affectedRow is one stored affected entry.
type affectedRow struct {
	vuln int64
	data affectedData
}

// affectedData is the stored form of one affected entry: events sorted in
// the ecosystem's order, the explicit versions, and per-package severity.
type affectedData struct {
	// Name is the package name as the advisory spells it, when the lookup key differs.
	Name     string    `json:"n,omitempty"`
	Ranges   [][]event `json:"r,omitempty"`
	Versions []string  `json:"v,omitempty"`
	// Urgency is Debian's urgency for this release.
	Urgency string `json:"u,omitempty"`
	// Score is computed from affected[].severity, when the record has one.
	Score *Score `json:"s,omitempty"`
	// DBSeverity is affected[].database_specific.severity.
	DBSeverity string `json:"d,omitempty"`
}

// lookup returns the affected entries stored for (ecosystem, name key).
func (s *source) lookup(eco, key string) ([]affectedRow, error) {
	rows, err := s.byPackage.Query(eco, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.info.Path, err)
	}
	defer rows.Close()
	var out []affectedRow
	for rows.Next() {
		var r affectedRow
		var data []byte
		if err := rows.Scan(&r.vuln, &data); err != nil {
			return nil, fmt.Errorf("%s: %w", s.info.Path, err)
		}
		if err := r.data.unmarshal(data); err != nil {
			return nil, fmt.Errorf("%s: corrupt entry for %s %s: %w", s.info.Path, eco, key, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func joinIDs(ids []string) string {
	clean := ids[:0:0]
	for _, id := range ids {
		if id != "" && len(id) <= maxIDLen && !strings.ContainsAny(id, "\n\x00") {
			clean = append(clean, id)
		}
	}
	return strings.Join(clean, "\n")
}

func splitIDs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
