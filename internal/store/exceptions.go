package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Exception waives a check or an advisory for an image (by digest pattern) or
// a repository pattern, until it expires. What a pattern matches is the
// caller's business: the store keeps the strings.
type Exception struct {
	ID                int64
	Check             string // a check ID, or ""
	Advisory          string // an advisory ID (CVE-..., GHSA-...), or ""
	ImagePattern      string
	RepositoryPattern string
	Owner             string
	Reason            string
	CreatedBy         string
	CreatedAt         time.Time
	ExpiresAt         time.Time // zero: never
}

// CreateException records an exception and returns its ID.
func (tx *Tx) CreateException(e Exception) (int64, error) {
	id, err := tx.insertID(tx.ctx, `INSERT INTO exception (check_id, advisory, image_pattern, repository_pattern, owner, reason, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Check, e.Advisory, e.ImagePattern, e.RepositoryPattern, e.Owner, e.Reason, e.CreatedBy, micros(nowOr(e.CreatedAt)), ts(e.ExpiresAt))
	if err != nil {
		return 0, fmt.Errorf("store: create exception: %w", err)
	}
	return id, nil
}

// UpdateException replaces the fields of exception e.ID (not CreatedAt/CreatedBy).
func (tx *Tx) UpdateException(e Exception) error {
	res, err := tx.exec(tx.ctx, `UPDATE exception SET check_id = ?, advisory = ?, image_pattern = ?, repository_pattern = ?,
		owner = ?, reason = ?, expires_at = ? WHERE id = ?`,
		e.Check, e.Advisory, e.ImagePattern, e.RepositoryPattern, e.Owner, e.Reason, ts(e.ExpiresAt), e.ID)
	return affectedOne(res, err, fmt.Sprintf("exception %d", e.ID))
}

// DeleteException removes an exception.
func (tx *Tx) DeleteException(id int64) error {
	res, err := tx.exec(tx.ctx, `DELETE FROM exception WHERE id = ?`, id)
	return affectedOne(res, err, fmt.Sprintf("exception %d", id))
}

func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

const exceptionColumns = `id, check_id, advisory, image_pattern, repository_pattern, owner, reason, created_by, created_at, expires_at`

func scanException(sc interface{ Scan(...any) error }) (Exception, error) {
	var e Exception
	var created int64
	var expires sql.NullInt64
	err := sc.Scan(&e.ID, &e.Check, &e.Advisory, &e.ImagePattern, &e.RepositoryPattern, &e.Owner, &e.Reason, &e.CreatedBy, &created, &expires)
	e.CreatedAt, e.ExpiresAt = fromMicros(created), fromNull(expires)
	return e, err
}

// Exception returns one exception, or ErrNotFound.
func (r *reader) Exception(ctx context.Context, id int64) (Exception, error) {
	e, err := scanException(r.queryRow(ctx, `SELECT `+exceptionColumns+` FROM exception WHERE id = ?`, id))
	return e, notFound(err, fmt.Sprintf("exception %d", id))
}

// ExceptionFilter selects Exceptions; empty fields do not filter.
type ExceptionFilter struct {
	ActiveAt time.Time // only exceptions not expired at this time
	Check    string
	Advisory string
}

// Exceptions returns the exceptions matching f, by ID.
func (r *reader) Exceptions(ctx context.Context, f ExceptionFilter) ([]Exception, error) {
	q := `SELECT ` + exceptionColumns + ` FROM exception WHERE 1 = 1`
	var args []any
	if !f.ActiveAt.IsZero() {
		q += ` AND (expires_at IS NULL OR expires_at > ?)`
		args = append(args, micros(f.ActiveAt))
	}
	if f.Check != "" {
		q += ` AND check_id = ?`
		args = append(args, f.Check)
	}
	if f.Advisory != "" {
		q += ` AND advisory = ?`
		args = append(args, f.Advisory)
	}
	rows, err := r.query(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Exception
	for rows.Next() {
		e, err := scanException(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
