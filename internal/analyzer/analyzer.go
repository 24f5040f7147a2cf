// Package analyzer holds the analyzers that read files during the single
// layer pass and fill the inventory. Each analyzer lives in its own file;
// Builtin lists them all explicitly (no registration by init), and the walk
// feeds each one only the files it declares.
package analyzer

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/secrets"
)

// Analyzer reads files during the walk, then adds what it learned to the inventory.
type Analyzer interface {
	imagefs.Analyzer
	// Finish runs once after the walk, with the final filesystem.
	Finish(fsys *imagefs.FS, inv *inventory.Inventory) error
}

// Options tune one run of the analyzers.
type Options struct {
	Limits imagefs.Limits
	// Secrets is the secret scanner (rules, allowlists, size cap); nil means the built-in one.
	Secrets *secrets.Scanner
	// Skip names analyzers not to run (e.g. "secrets" for an SBOM).
	Skip []string
}

// Run walks the layers once with every built-in analyzer and returns the
// walk's result and the inventory.
func Run(ctx context.Context, layers []imagefs.Blob, o Options) (*imagefs.Result, *inventory.Inventory, error) {
	var as []Analyzer
	var ias []imagefs.Analyzer
	var names []string
	for _, n := range Builtin(o) {
		if slices.Contains(o.Skip, n.Name) {
			continue
		}
		as = append(as, n.Analyzer)
		ias = append(ias, n.Analyzer)
		names = append(names, n.Name)
	}
	res, err := imagefs.Walk(ctx, layers, ias, o.Limits)
	if err != nil {
		return nil, nil, err
	}
	inv := &inventory.Inventory{Binaries: map[string]*inventory.Binary{}}
	for i, a := range as {
		if err := a.Finish(res.FS, inv); err != nil {
			res.Warnings = append(res.Warnings, imagefs.Warning{Layer: -1, Msg: fmt.Sprintf("analyzer %s: %v", names[i], err)})
		}
	}
	DedupeOwned(inv)
	attachLicenses(as, res.FS, inv)
	return res, inv, nil
}

// maxCapture bounds the size of one captured text file (package databases
// of full distributions are a few MiB).
const maxCapture = 64 << 20

// captured is one version of a small file kept in memory.
type captured struct {
	layer int
	data  []byte
}

// capture keeps the last version of each wanted file, for analyzers that
// only care about the final filesystem.
type capture struct {
	files map[string]captured
	warn  []string
}

func (c *capture) keep(f *imagefs.File, r io.Reader) error {
	if f.Size > maxCapture {
		return fmt.Errorf("file is %d bytes, over the %d-byte limit for this kind of file; skipped", f.Size, maxCapture)
	}
	data, err := io.ReadAll(io.LimitReader(r, maxCapture))
	if err != nil {
		return err
	}
	if c.files == nil {
		c.files = map[string]captured{}
	}
	c.files[f.Path] = captured{layer: f.Layer, data: data}
	return nil
}

// get returns the content of p in the final filesystem (after symlinks), if it was captured.
func (c *capture) get(fsys *imagefs.FS, p string) ([]byte, string, int, bool) {
	n, rp, err := fsys.Stat(p)
	if err != nil || n.Type != imagefs.TypeRegular {
		return nil, "", 0, false
	}
	got, ok := c.files[rp]
	if !ok || got.layer != n.Layer {
		return nil, "", 0, false
	}
	return got.data, rp, n.Layer, true
}

// current returns the captured paths still present in the final filesystem, sorted.
func (c *capture) current(fsys *imagefs.FS) []string {
	var out []string
	for p, got := range c.files {
		if fsys.IsCurrent(p, got.layer) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
