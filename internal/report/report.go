// Package report is the versioned report model and its renderings (table, JSON).
package report

import (
	"encoding/json"
	"io"
	"time"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// Schema identifies the JSON report format; it changes only with incompatible changes.
const Schema = "https://shipshape.dev/schemas/report/v1"

// Tool names the program that wrote the report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Image describes the image that was judged.
type Image struct {
	Input       string          `json:"input"`
	Source      string          `json:"source"`
	Reference   string          `json:"reference,omitempty"`
	Digest      string          `json:"digest,omitempty"`
	IndexDigest string          `json:"index_digest,omitempty"`
	Platform    string          `json:"platform"`
	Platforms   []string        `json:"platforms,omitempty"`
	Created     *time.Time      `json:"created,omitempty"`
	OS          *inventory.OS   `json:"os,omitempty"`
	Layers      []imagefs.Layer `json:"layers"`
	Files       int             `json:"files"`
}

// Summary counts what the inventory holds.
type Summary struct {
	Packages   int                 `json:"packages"`
	PackageDBs []string            `json:"package_dbs,omitempty"`
	Binaries   int                 `json:"executables"`
	Runtimes   []inventory.Runtime `json:"runtimes,omitempty"`
	Users      []inventory.User    `json:"users,omitempty"`
}

// Report is the whole result of judging one image.
type Report struct {
	Schema   string          `json:"schema"`
	Tool     Tool            `json:"tool"`
	Time     time.Time       `json:"time"`
	Image    Image           `json:"image"`
	Verdict  policy.Verdict  `json:"verdict"`
	Results  []checks.Result `json:"results"`
	Summary  Summary         `json:"inventory"`
	Warnings []string        `json:"warnings,omitempty"`
	// Duration is how long the judgement took, in seconds.
	Duration float64 `json:"duration_seconds"`
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
