package vulndb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// DefaultURL is OSV's public bucket of per-ecosystem exports
// (<DefaultURL>/<Ecosystem>/all.zip).
const DefaultURL = "https://osv-vulnerabilities.storage.googleapis.com"

// maxDownload bounds one downloaded export.
const maxDownload = 8 << 30

// UpdateOptions tune an update.
type UpdateOptions struct {
	// BaseURL serves <Ecosystem>/all.zip (default DefaultURL).
	BaseURL string
	// Ecosystems to fetch; default: the installed sources, or
	// DefaultEcosystems when none is installed.
	Ecosystems []string
	Client     *http.Client
	Progress   Progress
	Now        time.Time
}

// UpdateResult reports one ecosystem of an update.
type UpdateResult struct {
	Ecosystem string
	URL       string
	// NotModified says the server answered 304: the installed data is current.
	NotModified bool
	Bytes       int64
	Import      *ImportResult
}

// Update downloads each ecosystem's export with a conditional request
// (ETag, Last-Modified) and installs it. Each ecosystem is swapped in only
// when complete; one that fails keeps its installed data, and the errors of
// all failed ecosystems are returned together after the others are done.
func Update(ctx context.Context, dir string, o UpdateOptions) ([]UpdateResult, error) {
	base := strings.TrimSuffix(o.BaseURL, "/")
	if base == "" {
		base = DefaultURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bad advisory mirror URL %q: want http(s)://host/path serving <Ecosystem>/all.zip", o.BaseURL)
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 30 * time.Minute}
	}
	ecos := o.Ecosystems
	if len(ecos) == 0 {
		if db, err := Open(dir); err == nil {
			for _, s := range db.Sources() {
				ecos = append(ecos, s.Name)
			}
			db.Close()
		}
	}
	if len(ecos) == 0 {
		ecos = DefaultEcosystems
	}
	var out []UpdateResult
	var errs []error
	for _, eco := range ecos {
		r, err := updateOne(ctx, dir, base, eco, o)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", eco, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

func updateOne(ctx context.Context, dir, base, eco string, o UpdateOptions) (UpdateResult, error) {
	final, err := sourceFile(dir, eco)
	if err != nil {
		return UpdateResult{}, err
	}
	u := base + "/" + url.PathEscape(eco) + "/all.zip"
	res := UpdateResult{Ecosystem: eco, URL: u}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return res, err
	}
	var installed *SourceInfo
	if _, err := os.Stat(final); err == nil {
		if s, err := openSource(final); err == nil {
			info := s.info
			installed = &info
			s.db.Close()
			if info.ETag != "" {
				req.Header.Set("If-None-Match", info.ETag)
			}
			if info.LastModified != "" {
				req.Header.Set("If-Modified-Since", info.LastModified)
			}
		}
	}
	resp, err := o.Client.Do(req)
	if err != nil {
		return res, fmt.Errorf("downloading %s: %w", u, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && installed != nil:
		res.NotModified = true
		st := state{CheckedAt: now.UTC(), ETag: installed.ETag, LastModified: installed.LastModified}
		return res, writeState(statePath(final), st)
	case resp.StatusCode == http.StatusNotFound:
		return res, fmt.Errorf("%s: 404 not found (is %q an OSV ecosystem?)", u, eco)
	case resp.StatusCode != http.StatusOK:
		return res, fmt.Errorf("downloading %s: %s", u, resp.Status)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	tmp, err := os.CreateTemp(dir, ".download-*.zip")
	if err != nil {
		return res, err
	}
	defer os.Remove(tmp.Name())
	var body io.Reader = io.LimitReader(resp.Body, maxDownload+1)
	if o.Progress != nil {
		body = &countingReader{r: body, label: "downloading " + eco, total: resp.ContentLength, p: o.Progress}
	}
	n, err := io.Copy(tmp, body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	res.Bytes = n
	switch {
	case err != nil:
		return res, fmt.Errorf("downloading %s: %w after %d bytes (the installed data is unchanged)", u, err, n)
	case n > maxDownload:
		return res, fmt.Errorf("%s is over the %d-byte limit", u, int64(maxDownload))
	case resp.ContentLength >= 0 && n != resp.ContentLength:
		return res, fmt.Errorf("downloading %s: got %d of %d bytes (the installed data is unchanged)", u, n, resp.ContentLength)
	}
	ir, err := importOne(ctx, dir, tmp.Name(), ImportOptions{
		Source: eco, Origin: u, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"),
		Progress: o.Progress, Now: now,
	})
	if err != nil {
		return res, err
	}
	res.Import = &ir
	return res, nil
}

// countingReader reports download progress.
type countingReader struct {
	r     io.Reader
	label string
	n     int64
	total int64
	p     Progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	c.p(c.label, c.n, c.total)
	return n, err
}
