// Package storetest gives tests a fresh database on each backend the store
// runs on: SQLite always, and PostgreSQL when SHIPSHAPE_TEST_POSTGRES is set
// (tools/ci/postgres.sh). Without it the PostgreSQL tests skip, except under
// CI, where they fail: CI must not silently skip a backend.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Backend names a database the same test table runs against.
type Backend struct {
	Name string
	// DSN returns a fresh, empty database for one test.
	DSN func(t testing.TB) string
}

// Backends are SQLite and PostgreSQL.
func Backends() []Backend {
	return []Backend{{Name: "sqlite", DSN: SQLite}, {Name: "postgres", DSN: Postgres}}
}

// Each runs fn as a subtest per backend.
func Each(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, b.DSN(t)) })
	}
}

// SQLite returns the DSN of a new SQLite file in a temporary directory.
func SQLite(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "shipshape.db")
}

// Postgres creates a schema of its own on the test server and returns a
// DSN whose search_path selects it, dropped when the test ends.
func Postgres(t testing.TB) string {
	base := os.Getenv("SHIPSHAPE_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("SHIPSHAPE_TEST_POSTGRES is not set under CI: run `eval \"$(tools/ci/postgres.sh)\"` first")
		}
		t.Skip("SHIPSHAPE_TEST_POSTGRES not set (eval \"$(tools/ci/postgres.sh)\" to run the PostgreSQL tests)")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema on %s: %v", base, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}
