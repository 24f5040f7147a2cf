package vulndb

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const schema = `
PRAGMA application_id = 1397248086;
PRAGMA user_version = 1;
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE vulns(
	id INTEGER PRIMARY KEY,
	osv_id TEXT NOT NULL,
	modified TEXT NOT NULL,
	summary TEXT NOT NULL,
	aliases TEXT NOT NULL,
	related TEXT NOT NULL,
	score REAL NOT NULL,
	vector TEXT NOT NULL,
	basis TEXT NOT NULL,
	rating TEXT NOT NULL,
	db_severity TEXT NOT NULL
);
CREATE TEMP TABLE affected_stage(ecosystem TEXT NOT NULL, name TEXT NOT NULL, vuln INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE ecosystems(ecosystem TEXT PRIMARY KEY, entries INTEGER NOT NULL, packages INTEGER NOT NULL) WITHOUT ROWID;
`

// The schema's PRAGMAs must agree with the constants the reader checks.
var _ = [1]struct{}{}[applicationID-1397248086]
var _ = [1]struct{}{}[SchemaVersion-1]

// prepared is one record turned into rows by an import worker.
type prepared struct {
	index int    // position in the input
	entry string // file or zip entry name, for warnings
	rec   *Record
	score Score
	rows  []preparedRow
	notes []Note
	// bases are the base ecosystems the record's entries name, for guessing the source.
	bases []string
	err   error
}

type preparedRow struct {
	eco, key string
	data     []byte
}

// builder writes a new source file beside the final one.
type builder struct {
	dir, tmp string
	db       *sql.DB
	tx       *sql.Tx
	insVuln  *sql.Stmt
	insAff   *sql.Stmt
	delVuln  *sql.Stmt
	delAff   *sql.Stmt
	seen     map[string]*seenRec
	nextAff  int64
	records  int
	withdraw int
	newest   time.Time
	// newestBy is the latest `modified` of the records with entries of
	// each OSV ecosystem ("Debian:12").
	newestBy map[string]time.Time
	bases    map[string]int
	warn     Warnings
}

type seenRec struct {
	row      int64
	modified time.Time
	aff      []int64
}

func newBuilder(dir string) (*builder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".import-*.db.tmp")
	if err != nil {
		return nil, fmt.Errorf("creating a file in %s: %w", dir, err)
	}
	f.Close()
	b := &builder{dir: dir, tmp: f.Name(), seen: map[string]*seenRec{}, bases: map[string]int{}, newestBy: map[string]time.Time{}}
	db, err := sql.Open("sqlite", dsn(b.tmp, false)+"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=locking_mode(EXCLUSIVE)&_pragma=cache_size(-16384)&_pragma=temp_store(MEMORY)")
	if err != nil {
		b.abort()
		return nil, fmt.Errorf("creating %s: %w", b.tmp, err)
	}
	db.SetMaxOpenConns(1)
	b.db = db
	if _, err := db.Exec(schema); err != nil {
		b.abort()
		return nil, fmt.Errorf("creating the schema in %s: %w", b.tmp, err)
	}
	if b.tx, err = db.Begin(); err != nil {
		b.abort()
		return nil, err
	}
	for _, p := range []struct {
		s   **sql.Stmt
		sql string
	}{
		{&b.insVuln, `INSERT INTO vulns VALUES (?,?,?,?,?,?,?,?,?,?,?)`},
		{&b.insAff, `INSERT INTO affected_stage(rowid, ecosystem, name, vuln, data) VALUES (?,?,?,?,?)`},
		{&b.delVuln, `DELETE FROM vulns WHERE id = ?`},
		{&b.delAff, `DELETE FROM affected_stage WHERE rowid = ?`},
	} {
		if *p.s, err = b.tx.Prepare(p.sql); err != nil {
			b.abort()
			return nil, fmt.Errorf("preparing %s: %w", b.tmp, err)
		}
	}
	return b, nil
}

// add stores one prepared record, keeping the latest `modified` of records
// that share an id.
func (b *builder) add(p *prepared) error {
	if p.err != nil {
		b.warn.Add(p.entry, Note{Kind: "malformed record (skipped)", Detail: p.err.Error()})
		return nil
	}
	r := p.rec
	for _, n := range p.notes {
		b.warn.Add(r.ID, n)
	}
	if r.Withdrawn != "" {
		b.withdraw++
		return nil
	}
	mod, _ := time.Parse(time.RFC3339Nano, r.Modified)
	if old, dup := b.seen[r.ID]; dup {
		if !mod.After(old.modified) {
			b.warn.Add(r.ID, Note{Kind: "duplicate record id (older copy skipped)", Detail: p.entry})
			return nil
		}
		b.warn.Add(r.ID, Note{Kind: "duplicate record id (older copy skipped)", Detail: p.entry})
		if _, err := b.delVuln.Exec(old.row); err != nil {
			return err
		}
		for _, a := range old.aff {
			if _, err := b.delAff.Exec(a); err != nil {
				return err
			}
		}
		b.records--
	}
	if len(p.rows) == 0 {
		// Nothing to match (GIT-only or unknown ecosystems, already noted);
		// the record still counts for alias severity lookups.
		if len(r.Affected) == 0 && len(p.notes) == 0 {
			b.warn.Add(r.ID, Note{Kind: "record without affected packages (kept for aliases only)"})
		}
	}
	// The row is the record's position in the input, so that the same
	// input gives the same database whatever order the workers finish in.
	row := int64(p.index) + 1
	s := p.score
	if _, err := b.insVuln.Exec(row, r.ID, r.Modified, r.Summary, joinIDs(r.Aliases), joinIDs(r.Related), s.Value, s.Vector, s.Basis, s.Rating, r.DatabaseSpecific.Severity); err != nil {
		return fmt.Errorf("storing %s: %w", r.ID, err)
	}
	seen := &seenRec{row: row, modified: mod}
	for _, a := range p.rows {
		b.nextAff++
		if _, err := b.insAff.Exec(b.nextAff, a.eco, a.key, row, a.data); err != nil {
			return fmt.Errorf("storing %s: %w", r.ID, err)
		}
		seen.aff = append(seen.aff, b.nextAff)
	}
	b.seen[r.ID] = seen
	b.records++
	if mod.After(b.newest) {
		b.newest = mod
	}
	if mod.Year() > 1 {
		for _, a := range p.rows {
			if mod.After(b.newestBy[a.eco]) {
				b.newestBy[a.eco] = mod
			}
		}
	}
	for _, e := range p.bases {
		b.bases[e]++
	}
	return nil
}

// guessSource names the source after the base ecosystem most records name.
func (b *builder) guessSource() string {
	best, n := "", 0
	for e, c := range b.bases {
		if c > n || (c == n && e < best) {
			best, n = e, c
		}
	}
	return best
}

// keepOnly drops the staged entries of other base ecosystems than base.
func (b *builder) keepOnly(base string) error {
	_, err := b.tx.Exec(`DELETE FROM affected_stage WHERE ecosystem != ? AND ecosystem NOT LIKE ? ESCAPE '\'`, base, strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(base)+":%")
	return err
}

// importMeta is what finish records about the import.
type importMeta struct {
	name, origin, etag, lastModified string
	now                              time.Time
}

// finish indexes and closes the new file and renames it over the source's
// file; the old file stays in place until then.
func (b *builder) finish(m importMeta) (SourceInfo, error) {
	defer b.abort()
	if b.records == 0 {
		return SourceInfo{}, fmt.Errorf("no usable OSV records (%d withdrawn, %d warnings)", b.withdraw, b.warn.Count())
	}
	final, err := sourceFile(b.dir, m.name)
	if err != nil {
		return SourceInfo{}, err
	}
	meta := map[string]string{
		"source":        m.name,
		"origin":        m.origin,
		"records":       strconv.Itoa(b.records),
		"withdrawn":     strconv.Itoa(b.withdraw),
		"warnings":      strconv.Itoa(b.warn.Count()),
		"imported_at":   m.now.UTC().Format(time.RFC3339),
		"etag":          m.etag,
		"last_modified": m.lastModified,
	}
	if !b.newest.IsZero() && b.newest.Year() > 1 {
		meta["newest_record"] = b.newest.UTC().Format(time.RFC3339)
	}
	// Per OSV ecosystem, under "newest_record/<ecosystem>" (meta keys, so
	// that the schema is unchanged; files without them say "unknown").
	// Ecosystems that keepOnly dropped are filtered out when read.
	for eco, t := range b.newestBy {
		meta[newestKeyPrefix+eco] = t.UTC().Format(time.RFC3339)
	}
	for k, v := range meta {
		if _, err := b.tx.Exec(`INSERT INTO meta VALUES (?, ?)`, k, v); err != nil {
			return SourceInfo{}, err
		}
	}
	// The affected entries are staged in a temporary table and written
	// once, sorted, into a table clustered by (ecosystem, name): a lookup
	// is then one range scan of adjacent pages.
	for _, q := range []string{
		`CREATE TABLE affected(ecosystem TEXT NOT NULL, name TEXT NOT NULL, vuln INTEGER NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (ecosystem, name, vuln, seq)) WITHOUT ROWID`,
		`INSERT INTO affected SELECT ecosystem, name, vuln, rowid, data FROM affected_stage ORDER BY ecosystem, name, vuln, rowid`,
		`DROP TABLE affected_stage`,
		`CREATE INDEX vulns_osv_id ON vulns(osv_id)`,
		`INSERT INTO ecosystems SELECT ecosystem, count(*), count(DISTINCT name) FROM affected GROUP BY ecosystem`,
	} {
		if _, err := b.tx.Exec(q); err != nil {
			return SourceInfo{}, fmt.Errorf("indexing %s: %w", b.tmp, err)
		}
	}
	if err := b.tx.Commit(); err != nil {
		return SourceInfo{}, fmt.Errorf("writing %s: %w", b.tmp, err)
	}
	b.tx = nil
	if err := b.db.Close(); err != nil {
		return SourceInfo{}, fmt.Errorf("writing %s: %w", b.tmp, err)
	}
	b.db = nil
	if err := syncFile(b.tmp); err != nil {
		return SourceInfo{}, err
	}
	if err := os.Rename(b.tmp, final); err != nil {
		return SourceInfo{}, fmt.Errorf("installing %s: %w", final, err)
	}
	syncDir(filepath.Dir(final))
	if err := writeState(statePath(final), state{CheckedAt: m.now.UTC(), ETag: m.etag, LastModified: m.lastModified}); err != nil {
		return SourceInfo{}, err
	}
	s, err := openSource(final)
	if err != nil {
		return SourceInfo{}, err
	}
	defer s.db.Close()
	return s.info, nil
}

// abort removes the unfinished file; it is a no-op after finish.
func (b *builder) abort() {
	if b.tx != nil {
		b.tx.Rollback()
		b.tx = nil
	}
	if b.db != nil {
		b.db.Close()
		b.db = nil
	}
	os.Remove(b.tmp)
}

func syncFile(p string) error {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", p, err)
	}
	return nil
}

func syncDir(d string) {
	if f, err := os.Open(d); err == nil {
		f.Sync()
		f.Close()
	}
}
