package checks

import (
	"fmt"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/signature"
)

// sec032 is the check SEC-032.
func sec032() Check {
	return define(Meta{
		ID:        "SEC-032",
		Dimension: Security,
		Title:     "Provenance and SBOM attestations present",
		Severity:  Medium,
		Description: "Finds in-toto attestations of the image: cosign `.att` tags, Sigstore bundles and DSSE envelopes attached as OCI referrers, " +
			"and the attestation manifests Docker buildx puts in the index. SLSA provenance (v0.2, v1) gives the builder, source repository, commit " +
			"and the images the build pulled; SPDX and CycloneDX predicates are SBOMs. Signed attestations are verified like signatures (SEC-031): " +
			"one that does not verify or is unreadable is high, one over another digest critical. A missing provenance or SBOM is medium; " +
			"buildx attestations are unsigned, which is low when the policy has trust anchors.",
		Remediation: "Build with `docker buildx build --provenance=mode=max --sbom=true --push ...`, or attest the pushed digest: " +
			"`cosign attest --key cosign.key --type slsaprovenance --predicate provenance.json IMAGE@sha256:...` (and `--type spdxjson` for the SBOM).",
	}, func(s *Subject) ([]Finding, error) {
		ev, err := s.supply()
		if err != nil {
			return nil, err
		}
		if ev.Attached == nil {
			return nil, Skip("%s", ev.NotLooked)
		}
		r := ev.Attached
		anchors := len(r.Anchors) > 0
		var out []Finding
		have := map[signature.Kind]bool{}
		for _, a := range r.Attestations {
			e := []Evidence{attachedEvidence(a.Format, a.Location, a.AttachedTo)}
			what := describeKind(a)
			switch a.Status {
			case signature.WrongDigest:
				out = append(out, Finding{Severity: Critical, Title: fmt.Sprintf("%s attestation by %s is about %s, not this image", what, a.Signer, strings.Join(a.Subjects, ", ")), Evidence: e,
					Remediation: "Do not trust it: it was attached from another image. Attest this image's digest."})
			case signature.Malformed:
				out = append(out, Finding{Severity: High, Title: fmt.Sprintf("unreadable %s attestation: %s", what, supplyClip(a.Detail, 300)), Evidence: e,
					Remediation: "Re-create the attestation with `cosign attest` or buildx; a valid one is a DSSE envelope around an in-toto statement about this digest."})
			case signature.Invalid:
				out = append(out, Finding{Severity: High, Title: fmt.Sprintf("%s attestation does not verify against the policy's trust anchors: %s", what, supplyClip(a.Detail, 300)), Evidence: e})
			default:
				have[a.Kind] = true
				out = append(out, Finding{Severity: Info, Title: attestationText(a), Evidence: e})
				if a.Status == signature.Unsigned && anchors && a.Kind == signature.KindProvenance {
					out = append(out, Finding{Severity: Low, Title: fmt.Sprintf("the provenance is unsigned (%s): anyone who can push to the repository could have written it", a.Format), Evidence: e,
						Remediation: "Sign the provenance: `cosign attest --type slsaprovenance` or GitHub's attest-build-provenance."})
				}
			}
		}
		at := []Evidence{field("digest", firstSubject(r))}
		if !have[signature.KindProvenance] {
			out = append(out, Finding{Severity: Medium, Title: "no SLSA provenance attestation under " + subjectsText(r), Evidence: at,
				Remediation: "Build with `docker buildx build --provenance=mode=max --push`, or `cosign attest --type slsaprovenance` the pushed digest."})
		}
		if !have[signature.KindSBOM] {
			out = append(out, Finding{Severity: Medium, Title: "no SBOM attestation under " + subjectsText(r), Evidence: at,
				Remediation: "Build with `docker buildx build --sbom=true --push`, or `shipshape sbom IMAGE --format spdx-json` and `cosign attest --type spdxjson` it."})
		}
		for _, p := range r.Problems {
			out = append(out, Finding{Severity: Medium, Title: "attestation lookup failed: " + supplyClip(p, 300), Evidence: at})
		}
		return out, nil
	})
}

func describeKind(a signature.Attestation) string {
	switch a.Kind {
	case signature.KindProvenance:
		return "SLSA provenance"
	case signature.KindSBOM:
		return "SBOM"
	case signature.KindVulnerability:
		return "vulnerability scan"
	case "":
		return "in-toto"
	}
	return a.PredicateType
}

// attestationText describes a readable attestation.
func attestationText(a signature.Attestation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s attestation (%s, %s", describeKind(a), a.Format, a.Status)
	if a.Signer != "" {
		fmt.Fprintf(&b, " by %s", a.Signer)
	}
	b.WriteString(")")
	if p := a.Provenance; p != nil {
		fmt.Fprintf(&b, ": SLSA %s, builder %s", p.SLSA, orNone(p.BuilderID))
		if p.SourceRepo != "" {
			fmt.Fprintf(&b, ", source %s", p.SourceRepo)
			if p.Commit != "" {
				fmt.Fprintf(&b, " at %s", p.Commit)
			}
		}
		if len(p.BaseImages) > 0 {
			fmt.Fprintf(&b, ", pulled %s", strings.Join(p.BaseImages, ", "))
		}
	}
	if sb := a.SBOM; sb != nil {
		if sb.Packages >= 0 {
			fmt.Fprintf(&b, ": %s with %d packages", sb.Format, sb.Packages)
		} else {
			fmt.Fprintf(&b, ": %s document", sb.Format)
		}
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none given)"
	}
	return s
}
