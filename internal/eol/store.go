package eol

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// maxProductFile bounds one downloaded or imported product file.
const maxProductFile = 8 << 20

// DefaultDir is where `shipshape db` keeps end-of-life data: $XDG_CACHE_HOME/shipshape/eol.
func DefaultDir() (string, error) {
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w (set XDG_CACHE_HOME)", err)
	}
	return filepath.Join(c, "shipshape", "eol"), nil
}

// Load returns the data in dir when it holds any, else the embedded copy.
func Load(dir string) (*DB, error) {
	if dir != "" {
		if m, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(m) > 0 {
			return LoadDir(dir)
		}
	}
	return Embedded()
}

// Import validates the product files of src (a directory of <product>.json in
// the endoflife.date layout) and installs them as dst, replacing what was there
// in one rename so that a failed import leaves the old data intact.
func Import(src, dst string) (int, error) {
	files, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil {
		return 0, err
	}
	data := map[string][]byte{}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return 0, err
		}
		if fi.Size() > maxProductFile {
			return 0, fmt.Errorf("%s is %d bytes, over the %d-byte limit", f, fi.Size(), maxProductFile)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return 0, err
		}
		data[filepath.Base(f)] = b
	}
	return install(data, dst)
}

// Update downloads index.json and every product file it lists from base (a
// mirror of the endoflife.date product files) and installs them as dst.
func Update(ctx context.Context, client *http.Client, base, dst string) (int, error) {
	if _, err := url.Parse(base); err != nil || base == "" {
		return 0, fmt.Errorf("bad end-of-life data URL %q", base)
	}
	base = strings.TrimSuffix(base, "/")
	idx, err := fetch(ctx, client, base+"/index.json")
	if err != nil {
		return 0, err
	}
	var index struct {
		Products []struct {
			Product string `json:"product"`
		} `json:"products"`
	}
	if err := json.Unmarshal(idx, &index); err != nil {
		return 0, fmt.Errorf("%s/index.json: %w", base, err)
	}
	data := map[string][]byte{}
	for _, p := range index.Products {
		if p.Product == "" || strings.ContainsAny(p.Product, "/\\.") {
			return 0, fmt.Errorf("%s/index.json names a bad product %q", base, p.Product)
		}
		b, err := fetch(ctx, client, base+"/"+p.Product+".json")
		if err != nil {
			return 0, err
		}
		data[p.Product+".json"] = b
	}
	return install(data, dst)
}

func fetch(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("downloading %s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxProductFile+1))
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %w", u, err)
	}
	if len(b) > maxProductFile {
		return nil, fmt.Errorf("%s is over the %d-byte limit", u, maxProductFile)
	}
	return b, nil
}

// install checks every file parses, writes them to a fresh directory beside
// dst and swaps it in.
func install(files map[string][]byte, dst string) (int, error) {
	n := 0
	for name, b := range files {
		if name == "index.json" {
			continue
		}
		var p Product
		if err := json.Unmarshal(b, &p); err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		if len(p.Releases) == 0 {
			return 0, fmt.Errorf("%s: no releases", name)
		}
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("no product files")
	}
	parent := filepath.Dir(dst)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.MkdirTemp(parent, ".eol-new-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return 0, err
		}
	}
	stamp := []byte(time.Now().UTC().Format(time.RFC3339) + "\n")
	if err := os.WriteFile(filepath.Join(tmp, ".updated"), stamp, 0o644); err != nil {
		return 0, err
	}
	old := dst + ".old"
	os.RemoveAll(old)
	if _, err := os.Stat(dst); err == nil {
		if err := os.Rename(dst, old); err != nil {
			return 0, err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Rename(old, dst)
		return 0, err
	}
	os.RemoveAll(old)
	return n, nil
}

// Products counts the products held.
func (db *DB) Products() int { return len(db.products) }
