// Package supplychain gathers what the supply-chain checks judge, before
// they run: where the image came from and what it was built from, the
// signatures and attestations attached to it (internal/signature), and how
// its upstream source repository is maintained (internal/forge). Checks
// only read the Evidence; all lookups happen in Gather.
package supplychain

import (
	"github.com/shipshape-dev/shipshape/internal/forge"
	"github.com/shipshape-dev/shipshape/internal/signature"
)

// Evidence is what Gather found for one image.
type Evidence struct {
	Origin Origin `json:"origin"`
	// Attached are the signatures and attestations found; nil when they
	// were not looked up, and NotLooked says why.
	Attached  *signature.Report `json:"attached,omitempty"`
	NotLooked string            `json:"not_looked,omitempty"`
	// ContentTrust notes a Docker Content Trust (Notary v1) setup, which
	// shipshape does not verify.
	ContentTrust string   `json:"content_trust,omitempty"`
	Upstream     Upstream `json:"upstream"`
}

// Origin is where the image came from, and what it was built on.
type Origin struct {
	// Kind is the source kind (registry, oci, docker-archive, docker-daemon).
	Kind      string `json:"kind"`
	Reference string `json:"reference,omitempty"`
	// Repository is the reference's repository, normalised
	// ("docker.io/library/nginx"); empty when the image has no name.
	Repository   string `json:"repository,omitempty"`
	Digest       string `json:"digest,omitempty"`
	IndexDigest  string `json:"index_digest,omitempty"`
	PinnedDigest string `json:"pinned_digest,omitempty"`
	// Base is the base image, BaseFrom where that was read (a label or the provenance).
	Base     string `json:"base,omitempty"`
	BaseFrom string `json:"base_from,omitempty"`
	// BuildImages are the images the provenance says the build pulled.
	BuildImages []string `json:"build_images,omitempty"`
	// Provenance is the SLSA provenance found (verified first), if any.
	Provenance *signature.Provenance `json:"provenance,omitempty"`
	// ProvenanceStatus is the verification status of that provenance.
	ProvenanceStatus signature.Status `json:"provenance_status,omitempty"`
}

// Upstream is the image's source repository and how it is maintained.
type Upstream struct {
	// Source is the repository URL as found, From where it was found.
	Source string `json:"source,omitempty"`
	From   string `json:"from,omitempty"`
	// Repo is Source parsed; nil when it could not be (ParseError says why).
	Repo       *forge.Repo `json:"repo,omitempty"`
	ParseError string      `json:"parse_error,omitempty"`
	// Maintainer is who the image says maintains it (authors, vendor,
	// maintainer labels, the config's author).
	Maintainer     string `json:"maintainer,omitempty"`
	MaintainerFrom string `json:"maintainer_from,omitempty"`
	// Health is the forge's answer; nil when it was not asked or failed.
	Health *forge.Health `json:"health,omitempty"`
	// NotChecked says why the forge was not asked (offline, unsupported
	// forge, unreachable); ByChoice when that is how the run was configured
	// or placed (--offline, --network=none, no forge client, an air-gapped
	// network that cannot reach the forge) rather than a limit of shipshape
	// or an answer of the forge.
	NotChecked string `json:"not_checked,omitempty"`
	ByChoice   bool   `json:"by_choice,omitempty"`
	// Error says why the forge could not answer; RateLimited when that was a rate limit.
	Error       string `json:"error,omitempty"`
	RateLimited bool   `json:"rate_limited,omitempty"`
}
