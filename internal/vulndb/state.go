package vulndb

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// state is the small mutable sidecar of a source file: what `db update`
// learned on its last check. The source file itself is never modified.
type state struct {
	CheckedAt    time.Time `json:"checked_at"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
}

func statePath(dbPath string) string { return strings.TrimSuffix(dbPath, ".db") + ".state.json" }

func readState(p string) (state, error) {
	var st state
	b, err := os.ReadFile(p)
	if err != nil {
		return st, err
	}
	if len(b) > 1<<16 {
		return st, fmt.Errorf("%s is too large", p)
	}
	err = json.Unmarshal(b, &st)
	return st, err
}

// writeState replaces the sidecar in one rename.
func writeState(p string, st state) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".state-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

var sourceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$`)

// sourceFile is the file of a source in dir; the name must be an OSV
// ecosystem-like word ("Debian", "crates.io", "Red Hat").
func sourceFile(dir, name string) (string, error) {
	if !sourceName.MatchString(name) || strings.Contains(name, "..") {
		return "", fmt.Errorf("bad source name %q (want an OSV ecosystem name such as Debian or crates.io)", name)
	}
	return filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".db"), nil
}
