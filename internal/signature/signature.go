// Package signature finds and verifies what is attached to an image in its
// registry (or OCI layout): cosign signatures (the legacy `sha256-<hex>.sig`
// tag and Sigstore bundles served by the OCI 1.1 referrers API) and in-toto
// attestations (cosign `.att` tags, bundles, Docker buildx attestation
// manifests in the index). Verification is offline: the trust anchors are
// public keys and keyless identities checked against a trusted root, both
// given by the policy; cryptography is github.com/sigstore/cosign's pkg/cosign.
package signature

// Format names how a signature or an attestation is stored.
type Format string

// The storage formats shipshape reads.
const (
	// FormatSigTag is cosign's legacy `sha256-<hex>.sig` tag (simple signing payload).
	FormatSigTag Format = "cosign .sig tag"
	// FormatAttTag is cosign's legacy `sha256-<hex>.att` tag (DSSE envelopes).
	FormatAttTag Format = "cosign .att tag"
	// FormatBundle is a Sigstore bundle attached as an OCI 1.1 referrer.
	FormatBundle Format = "sigstore bundle (OCI referrer)"
	// FormatReferrer is a DSSE envelope or an SBOM document attached as an OCI referrer.
	FormatReferrer Format = "OCI referrer"
	// FormatBuildx is a Docker buildx attestation manifest in the image index (unsigned).
	FormatBuildx Format = "buildx attestation manifest"
)

// Status is the outcome of verifying one signature or attestation.
type Status string

// Verification outcomes.
const (
	// Verified: a trust anchor of the policy verifies it, over the image's digest.
	Verified Status = "verified"
	// WrongDigest: a trust anchor verifies it, but it names another digest.
	WrongDigest Status = "wrong-digest"
	// Invalid: no trust anchor of the policy verifies it.
	Invalid Status = "invalid"
	// Unchecked: the policy gives no trust anchor, so it was not verified.
	Unchecked Status = "unchecked"
	// Unsigned: the attestation carries no signature (buildx attestations).
	Unsigned Status = "unsigned"
	// Malformed: it could not be read (bad payload, missing blob, not in-toto).
	Malformed Status = "malformed"
)

// Signature is one signature found for the image.
type Signature struct {
	Format Format `json:"format"`
	// Location is where it was found: the tag or the referrer manifest's digest.
	Location string `json:"location"`
	// AttachedTo is the digest it was found under (the image's or its index's).
	AttachedTo string `json:"attached_to"`
	// SignedDigests are the digests the signed payload names.
	SignedDigests []string `json:"signed_digests,omitempty"`
	// DockerReference is the repository the legacy payload names, if any.
	DockerReference string `json:"docker_reference,omitempty"`
	Status          Status `json:"status"`
	// Signer says who signed: the policy key (with its fingerprint) or the
	// certificate's identity and issuer. For unverified signatures it is what
	// the certificate claims, marked as unverified.
	Signer string `json:"signer,omitempty"`
	// Key is the policy key that verified it, empty otherwise.
	Key string `json:"key,omitempty"`
	// Detail explains a status other than Verified.
	Detail string `json:"detail,omitempty"`
}

// Report is what was found and verified for one image.
type Report struct {
	// Subjects are the digests looked up: the image's manifest, then its index.
	Subjects []string `json:"subjects"`
	// Anchors describes the policy's trust anchors ("key cosign.pub (sha256:...)").
	Anchors      []string      `json:"anchors,omitempty"`
	Signatures   []Signature   `json:"signatures,omitempty"`
	Attestations []Attestation `json:"attestations,omitempty"`
	// Problems are lookups that failed (a registry error, a missing blob):
	// what was not checked, never a pass.
	Problems []string `json:"problems,omitempty"`
}

// Verified returns the signatures a trust anchor verified over the image's digest.
func (r *Report) Verified() []Signature {
	var out []Signature
	for _, s := range r.Signatures {
		if s.Status == Verified {
			out = append(out, s)
		}
	}
	return out
}
