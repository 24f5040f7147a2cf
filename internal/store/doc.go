// Package store is the persistence of `shipshape serve`: images, their
// evaluations and findings, approvals, exceptions, the audit log, API tokens and
// the per-image facts, plus the job queue (River) that runs on the same database.
//
// One code path serves both backends:
//
//	sqlite:PATH                    embedded, pure Go (modernc.org/sqlite), WAL
//	postgres://... postgresql://...  PostgreSQL through pgx's database/sql driver
//
// Everything that differs between the two (placeholders, identity columns,
// binary columns, migration locking, the River driver) lives in dialect.go.
// Queries are plain SQL written once with `?` placeholders.
//
// The schema is versioned: the pending migrations/NNNN_name.sql are applied in
// order on Open, in one transaction, and recorded in schema_version; processes
// starting together migrate once. A database whose version is newer than this
// binary knows is refused (ErrSchemaTooNew). River's own tables are migrated
// by rivermigrate on Open as well.
//
// On SQLite the store has one connection: inside a Tx callback, use the Tx's
// methods only (a Store method would wait for the connection the Tx holds).
//
// Writes go through Store.Tx: the callback receives a *Tx whose methods write
// records, append audit events and enqueue jobs (River's InsertTx) in the same
// transaction, so a crash can never leave a state change without its event or
// its jobs. Reads are methods of both *Store and *Tx.
//
// The package stores no decisions: which approval transitions are legal, what
// an exception matches, when an approval expires, all belong to the caller
// (internal/fleet). Times are stored as Unix microseconds (UTC).
package store
