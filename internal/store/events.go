package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Event is one entry of the append-only audit log.
type Event struct {
	ID      int64
	At      time.Time
	Actor   string // token name, "system", ...
	Action  string // "image.submitted", "approval.approved", ...
	Subject string // usually a digest, or "exception/12", "token/3"
	Details json.RawMessage
}

// AppendEvent adds an event to the audit log and returns its ID. There is no
// update or delete of events.
func (tx *Tx) AppendEvent(e Event) (int64, error) {
	if e.Actor == "" || e.Action == "" {
		return 0, fmt.Errorf("store: event needs an actor and an action")
	}
	details := string(e.Details)
	if details == "" {
		details = "{}"
	} else if !json.Valid(e.Details) {
		return 0, fmt.Errorf("store: event %s: details are not JSON", e.Action)
	}
	id, err := tx.insertID(tx.ctx, `INSERT INTO event (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)`,
		micros(nowOr(e.At)), e.Actor, e.Action, e.Subject, details)
	if err != nil {
		return 0, fmt.Errorf("store: append event %s: %w", e.Action, err)
	}
	return id, nil
}

// EventFilter selects Events; empty fields do not filter.
type EventFilter struct {
	Subject string
	Actor   string
	Action  string
	Since   time.Time // at or after
	Until   time.Time // before
	AfterID int64     // cursor: events with a greater ID
	Newest  bool      // newest first (then AfterID is ignored)
	Limit   int       // default 100, at most 10000
}

// Events returns audit events matching f, in ID order (or newest first).
func (r *reader) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	q := `SELECT id, at, actor, action, subject, details FROM event WHERE 1 = 1`
	var args []any
	add := func(cond string, v any) { q += " AND " + cond; args = append(args, v) }
	if f.Subject != "" {
		add("subject = ?", f.Subject)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if !f.Since.IsZero() {
		add("at >= ?", micros(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", micros(f.Until))
	}
	if f.Newest {
		q += " ORDER BY id DESC"
	} else {
		if f.AfterID > 0 {
			add("id > ?", f.AfterID)
		}
		q += " ORDER BY id"
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += " LIMIT ?"
	args = append(args, min(limit, 10000))
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		var details string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Subject, &details); err != nil {
			return nil, err
		}
		e.At, e.Details = fromMicros(at), json.RawMessage(details)
		out = append(out, e)
	}
	return out, rows.Err()
}
