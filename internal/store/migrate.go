package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrSchemaTooNew is returned by Open when the database was migrated by a
// newer shipshape than this one.
var ErrSchemaTooNew = errors.New("store: database schema is newer than this binary")

type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists migrations/NNNN_name.sql in version order.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		base := strings.TrimSuffix(e.Name(), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %s: want NNNN_name.sql", e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: migrations must be numbered 1..n without gaps; found %d at position %d", m.version, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion is the schema version this binary writes.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// Version returns the schema version recorded in the database.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v)
	return v, err
}

// migrate applies the pending migrations of this package, in one
// transaction, and then River's, under the dialect's migration lock so that
// processes starting together migrate once. On SQLite River's join the same
// transaction. It refuses a database newer than this binary.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	riverMigrator, err := rivermigrate.New(s.riverDriver, &rivermigrate.Config{Logger: s.logger})
	if err != nil {
		return fmt.Errorf("store: river migrations: %w", err)
	}
	if s.d.lockMigrations != nil {
		unlock, err := s.d.lockMigrations(ctx, s.db)
		if err != nil {
			return fmt.Errorf("store: lock migrations: %w", err)
		}
		defer unlock()
	}
	err = s.Tx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("store: create schema_version: %w", err)
		}
		var current int
		if err := tx.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
			return fmt.Errorf("store: read schema version: %w", err)
		}
		if current > len(ms) {
			return fmt.Errorf("%w: the database is at schema version %d, this shipshape knows versions up to %d; upgrade shipshape (or restore a backup made before the upgrade)",
				ErrSchemaTooNew, current, len(ms))
		}
		for _, m := range ms[current:] {
			for _, stmt := range splitStatements(s.d.schema(m.sql)) {
				if _, err := tx.exec(ctx, stmt); err != nil {
					return fmt.Errorf("store: migration %04d_%s: %w\n%s", m.version, m.name, err, stmt)
				}
			}
			if _, err := tx.exec(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, micros(time.Now())); err != nil {
				return fmt.Errorf("store: record migration %d: %w", m.version, err)
			}
		}
		if s.d.riverMigrationsInTx {
			if _, err := riverMigrator.MigrateTx(ctx, tx.tx, rivermigrate.DirectionUp, nil); err != nil {
				return fmt.Errorf("store: river migrations: %w", err)
			}
		}
		return nil
	})
	if err != nil || s.d.riverMigrationsInTx {
		return err
	}
	if _, err := riverMigrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("store: river migrations: %w", err)
	}
	return nil
}

// splitStatements splits a migration file on semicolons that end a line,
// dropping `--` comment lines. Migration files keep one statement per `;`.
func splitStatements(text string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			stmt := strings.TrimSpace(cur.String())
			out = append(out, strings.TrimSuffix(stmt, ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
