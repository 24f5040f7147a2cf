package secrets

import (
	"embed"
	"fmt"
	"sync"
)

// The built-in rules: shipshape's own (data/shipshape.toml), then a curated
// copy of gitleaks' default rules (data/gitleaks.toml, MIT, data/LICENSE.gitleaks).
//
//go:embed data/shipshape.toml data/gitleaks.toml data/generic.toml data/LICENSE.gitleaks
var builtin embed.FS

// BuiltinFiles are the embedded rule files, in priority order.
var BuiltinFiles = []string{"data/shipshape.toml", "data/gitleaks.toml", "data/generic.toml"}

// Builtin parses the embedded rule files.
func Builtin() ([]*File, error) {
	var out []*File
	for _, name := range BuiltinFiles {
		data, err := builtin.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("built-in secret rules: %w", err)
		}
		f, err := ParseFile(data, name)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

var (
	defaultOnce    sync.Once
	defaultScanner *Scanner
	defaultErr     error
)

// Default returns the scanner with the built-in rules, compiled once.
func Default() (*Scanner, error) {
	defaultOnce.Do(func() {
		files, err := Builtin()
		if err != nil {
			defaultErr = err
			return
		}
		defaultScanner, defaultErr = New(files...)
	})
	return defaultScanner, defaultErr
}

// WithConfig returns a scanner with the built-in rules extended by the rule
// file at path (see docs/secrets.md): its rules are added (a rule with a
// built-in ID replaces it), its allowlists apply too, [extend] disabledRules
// drops built-in rules and [extend] useDefault = false drops them all.
func WithConfig(path string) (*Scanner, error) {
	user, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	files, err := Builtin()
	if err != nil {
		return nil, err
	}
	s, err := New(append(files, user)...)
	if err != nil {
		return nil, fmt.Errorf("secret rules %s: %w", path, err)
	}
	return s, nil
}
