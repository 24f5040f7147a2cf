package signature

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// In-toto statement types and the predicate types shipshape understands.
const (
	statementV01 = "https://in-toto.io/Statement/v0.1"
	statementV1  = "https://in-toto.io/Statement/v1"
	// CosignSignPredicate is the predicate type of a cosign image signature in a bundle.
	CosignSignPredicate = "https://sigstore.dev/cosign/sign/v1"
	slsaV02             = "https://slsa.dev/provenance/v0.2"
	slsaV1              = "https://slsa.dev/provenance/v1"
)

// Kind classifies an attestation by its predicate type.
type Kind string

// Attestation kinds.
const (
	KindProvenance    Kind = "provenance"
	KindSBOM          Kind = "sbom"
	KindVulnerability Kind = "vulnerability-scan"
	KindOther         Kind = "other"
)

// Attestation is one in-toto attestation found for the image.
type Attestation struct {
	Format     Format `json:"format"`
	Location   string `json:"location"`
	AttachedTo string `json:"attached_to"`
	// PredicateType is the statement's predicate type URI.
	PredicateType string `json:"predicate_type,omitempty"`
	Kind          Kind   `json:"kind,omitempty"`
	// Subjects are the digests the statement is about.
	Subjects []string `json:"subjects,omitempty"`
	Status   Status   `json:"status"`
	Signer   string   `json:"signer,omitempty"`
	Key      string   `json:"key,omitempty"`
	Detail   string   `json:"detail,omitempty"`
	// Provenance is set for SLSA provenance predicates.
	Provenance *Provenance `json:"provenance,omitempty"`
	// SBOM is set for SPDX and CycloneDX predicates.
	SBOM *SBOM `json:"sbom,omitempty"`
}

// SBOM summarises an SBOM predicate.
type SBOM struct {
	Format   string `json:"format"`
	Packages int    `json:"packages"`
}

// statement is an in-toto statement (v0.1 or v1).
type statement struct {
	Type          string          `json:"_type"`
	Subject       []subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

type subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// parseStatement reads an in-toto statement and checks its shape.
func parseStatement(data []byte) (*statement, error) {
	var st statement
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("not an in-toto statement: %w", err)
	}
	if st.Type != statementV01 && st.Type != statementV1 {
		return nil, fmt.Errorf("not an in-toto statement: _type %q", clip(st.Type, 80))
	}
	if st.PredicateType == "" {
		return nil, errors.New("in-toto statement without a predicateType")
	}
	if len(st.Subject) == 0 {
		return nil, errors.New("in-toto statement without a subject")
	}
	return &st, nil
}

// digests returns the statement's subject digests as "algorithm:hex".
func (st *statement) digests() []string {
	var out []string
	for _, s := range st.Subject {
		for alg, hex := range s.Digest {
			out = append(out, strings.ToLower(alg)+":"+strings.ToLower(hex))
		}
	}
	sort.Strings(out)
	return out
}

// kindOf classifies a predicate type.
func kindOf(predicateType string) Kind {
	p := strings.ToLower(predicateType)
	switch {
	case strings.HasPrefix(p, "https://slsa.dev/provenance/"):
		return KindProvenance
	case strings.HasPrefix(p, "https://spdx.dev/document"), strings.HasPrefix(p, "https://cyclonedx.org/bom"):
		return KindSBOM
	case strings.HasPrefix(p, "https://cosign.sigstore.dev/attestation/vuln/"):
		return KindVulnerability
	}
	return KindOther
}

// describe fills the attestation's predicate-derived fields from st.
func (a *Attestation) describe(st *statement) {
	a.PredicateType = st.PredicateType
	a.Kind = kindOf(st.PredicateType)
	a.Subjects = st.digests()
	switch a.Kind {
	case KindProvenance:
		p, err := parseProvenance(st.PredicateType, st.Predicate)
		if err != nil {
			a.Detail = joinDetail(a.Detail, "provenance predicate unreadable: "+err.Error())
			return
		}
		a.Provenance = p
	case KindSBOM:
		a.SBOM = parseSBOM(st.PredicateType, st.Predicate)
	}
}

// parseSBOM counts the packages of an SPDX or CycloneDX predicate.
func parseSBOM(predicateType string, raw json.RawMessage) *SBOM {
	var doc struct {
		Packages   []json.RawMessage `json:"packages"`
		Components []json.RawMessage `json:"components"`
	}
	_ = json.Unmarshal(raw, &doc)
	if strings.HasPrefix(strings.ToLower(predicateType), "https://cyclonedx.org/") {
		return &SBOM{Format: "CycloneDX", Packages: len(doc.Components)}
	}
	return &SBOM{Format: "SPDX", Packages: len(doc.Packages)}
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// clip shortens s for messages.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
