package secrets

import (
	"bytes"
	"fmt"
	"os"

	"github.com/BurntSushi/toml"
)

// File is a rule file in gitleaks' TOML format, with shipshape's additions
// (kind, scope, multiline, [extend].disabledRules, [shipshape]). See docs/secrets.md.
type File struct {
	Title string `toml:"title"`
	// MinVersion is gitleaks' minimum version; accepted and ignored.
	MinVersion string `toml:"minVersion"`
	Extend     struct {
		// UseDefault keeps the built-in rules (the default for shipshape;
		// set it to false to use only this file's rules).
		UseDefault *bool `toml:"useDefault"`
		// DisabledRules drops built-in rules by ID.
		DisabledRules []string `toml:"disabledRules"`
		// Path, in gitleaks, names another config to extend; not supported.
		Path string `toml:"path"`
	} `toml:"extend"`
	// Allowlist is gitleaks' older single global allowlist.
	Allowlist *AllowlistSpec `toml:"allowlist"`
	// Allowlists are global allowlists (gitleaks 8.25 and later); TargetRules
	// limits one to some rules.
	Allowlists []AllowlistSpec `toml:"allowlists"`
	Rules      []RuleSpec      `toml:"rules"`
	Shipshape  struct {
		// MaxFileSize is the number of bytes of one file that are scanned.
		MaxFileSize int64 `toml:"maxFileSize"`
	} `toml:"shipshape"`
}

// RuleSpec is one [[rules]] table.
type RuleSpec struct {
	ID          string   `toml:"id"`
	Description string   `toml:"description"`
	Regex       string   `toml:"regex"`
	SecretGroup int      `toml:"secretGroup"`
	Entropy     float64  `toml:"entropy"`
	Keywords    []string `toml:"keywords"`
	// Path is a regular expression on the file's absolute path: the rule
	// applies only to matching files (alone, without regex, it reports the
	// file itself).
	Path       string          `toml:"path"`
	Allowlists []AllowlistSpec `toml:"allowlists"`
	// Allowlist is the older single per-rule allowlist.
	Allowlist *AllowlistSpec `toml:"allowlist"`
	Tags      []string       `toml:"tags"`

	// Kind is "secret" (the default, CMP-004) or "backdoor" (CMP-007).
	Kind string `toml:"kind"`
	// Scope is "any" (the default) or "scripts": shell scripts, files with a
	// #! line, crontabs and shell start-up files.
	Scope string `toml:"scope"`
	// Multiline lets a match span lines (up to 32 KiB from the keyword's line).
	Multiline bool `toml:"multiline"`
	// CaseSensitiveKeywords makes the keywords match only as written
	// (keywords are case-insensitive in gitleaks).
	CaseSensitiveKeywords bool `toml:"caseSensitiveKeywords"`
}

// AllowlistSpec is one allowlist table.
type AllowlistSpec struct {
	Description string `toml:"description"`
	// Condition is "OR" (the default: any criterion allows) or "AND".
	Condition string `toml:"condition"`
	// RegexTarget is what Regexes match: "secret" (default), "match" or "line".
	RegexTarget string   `toml:"regexTarget"`
	Regexes     []string `toml:"regexes"`
	Paths       []string `toml:"paths"`
	Stopwords   []string `toml:"stopwords"`
	// Commits is accepted for compatibility with gitleaks and ignored.
	Commits []string `toml:"commits"`
	// TargetRules limits a global allowlist to these rule IDs.
	TargetRules []string `toml:"targetRules"`
}

// ParseFile reads a rule file. Unknown keys are an error, so that a typo
// does not silently disable a rule.
func ParseFile(data []byte, name string) (*File, error) {
	var f File
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&f)
	if err != nil {
		return nil, fmt.Errorf("secret rules %s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("secret rules %s: unknown key %q", name, und[0].String())
	}
	if f.Extend.Path != "" {
		return nil, fmt.Errorf("secret rules %s: [extend] path is not supported; list the rules in this file", name)
	}
	return &f, nil
}

// LoadFile reads a rule file from disk; it is at most 16 MiB.
func LoadFile(path string) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("secret rules: %w", err)
	}
	if st.Size() > 16<<20 {
		return nil, fmt.Errorf("secret rules %s: %d bytes, over the 16 MiB limit", path, st.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret rules: %w", err)
	}
	return ParseFile(data, path)
}
