package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Image is one digest the service knows: a single-platform image, or an index
// (Kind "index") whose platform images name it in IndexDigest.
type Image struct {
	Digest      string
	Repository  string
	Tag         string
	Kind        string // "image" (default) or "index"
	IndexDigest string // for a platform image read through an index
	Platform    string // "linux/amd64" for a platform image of an index
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const imageColumns = `i.digest, i.repository, i.tag, i.kind, i.index_digest, i.platform, i.created_at, i.updated_at`

func scanImage(sc interface{ Scan(...any) error }, extra ...any) (Image, error) {
	var im Image
	var created, updated int64
	err := sc.Scan(append([]any{&im.Digest, &im.Repository, &im.Tag, &im.Kind, &im.IndexDigest, &im.Platform, &created, &updated}, extra...)...)
	im.CreatedAt, im.UpdatedAt = fromMicros(created), fromMicros(updated)
	return im, err
}

// UpsertImage records an image by digest. A known digest keeps its CreatedAt
// and takes the new repository, tag and platform fields.
func (tx *Tx) UpsertImage(im Image) error {
	if im.Digest == "" {
		return fmt.Errorf("store: image without digest")
	}
	if im.Kind == "" {
		im.Kind = "image"
	}
	now := nowOr(im.UpdatedAt)
	created := nowOr(im.CreatedAt)
	_, err := tx.exec(tx.ctx, `INSERT INTO image (digest, repository, tag, kind, index_digest, platform, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (digest) DO UPDATE SET repository = excluded.repository, tag = excluded.tag,
			kind = excluded.kind, index_digest = excluded.index_digest, platform = excluded.platform,
			updated_at = excluded.updated_at`,
		im.Digest, im.Repository, im.Tag, im.Kind, im.IndexDigest, im.Platform, micros(created), micros(now))
	if err != nil {
		return fmt.Errorf("store: upsert image %s: %w", im.Digest, err)
	}
	return nil
}

// Image returns the image with this digest, or ErrNotFound.
func (r *reader) Image(ctx context.Context, digest string) (Image, error) {
	im, err := scanImage(r.queryRow(ctx, `SELECT `+imageColumns+` FROM image i WHERE i.digest = ?`, digest))
	return im, notFound(err, "image "+digest)
}

// PlatformImages returns the platform images recorded under an index digest.
func (r *reader) PlatformImages(ctx context.Context, indexDigest string) ([]Image, error) {
	rows, err := r.query(ctx, `SELECT `+imageColumns+` FROM image i WHERE i.index_digest = ? ORDER BY i.platform, i.digest`, indexDigest)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Image
	for rows.Next() {
		im, err := scanImage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, im)
	}
	return out, rows.Err()
}

// ImageFilter selects and orders ListImages. Empty fields do not filter.
type ImageFilter struct {
	State      string // approval state; "none" for images without an approval
	Repository string
	Check      string // the latest evaluation has a finding of this check
	Advisory   string // the latest evaluation has a finding of this advisory (CVE-..., GHSA-...)
	Sort       string // "updated" (default, newest first), "repository", "evaluated", "grade", "score"
	Limit      int    // default 50, at most 1000
	Offset     int
}

// ImageSummary is one row of ListImages: the image, its approval state and
// its latest evaluation (zero when never evaluated).
type ImageSummary struct {
	Image
	State        string
	EvaluationID int64
	Verdict      string
	Grade        string
	Score        int
	EvaluatedAt  time.Time
}

// Sort orders: one direction per order so that an index can serve it, and
// nullable columns COALESCEd so both backends order alike.
var imageSorts = map[string]string{
	"":           "i.updated_at DESC, i.digest DESC",
	"updated":    "i.updated_at DESC, i.digest DESC",
	"repository": "i.repository, i.tag, i.digest",
	"evaluated":  "COALESCE(e.evaluated_at, 0) DESC, i.digest DESC",
	"grade":      "COALESCE(e.grade, ''), i.digest",
	"score":      "COALESCE(e.score, 0), i.digest",
}

// ListImages returns one page of images matching f and the total number of
// matches.
func (r *reader) ListImages(ctx context.Context, f ImageFilter) ([]ImageSummary, int, error) {
	order, ok := imageSorts[f.Sort]
	if !ok {
		return nil, 0, fmt.Errorf("store: unknown sort %q", f.Sort)
	}
	var where []string
	var args []any
	countFrom := " FROM image i"
	switch f.State {
	case "":
	case "none":
		countFrom += " LEFT JOIN approval a ON a.image_digest = i.digest"
		where = append(where, "a.state IS NULL")
	default:
		countFrom += " JOIN approval a ON a.image_digest = i.digest"
		where = append(where, "a.state = ?")
		args = append(args, f.State)
	}
	if f.Repository != "" {
		where = append(where, "i.repository = ?")
		args = append(args, f.Repository)
	}
	if f.Check != "" {
		where = append(where, "i.latest_evaluation_id IN (SELECT f.evaluation_id FROM evaluation_finding f WHERE f.check_id = ?)")
		args = append(args, f.Check)
	}
	if f.Advisory != "" {
		where = append(where, "i.latest_evaluation_id IN (SELECT f.evaluation_id FROM evaluation_finding f WHERE f.advisory = ?)")
		args = append(args, f.Advisory)
	}
	// The page is cut on the image table (joined only to what the filter and
	// the order need), then the page's rows are joined to their approval and
	// latest evaluation.
	pageFrom := countFrom
	if strings.Contains(order, "e.") {
		pageFrom += " LEFT JOIN evaluation e ON e.id = i.latest_evaluation_id"
	}
	if len(where) > 0 {
		cond := " WHERE " + strings.Join(where, " AND ")
		countFrom += cond
		pageFrom += cond
	}
	var total int
	if err := r.queryRow(ctx, "SELECT COUNT(*)"+countFrom, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: count images: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	rows, err := r.query(ctx, `SELECT `+imageColumns+`, COALESCE(a.state, ''), e.id, COALESCE(e.verdict, ''),
		COALESCE(e.grade, ''), COALESCE(e.score, 0), e.evaluated_at
		FROM (SELECT i.digest`+pageFrom+" ORDER BY "+order+` LIMIT ? OFFSET ?) page
		JOIN image i ON i.digest = page.digest
		LEFT JOIN approval a ON a.image_digest = i.digest
		LEFT JOIN evaluation e ON e.id = i.latest_evaluation_id
		ORDER BY `+order, append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list images: %w", err)
	}
	defer rows.Close()
	var out []ImageSummary
	for rows.Next() {
		var s ImageSummary
		var evalID, evalAt sql.NullInt64
		s.Image, err = scanImage(rows, &s.State, &evalID, &s.Verdict, &s.Grade, &s.Score, &evalAt)
		if err != nil {
			return nil, 0, err
		}
		s.EvaluationID = evalID.Int64
		s.EvaluatedAt = fromNull(evalAt)
		out = append(out, s)
	}
	return out, total, rows.Err()
}
