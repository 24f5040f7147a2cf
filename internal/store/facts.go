package store

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Facts is the engine's serialised reading of one image, opaque to the
// store, with the package keys it contains ("deb/openssl",
// "Go/golang.org/x/net") so that images can be found by package.
type Facts struct {
	ImageDigest string
	Version     string // the facts format version
	Data        []byte
	Packages    []string
	StoredAt    time.Time
}

// PutFacts stores (or replaces) the facts of an image and its package keys.
func (tx *Tx) PutFacts(f Facts) error {
	if f.ImageDigest == "" {
		return fmt.Errorf("store: facts without digest")
	}
	data := f.Data
	if data == nil {
		data = []byte{}
	}
	if _, err := tx.exec(tx.ctx, `INSERT INTO facts (image_digest, facts_version, data, stored_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (image_digest) DO UPDATE SET facts_version = excluded.facts_version, data = excluded.data, stored_at = excluded.stored_at`,
		f.ImageDigest, f.Version, data, micros(nowOr(f.StoredAt))); err != nil {
		return fmt.Errorf("store: put facts of %s: %w", f.ImageDigest, err)
	}
	if _, err := tx.exec(tx.ctx, `DELETE FROM facts_package WHERE image_digest = ?`, f.ImageDigest); err != nil {
		return err
	}
	keys := dedupe(f.Packages)
	for len(keys) > 0 {
		n := min(len(keys), 200)
		q := `INSERT INTO facts_package (package_key, image_digest) VALUES `
		args := make([]any, 0, 2*n)
		for i, k := range keys[:n] {
			if i > 0 {
				q += ", "
			}
			q += "(?, ?)"
			args = append(args, k, f.ImageDigest)
		}
		if _, err := tx.exec(tx.ctx, q, args...); err != nil {
			return fmt.Errorf("store: put package keys of %s: %w", f.ImageDigest, err)
		}
		keys = keys[n:]
	}
	return nil
}

func dedupe(keys []string) []string {
	out := append([]string(nil), keys...)
	sort.Strings(out)
	j := 0
	for i, k := range out {
		if k == "" || (i > 0 && k == out[i-1]) {
			continue
		}
		out[j] = k
		j++
	}
	return out[:j]
}

// Facts returns the stored facts of an image (with its package keys), or
// ErrNotFound.
func (r *reader) Facts(ctx context.Context, digest string) (Facts, error) {
	f := Facts{ImageDigest: digest}
	var at int64
	err := r.queryRow(ctx, `SELECT facts_version, data, stored_at FROM facts WHERE image_digest = ?`, digest).Scan(&f.Version, &f.Data, &at)
	if err != nil {
		return f, notFound(err, "facts of "+digest)
	}
	f.StoredAt = fromMicros(at)
	rows, err := r.query(ctx, `SELECT package_key FROM facts_package WHERE image_digest = ? ORDER BY package_key`, digest)
	if err != nil {
		return f, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return f, err
		}
		f.Packages = append(f.Packages, k)
	}
	return f, rows.Err()
}

// ImagesByPackages returns the digests whose facts contain any of the package
// keys, sorted: one indexed query per 500 keys.
func (r *reader) ImagesByPackages(ctx context.Context, keys []string) ([]string, error) {
	keys = dedupe(keys)
	seen := map[string]bool{}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		args := make([]any, n)
		for i, k := range keys[:n] {
			args[i] = k
		}
		rows, err := r.query(ctx, `SELECT DISTINCT image_digest FROM facts_package WHERE package_key IN (`+placeholders(n)+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				rows.Close()
				return nil, err
			}
			seen[d] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		keys = keys[n:]
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out, nil
}
