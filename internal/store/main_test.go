package store

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
)

// TestMain doubles as the child process of the multi-process tests: with
// SHIPSHAPE_STORE_CHILD set, the test binary runs that child role instead of
// the tests (see child_test.go).
func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(runChild(role))
	}
	os.Exit(m.Run())
}

// backend names a database the same test table runs against.
type backend struct {
	name string
	// dsn returns a fresh, empty database for one test.
	dsn func(t testing.TB) string
}

// backends are SQLite always, and PostgreSQL when SHIPSHAPE_TEST_POSTGRES is
// set (tools/ci/postgres.sh). Without it PostgreSQL tests skip, except under
// CI, where they fail: CI must not silently skip a backend.
func backends() []backend {
	return []backend{
		{name: "sqlite", dsn: sqliteDSN},
		{name: "postgres", dsn: postgresDSN},
	}
}

// eachBackend runs fn as a subtest per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { fn(t, b.dsn(t)) })
	}
}

func sqliteDSN(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "shipshape.db")
}

// postgresDSN creates a schema of its own on the test server and returns a
// DSN whose search_path selects it, dropped when the test ends.
func postgresDSN(t testing.TB) string {
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

func openStore(t testing.TB, dsn string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", dsn, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// mustTx runs fn in a transaction and fails the test on error.
func mustTx(t testing.TB, s *Store, fn func(tx *Tx) error) {
	t.Helper()
	if err := s.Tx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}
