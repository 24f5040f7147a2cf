package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Evaluation is one judgement of an image: what it was judged with, and the
// report.
type Evaluation struct {
	ID           int64
	ImageDigest  string
	FactsVersion string
	DBVersions   map[string]string // advisory and EOL database versions
	PolicyDigest string
	Verdict      string
	Grade        string
	Score        int
	Report       json.RawMessage // the JSON report, as written
	EvaluatedAt  time.Time
	Findings     []FindingKey // filled by AddEvaluation's caller; read with Findings
}

// FindingKey identifies one finding of an evaluation: its stable fingerprint,
// and the check and advisory it is about (for filtering).
type FindingKey struct {
	Fingerprint string
	Check       string
	Advisory    string
	Severity    string
}

// AddEvaluation records an evaluation and its finding keys, and makes it the
// image's latest. The image must exist. It returns the evaluation's ID.
func (tx *Tx) AddEvaluation(e Evaluation) (int64, error) {
	dbv, err := json.Marshal(e.DBVersions)
	if err != nil {
		return 0, err
	}
	if e.DBVersions == nil {
		dbv = []byte("{}")
	}
	report := string(e.Report)
	if report == "" {
		report = "{}"
	}
	at := nowOr(e.EvaluatedAt)
	id, err := tx.insertID(tx.ctx, `INSERT INTO evaluation (image_digest, facts_version, db_versions, policy_digest, verdict, grade, score, report, evaluated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ImageDigest, e.FactsVersion, string(dbv), e.PolicyDigest, e.Verdict, e.Grade, e.Score, report, micros(at))
	if err != nil {
		return 0, fmt.Errorf("store: add evaluation of %s: %w", e.ImageDigest, err)
	}
	for _, f := range e.Findings {
		if _, err := tx.exec(tx.ctx, `INSERT INTO evaluation_finding (evaluation_id, fingerprint, check_id, advisory, severity)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (evaluation_id, fingerprint) DO NOTHING`,
			id, f.Fingerprint, f.Check, f.Advisory, f.Severity); err != nil {
			return 0, fmt.Errorf("store: add finding %s: %w", f.Fingerprint, err)
		}
	}
	res, err := tx.exec(tx.ctx, `UPDATE image SET latest_evaluation_id = ? WHERE digest = ?`, id, e.ImageDigest)
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return 0, fmt.Errorf("store: add evaluation: image %s: %w", e.ImageDigest, ErrNotFound)
	}
	return id, nil
}

const evaluationColumns = `id, image_digest, facts_version, db_versions, policy_digest, verdict, grade, score, report, evaluated_at`

func scanEvaluation(sc interface{ Scan(...any) error }) (Evaluation, error) {
	var e Evaluation
	var dbv, report string
	var at int64
	if err := sc.Scan(&e.ID, &e.ImageDigest, &e.FactsVersion, &dbv, &e.PolicyDigest, &e.Verdict, &e.Grade, &e.Score, &report, &at); err != nil {
		return e, err
	}
	e.Report = json.RawMessage(report)
	e.EvaluatedAt = fromMicros(at)
	if err := json.Unmarshal([]byte(dbv), &e.DBVersions); err != nil {
		return e, fmt.Errorf("store: evaluation %d: db_versions: %w", e.ID, err)
	}
	return e, nil
}

// Evaluation returns one evaluation by ID (without its finding keys).
func (r *reader) Evaluation(ctx context.Context, id int64) (Evaluation, error) {
	e, err := scanEvaluation(r.queryRow(ctx, `SELECT `+evaluationColumns+` FROM evaluation WHERE id = ?`, id))
	return e, notFound(err, fmt.Sprintf("evaluation %d", id))
}

// LatestEvaluation returns the newest evaluation of an image, or ErrNotFound.
func (r *reader) LatestEvaluation(ctx context.Context, digest string) (Evaluation, error) {
	e, err := scanEvaluation(r.queryRow(ctx, `SELECT `+evaluationColumns+` FROM evaluation
		WHERE image_digest = ? ORDER BY evaluated_at DESC, id DESC LIMIT 1`, digest))
	return e, notFound(err, "evaluation of "+digest)
}

// Evaluations returns an image's evaluations, newest first (at most limit;
// 0 means all).
func (r *reader) Evaluations(ctx context.Context, digest string, limit int) ([]Evaluation, error) {
	q := `SELECT ` + evaluationColumns + ` FROM evaluation WHERE image_digest = ? ORDER BY evaluated_at DESC, id DESC`
	args := []any{digest}
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Evaluation
	for rows.Next() {
		e, err := scanEvaluation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Findings returns the finding keys of one evaluation, by fingerprint.
func (r *reader) Findings(ctx context.Context, evaluationID int64) ([]FindingKey, error) {
	rows, err := r.query(ctx, `SELECT fingerprint, check_id, advisory, severity FROM evaluation_finding
		WHERE evaluation_id = ? ORDER BY fingerprint`, evaluationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FindingKey
	for rows.Next() {
		var f FindingKey
		if err := rows.Scan(&f.Fingerprint, &f.Check, &f.Advisory, &f.Severity); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Counts summarises the store for /metrics.
type Counts struct {
	// Evaluations counts every evaluation by verdict.
	Evaluations map[string]int
	// Findings counts the findings of each image's latest evaluation by severity.
	Findings map[string]int
}

// Counts counts evaluations by verdict and the latest evaluations' findings
// by severity, in two grouped queries.
func (r *reader) Counts(ctx context.Context) (Counts, error) {
	c := Counts{Evaluations: map[string]int{}, Findings: map[string]int{}}
	group := func(q string, into map[string]int) error {
		rows, err := r.query(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				return err
			}
			into[k] = n
		}
		return rows.Err()
	}
	if err := group(`SELECT verdict, COUNT(*) FROM evaluation GROUP BY verdict`, c.Evaluations); err != nil {
		return c, err
	}
	err := group(`SELECT f.severity, COUNT(*) FROM image i JOIN evaluation_finding f ON f.evaluation_id = i.latest_evaluation_id GROUP BY f.severity`, c.Findings)
	return c, err
}
