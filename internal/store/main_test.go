package store

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/store/storetest"
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

// backends are those of storetest (SQLite, and PostgreSQL when configured).
func backends() []backend {
	var out []backend
	for _, b := range storetest.Backends() {
		out = append(out, backend{name: b.Name, dsn: b.DSN})
	}
	return out
}

// eachBackend runs fn as a subtest per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, dsn string)) { storetest.Each(t, fn) }

func sqliteDSN(t testing.TB) string { return storetest.SQLite(t) }

func postgresDSN(t testing.TB) string { return storetest.Postgres(t) }

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
