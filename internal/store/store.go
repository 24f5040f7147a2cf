package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

// ErrNotFound is returned by single-record reads when there is no such record.
var ErrNotFound = errors.New("store: not found")

// Store is an open database: records, the audit log and the job queue.
// It is safe for concurrent use.
type Store struct {
	reader
	db     *sql.DB
	d      *dialect
	queue  *Queue
	logger *slog.Logger

	riverDriver riverdriver.Driver[*sql.Tx]
}

type options struct {
	maxConns int
	queue    QueueConfig
	logger   *slog.Logger
}

// Option configures Open.
type Option func(*options)

// WithMaxConns bounds the PostgreSQL connection pool (default 20). SQLite
// always uses one connection, as River's SQLite driver requires.
func WithMaxConns(n int) Option { return func(o *options) { o.maxConns = n } }

// WithQueue configures the job queue: its workers, periodic jobs and timings.
// Without it the queue can enqueue (Tx.Enqueue) and list jobs but not work them.
func WithQueue(c QueueConfig) Option { return func(o *options) { o.queue = c } }

// WithLogger sets the logger of the store and of River (default: discard
// below warnings).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Open opens the database named by dsn, applies pending migrations (ours and
// River's) and prepares the job queue (not started: see Queue.Start).
//
//	sqlite:PATH                       a file, created when missing (WAL mode)
//	postgres://USER@HOST:PORT/DB?...  or postgresql://..., any pgx connection string
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{maxConns: 20}
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	db, d, err := openDB(dsn, o.maxConns)
	if err != nil {
		return nil, err
	}
	s := &Store{reader: reader{q: db, d: d}, db: db, d: d, logger: o.logger, riverDriver: d.newRiverDriver(db)}
	if err := ping(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect %s: %w", redact(dsn), err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	q, err := newQueue(s, o.queue, o.logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.queue = q
	return s, nil
}

// openDB parses dsn and opens the matching database/sql pool.
func openDB(dsn string, maxConns int) (*sql.DB, *dialect, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return nil, nil, errors.New("store: sqlite: needs a path (sqlite:PATH)")
		}
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, nil, fmt.Errorf("store: %w", err)
			}
		}
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Set("_txlock", "immediate")
		db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, nil, fmt.Errorf("store: open %s: %w", path, err)
		}
		// River's SQLite driver runs its operations concurrently; one
		// connection serialises them instead of failing with SQLITE_BUSY.
		db.SetMaxOpenConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		return db, sqliteDialect, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, nil, fmt.Errorf("store: open %s: %w", redact(dsn), err)
		}
		if maxConns <= 0 {
			maxConns = 20
		}
		maxConns = max(maxConns, 2) // migrating holds a lock on one connection
		db.SetMaxOpenConns(maxConns)
		db.SetMaxIdleConns(maxConns)
		db.SetConnMaxIdleTime(5 * time.Minute)
		return db, postgresDialect, nil
	default:
		return nil, nil, fmt.Errorf("store: unsupported database %q: use sqlite:PATH or postgres://...", redact(dsn))
	}
}

// redact hides a password in a DSN for error messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Analyze refreshes the query planner's statistics (ANALYZE on PostgreSQL,
// PRAGMA optimize on SQLite). Cheap; worth running after bulk imports and from
// the daily sweep.
func (s *Store) Analyze(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, s.d.analyze); err != nil {
		return fmt.Errorf("store: analyze: %w", err)
	}
	return nil
}

// Backend is "sqlite" or "postgres".
func (s *Store) Backend() string { return s.d.name }

// Queue is the job queue sharing this store's database.
func (s *Store) Queue() *Queue { return s.queue }

// Close stops the queue (if started) and closes the database.
func (s *Store) Close() error {
	if s.queue != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = s.queue.Stop(ctx)
		cancel()
	}
	return s.db.Close()
}

// Tx runs fn in one database transaction, committed when fn returns nil and
// rolled back otherwise (also when fn panics). Every write, its audit event and
// the jobs it enqueues go through a Tx, so they commit or vanish together.
func (s *Store) Tx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	stx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	tx := &Tx{reader: reader{q: stx, d: s.d}, tx: stx, s: s, ctx: ctx}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = stx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Tx is one open transaction; see Store.Tx. Reads through it see its writes.
type Tx struct {
	reader
	tx  *sql.Tx
	s   *Store
	ctx context.Context
}

// querier is what both *sql.DB and *sql.Tx provide.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reader carries the read methods shared by Store and Tx.
type reader struct {
	q querier
	d *dialect
}

func (r *reader) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return r.q.ExecContext(ctx, r.d.rebind(query), args...)
}

func (r *reader) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return r.q.QueryContext(ctx, r.d.rebind(query), args...)
}

func (r *reader) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return r.q.QueryRowContext(ctx, r.d.rebind(query), args...)
}

// insertID runs an INSERT ... RETURNING id (both backends support RETURNING).
func (r *reader) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := r.queryRow(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, err
}

// Times are stored as Unix microseconds; the zero time is NULL.

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNull(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

func nowOr(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now().UTC()
	}
	return t.UTC()
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return err
}

// ping connects, retrying for a while when SQLite answers "database is
// locked": switching a new file to WAL mode takes a lock that SQLite does not
// wait for (busy_timeout does not apply), so processes opening one new
// database at once can see SQLITE_BUSY on their first connection.
func ping(ctx context.Context, db *sql.DB) error {
	var err error
	for i := 0; i < 100; i++ {
		if err = db.PingContext(ctx); err == nil || !strings.Contains(err.Error(), "SQLITE_BUSY") {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(20+rand.IntN(80)) * time.Millisecond):
		}
	}
	return err
}
