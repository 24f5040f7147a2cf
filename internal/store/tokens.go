package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Token roles.
const (
	RoleViewer    = "viewer"
	RoleSubmitter = "submitter"
	RoleApprover  = "approver"
	RoleAdmin     = "admin"
)

// Token is an API bearer token. Only a hash of the secret is stored: the
// caller hashes (e.g. SHA-256 hex) and looks up by hash.
type Token struct {
	ID         int64
	Name       string
	Hash       string
	Role       string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never
	RevokedAt  time.Time // zero: live
}

// CreateToken stores a token and returns its ID. Hashes are unique.
func (tx *Tx) CreateToken(t Token) (int64, error) {
	if t.Hash == "" || t.Role == "" {
		return 0, fmt.Errorf("store: token needs a hash and a role")
	}
	id, err := tx.insertID(tx.ctx, `INSERT INTO token (name, hash, role, created_at) VALUES (?, ?, ?, ?)`,
		t.Name, t.Hash, t.Role, micros(nowOr(t.CreatedAt)))
	if err != nil {
		return 0, fmt.Errorf("store: create token %q: %w", t.Name, err)
	}
	return id, nil
}

// RevokeToken marks a token revoked at t (now when zero).
func (tx *Tx) RevokeToken(id int64, t time.Time) error {
	res, err := tx.exec(tx.ctx, `UPDATE token SET revoked_at = ? WHERE id = ?`, micros(nowOr(t)), id)
	return affectedOne(res, err, fmt.Sprintf("token %d", id))
}

// TouchToken records a use of the token. It writes outside any Tx, since a
// lookup on the request path is not a state change worth an audit event.
func (s *Store) TouchToken(ctx context.Context, id int64, t time.Time) error {
	_, err := s.exec(ctx, `UPDATE token SET last_used_at = ? WHERE id = ?`, micros(nowOr(t)), id)
	return err
}

const tokenColumns = `id, name, hash, role, created_at, last_used_at, revoked_at`

func scanToken(sc interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var created int64
	var used, revoked sql.NullInt64
	err := sc.Scan(&t.ID, &t.Name, &t.Hash, &t.Role, &created, &used, &revoked)
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromMicros(created), fromNull(used), fromNull(revoked)
	return t, err
}

// LookupToken returns the token with this hash (revoked ones too: the caller
// checks RevokedAt), or ErrNotFound.
func (r *reader) LookupToken(ctx context.Context, hash string) (Token, error) {
	t, err := scanToken(r.queryRow(ctx, `SELECT `+tokenColumns+` FROM token WHERE hash = ?`, hash))
	return t, notFound(err, "token")
}

// Tokens returns every token, by ID.
func (r *reader) Tokens(ctx context.Context) ([]Token, error) {
	rows, err := r.query(ctx, `SELECT `+tokenColumns+` FROM token ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
