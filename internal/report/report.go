// Package report is the versioned report model and its renderings (table, JSON).
package report

import (
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
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
	Input     string `json:"input"`
	Source    string `json:"source"`
	Reference string `json:"reference,omitempty"`
	// Digest is the manifest digest (what a reference pins), when the
	// source carries one: not for a docker-archive written before Docker 25.
	Digest string `json:"digest,omitempty"`
	// ImageID is the config digest (docker images' IMAGE ID), always known.
	ImageID     string          `json:"image_id,omitempty"`
	IndexDigest string          `json:"index_digest,omitempty"`
	Platform    string          `json:"platform"`
	Platforms   []string        `json:"platforms,omitempty"`
	Created     *time.Time      `json:"created,omitempty"`
	OS          *inventory.OS   `json:"os,omitempty"`
	Layers      []imagefs.Layer `json:"layers"`
	Files       int             `json:"files"`
	Config      Config          `json:"config"`
}

// Config is the part of the image config that says how it runs.
type Config struct {
	User         string            `json:"user"`
	Entrypoint   []string          `json:"entrypoint,omitempty"`
	Cmd          []string          `json:"cmd,omitempty"`
	WorkingDir   string            `json:"working_dir,omitempty"`
	EnvKeys      []string          `json:"env_keys,omitempty"`
	ExposedPorts []string          `json:"exposed_ports,omitempty"`
	Volumes      []string          `json:"volumes,omitempty"`
	Healthcheck  []string          `json:"healthcheck,omitempty"`
	StopSignal   string            `json:"stop_signal,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
}

// PolicyInfo records which policy judged the image, so a verdict can be reproduced.
type PolicyInfo struct {
	Source string `json:"source"`
	Digest string `json:"digest"`
}

// DataInfo records the reference data the judgement used and its age, so a
// verdict can be reproduced.
type DataInfo struct {
	// EOL is where the end-of-life data came from.
	EOL string `json:"eol"`
	// VulnDB is the advisory database, nil when vulnerabilities were not evaluated.
	VulnDB *VulnDBInfo `json:"vulndb,omitempty"`
	// Vulnerabilities says why they were not evaluated, when they were not.
	Vulnerabilities string `json:"vulnerabilities,omitempty"`
}

// VulnDBInfo is the advisory database and the age of each of its sources.
type VulnDBInfo struct {
	Dir       string           `json:"dir"`
	Refreshed time.Time        `json:"refreshed"`
	Sources   []VulnSourceInfo `json:"sources"`
}

// VulnSourceInfo is one ecosystem export of the advisory database.
type VulnSourceInfo struct {
	Name      string    `json:"name"`
	Records   int       `json:"records"`
	Refreshed time.Time `json:"refreshed"`
	Newest    time.Time `json:"newest_record,omitempty"`
}

// Summary counts what the inventory holds.
type Summary struct {
	Packages   int                 `json:"packages"`
	PackageDBs []string            `json:"package_dbs,omitempty"`
	Binaries   int                 `json:"executables"`
	Runtimes   []inventory.Runtime `json:"runtimes,omitempty"`
	Users      []inventory.User    `json:"users,omitempty"`
	// PackageList is every package of the inventory (the SBOM's content).
	PackageList []inventory.Package `json:"package_list,omitempty"`
}

// Report is the whole result of judging one image.
type Report struct {
	Schema  string           `json:"schema"`
	Tool    Tool             `json:"tool"`
	Time    time.Time        `json:"time"`
	Image   Image            `json:"image"`
	Verdict finding.Verdict  `json:"verdict"`
	Policy  PolicyInfo       `json:"policy"`
	Data    DataInfo         `json:"data"`
	Results []finding.Result `json:"results"`
	// Exceptions lists every finding an exception waived, and the exceptions that expired.
	Exceptions finding.Waivers `json:"exceptions"`
	Summary    Summary         `json:"inventory"`
	// Vulnerabilities are SEC-020's matches in structured form (empty when
	// vulnerabilities were not evaluated).
	Vulnerabilities []Vulnerability `json:"vulnerabilities,omitempty"`
	Warnings        []string        `json:"warnings,omitempty"`
	// Duration is how long the judgement took, in seconds.
	Duration float64 `json:"duration_seconds"`
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Model returns the report as the generic JSON model (maps, slices, numbers,
// strings) that custom policy rules are evaluated on.
func Model(r *Report) (map[string]any, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	err = json.Unmarshal(data, &m)
	return m, err
}

// Repository returns the image's reference without its tag or digest, the
// identity under which findings are tracked across versions.
func (i Image) Repository() string {
	ref := i.Reference
	if at := strings.Index(ref, "@"); at >= 0 {
		ref = ref[:at]
	}
	if c := strings.LastIndex(ref, ":"); c > strings.LastIndex(ref, "/") {
		ref = ref[:c]
	}
	return ref
}
