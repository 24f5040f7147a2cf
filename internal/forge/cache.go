package forge

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// maxCacheFile bounds a cache file read back.
const maxCacheFile = 1 << 20

// DefaultCacheDir is $XDG_CACHE_HOME/shipshape/forge.
func DefaultCacheDir() (string, error) {
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w (set XDG_CACHE_HOME or --forge-cache-dir)", err)
	}
	return filepath.Join(c, "shipshape", "forge"), nil
}

// cache stores answers per repository, and the time a rate limit lifts per host.
type cache struct{ dir string }

func (c cache) repoFile(r Repo) string {
	return filepath.Join(c.dir, strings.ToLower(r.Host), filepath.FromSlash(strings.ToLower(r.Path))+".json")
}

func (c cache) limitFile(host string) string {
	return filepath.Join(c.dir, strings.ToLower(host), "ratelimit.json")
}

// get returns the cached answer for r, nil when there is none or it cannot be read.
func (c cache) get(r Repo) *Health {
	if c.dir == "" {
		return nil
	}
	var h Health
	if !readJSON(c.repoFile(r), &h) || h.FetchedAt.IsZero() {
		return nil
	}
	h.FromCache = true
	return &h
}

func (c cache) put(h *Health) error {
	if c.dir == "" {
		return nil
	}
	return writeJSON(c.repoFile(h.Repo), h)
}

type limitRecord struct {
	Reset time.Time `json:"reset"`
	Msg   string    `json:"message,omitempty"`
}

// limited returns the recorded rate limit of host if it has not lifted at now.
func (c cache) limited(host string, now time.Time) *RateLimitError {
	if c.dir == "" {
		return nil
	}
	var l limitRecord
	if !readJSON(c.limitFile(host), &l) || !now.Before(l.Reset) {
		return nil
	}
	return &RateLimitError{Host: host, Reset: l.Reset, Msg: l.Msg}
}

func (c cache) recordLimit(e *RateLimitError) error {
	if c.dir == "" || e.Reset.IsZero() {
		return nil
	}
	return writeJSON(c.limitFile(e.Host), limitRecord{Reset: e.Reset, Msg: e.Msg})
}

func readJSON(name string, v any) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCacheFile+1))
	if err != nil || len(data) > maxCacheFile {
		return false
	}
	return json.Unmarshal(data, v) == nil
}

// writeJSON writes v to name atomically (a temporary file renamed over it).
func writeJSON(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return fmt.Errorf("forge cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-*")
	if err != nil {
		return fmt.Errorf("forge cache: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("forge cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("forge cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("forge cache: %w", err)
	}
	return nil
}
