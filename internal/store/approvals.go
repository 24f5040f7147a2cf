package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Approval states. The store records them; which transitions are legal is
// decided by the caller (internal/fleet).
const (
	StatePending  = "pending"
	StateApproved = "approved"
	StateRejected = "rejected"
	StateExpiring = "expiring"
	StateRetired  = "retired"
	StateRevoked  = "revoked"
)

// Approval is the current approval of one image digest.
type Approval struct {
	ImageDigest    string
	State          string
	Actor          string // who decided
	Reason         string // why
	DecidedAt      time.Time
	ValidUntil     time.Time // zero: no expiry
	Signer         string    // identity that signed the approved image
	VerifiedDigest string    // the exact digest whose signature was verified
	EvaluationID   int64     // the evaluation the decision was made on (0: none)
}

// SetApproval records the approval of a digest, replacing the previous one.
// The image must exist.
func (tx *Tx) SetApproval(a Approval) error {
	if a.State == "" {
		return fmt.Errorf("store: approval of %s without state", a.ImageDigest)
	}
	var eval any
	if a.EvaluationID != 0 {
		eval = a.EvaluationID
	}
	_, err := tx.exec(tx.ctx, `INSERT INTO approval (image_digest, state, actor, reason, decided_at, valid_until, signer, verified_digest, evaluation_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (image_digest) DO UPDATE SET state = excluded.state, actor = excluded.actor, reason = excluded.reason,
			decided_at = excluded.decided_at, valid_until = excluded.valid_until, signer = excluded.signer,
			verified_digest = excluded.verified_digest, evaluation_id = excluded.evaluation_id`,
		a.ImageDigest, a.State, a.Actor, a.Reason, micros(nowOr(a.DecidedAt)), ts(a.ValidUntil), a.Signer, a.VerifiedDigest, eval)
	if err != nil {
		return fmt.Errorf("store: set approval of %s: %w", a.ImageDigest, err)
	}
	return nil
}

const approvalColumns = `image_digest, state, actor, reason, decided_at, valid_until, signer, verified_digest, evaluation_id`

func scanApproval(sc interface{ Scan(...any) error }) (Approval, error) {
	var a Approval
	var decided int64
	var until, eval sql.NullInt64
	err := sc.Scan(&a.ImageDigest, &a.State, &a.Actor, &a.Reason, &decided, &until, &a.Signer, &a.VerifiedDigest, &eval)
	a.DecidedAt, a.ValidUntil, a.EvaluationID = fromMicros(decided), fromNull(until), eval.Int64
	return a, err
}

// Approval returns the approval of a digest, or ErrNotFound. It is the hot
// lookup behind "is this digest allowed": one primary-key read.
func (r *reader) Approval(ctx context.Context, digest string) (Approval, error) {
	a, err := scanApproval(r.queryRow(ctx, `SELECT `+approvalColumns+` FROM approval WHERE image_digest = ?`, digest))
	return a, notFound(err, "approval of "+digest)
}

func (r *reader) approvals(ctx context.Context, query string, args ...any) ([]Approval, error) {
	rows, err := r.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Approval
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Approvals returns every approval in one of the given states (all when none
// given), by digest. The admission controller loads its in-memory view with it.
func (r *reader) Approvals(ctx context.Context, states ...string) ([]Approval, error) {
	q := `SELECT ` + approvalColumns + ` FROM approval`
	args := make([]any, len(states))
	for i, s := range states {
		args[i] = s
	}
	if len(states) > 0 {
		q += ` WHERE state IN (` + placeholders(len(states)) + `)`
	}
	return r.approvals(ctx, q+` ORDER BY image_digest`, args...)
}

// ExpiringApprovals returns approvals in one of states whose ValidUntil is set
// and not after t, soonest first.
func (r *reader) ExpiringApprovals(ctx context.Context, t time.Time, states ...string) ([]Approval, error) {
	args := []any{micros(t)}
	q := `SELECT ` + approvalColumns + ` FROM approval WHERE valid_until IS NOT NULL AND valid_until <= ?`
	if len(states) > 0 {
		q += ` AND state IN (` + placeholders(len(states)) + `)`
		for _, s := range states {
			args = append(args, s)
		}
	}
	return r.approvals(ctx, q+` ORDER BY valid_until, image_digest`, args...)
}

// StaleApprovals returns approvals in one of states (default: pending,
// approved, expiring) whose image was last evaluated before olderThan, or never:
// the candidates of the daily re-judging sweep. Oldest evaluation first.
func (r *reader) StaleApprovals(ctx context.Context, olderThan time.Time, states ...string) ([]Approval, error) {
	if len(states) == 0 {
		states = []string{StatePending, StateApproved, StateExpiring}
	}
	args := []any{}
	for _, s := range states {
		args = append(args, s)
	}
	args = append(args, micros(olderThan))
	q := `SELECT a.image_digest, a.state, a.actor, a.reason, a.decided_at, a.valid_until, a.signer, a.verified_digest, a.evaluation_id
		FROM approval a JOIN image i ON i.digest = a.image_digest
		LEFT JOIN evaluation e ON e.id = i.latest_evaluation_id
		WHERE a.state IN (` + placeholders(len(states)) + `) AND COALESCE(e.evaluated_at, 0) < ?
		ORDER BY COALESCE(e.evaluated_at, 0), a.image_digest`
	return r.approvals(ctx, q, args...)
}

// ViewRow is one image with its approval (State empty when it has none) and
// its latest evaluation's verdict: what the in-memory allow views hold.
type ViewRow struct {
	Image
	Approval
	Verdict string
}

// ViewRows returns every image with its approval and latest verdict, in one
// query, for the allow decision's in-memory view.
func (r *reader) ViewRows(ctx context.Context) ([]ViewRow, error) {
	rows, err := r.query(ctx, `SELECT `+imageColumns+`, COALESCE(a.state, ''), COALESCE(a.actor, ''), COALESCE(a.reason, ''),
		COALESCE(a.decided_at, 0), a.valid_until, COALESCE(a.signer, ''), COALESCE(a.verified_digest, ''), COALESCE(a.evaluation_id, 0),
		COALESCE(e.verdict, '')
		FROM image i LEFT JOIN approval a ON a.image_digest = i.digest
		LEFT JOIN evaluation e ON e.id = i.latest_evaluation_id
		ORDER BY i.updated_at, i.digest`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ViewRow
	for rows.Next() {
		var v ViewRow
		var decided int64
		var valid sql.NullInt64
		im, err := scanImage(rows, &v.State, &v.Actor, &v.Reason, &decided, &valid, &v.Signer, &v.VerifiedDigest, &v.EvaluationID, &v.Verdict)
		if err != nil {
			return nil, err
		}
		v.Image = im
		v.ImageDigest = im.Digest
		if decided != 0 {
			v.DecidedAt = fromMicros(decided)
		}
		v.ValidUntil = fromNull(valid)
		out = append(out, v)
	}
	return out, rows.Err()
}
