package checks

import (
	"fmt"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/signature"
)

// sec031 is the check SEC-031.
func sec031() Check {
	return define(Meta{
		ID:        "SEC-031",
		Dimension: Security,
		Title:     "Signed, and the signature verifies",
		Severity:  High,
		Veto:      true,
		Description: "Looks for cosign signatures of the image in its registry (or OCI layout): the `sha256-<digest>.sig` tag and Sigstore bundles " +
			"attached through the OCI 1.1 referrers API, under the image's manifest digest and its index's. Each is verified offline with cosign's " +
			"library against the policy's public keys (`signatures.keys`) or keyless identities under a trusted root (`signatures.identities`, " +
			"`signatures.trustedRoot`), and must sign this image's digest: a signature that verifies but signs another digest is critical. " +
			"Reports the signer, the key and the signed digest. With `requireSignature: true` a missing, unverified or wrong-digest signature is a veto; " +
			"otherwise an unsigned image is low. docker-archive and docker-daemon inputs carry no signatures: the check says so (a veto when signatures are required).",
		Remediation: "Sign the image by digest after pushing it: `cosign sign --key cosign.key registry.example.com/team/app@sha256:...` " +
			"(or keyless in CI), and list the public key in the policy (`signatures.keys`).",
	}, func(s *Subject) ([]Finding, error) {
		ev, err := s.supply()
		if err != nil {
			return nil, err
		}
		req := s.settings().RequireSignature
		var out []Finding
		if ev.ContentTrust != "" {
			out = append(out, Finding{Severity: Info, Title: ev.ContentTrust, Evidence: []Evidence{field("environment", "DOCKER_CONTENT_TRUST")}})
		}
		if ev.Attached == nil {
			if !req {
				return nil, Skip("%s", ev.NotLooked)
			}
			return append(out, Finding{Severity: High, Veto: true, Title: "signature required but not checked: " + ev.NotLooked,
				Evidence:    []Evidence{field("source", ev.Origin.Kind)},
				Remediation: "Judge the image from its registry (host/repo@sha256:...) so its signatures can be verified."}), nil
		}
		r := ev.Attached
		verified := r.Verified()
		for _, v := range verified {
			out = append(out, Finding{Severity: Info, Title: fmt.Sprintf("signed by %s over %s (%s)", v.Signer, signedText(v, r), v.Format),
				Evidence: []Evidence{attachedEvidence(v.Format, v.Location, v.AttachedTo)}})
		}
		bad := func(sev Severity, title string, sig signature.Signature) {
			if len(verified) > 0 && sev < Critical {
				sev = Info // another signature verifies: this one is only noted
			}
			out = append(out, Finding{Severity: sev, Veto: req && sev > Info, Title: title,
				Evidence: []Evidence{attachedEvidence(sig.Format, sig.Location, sig.AttachedTo)}})
		}
		unchecked := 0
		for _, sig := range r.Signatures {
			switch sig.Status {
			case signature.WrongDigest:
				out = append(out, Finding{Severity: Critical, Veto: req,
					Title:       fmt.Sprintf("signature by %s signs %s, not this image (%s): it was copied from another image", sig.Signer, strings.Join(sig.SignedDigests, ", "), shortDigest(sig.AttachedTo)),
					Evidence:    []Evidence{attachedEvidence(sig.Format, sig.Location, sig.AttachedTo)},
					Remediation: "Do not deploy: find out who attached a signature of another image to this one; sign this image's digest."})
			case signature.Invalid:
				sev := Medium
				if req {
					sev = High
				}
				title := fmt.Sprintf("signature does not verify against the policy's trust anchors: %s", supplyClip(sig.Detail, 300))
				if sig.Signer != "" {
					title = fmt.Sprintf("signature by %s does not verify against the policy's trust anchors", sig.Signer)
				}
				bad(sev, title, sig)
			case signature.Malformed:
				sev := Medium
				if req {
					sev = High
				}
				bad(sev, "unreadable signature: "+supplyClip(sig.Detail, 300), sig)
			case signature.Unchecked:
				unchecked++
			}
		}
		if unchecked > 0 {
			sev := Info
			if req {
				sev = High
			}
			out = append(out, Finding{Severity: sev, Veto: req, Title: fmt.Sprintf("%d signature(s) found but not verified: the policy gives no key or identity", unchecked),
				Evidence: []Evidence{field("policy", "signatures.keys")}, Remediation: "List the signer's public key in the policy (`signatures.keys`)."})
		}
		for _, p := range r.Problems {
			sev := Medium
			if req {
				sev = High
			}
			if len(verified) > 0 {
				sev = Info
			}
			out = append(out, Finding{Severity: sev, Veto: req && sev > Info, Title: "signature lookup failed: " + supplyClip(p, 300), Evidence: []Evidence{field("registry", ev.Origin.Repository)}})
		}
		if len(r.Signatures) == 0 && len(r.Problems) == 0 {
			sev := Low
			if req {
				sev = High
			}
			out = append(out, Finding{Severity: sev, Veto: req, Title: "not signed: no cosign signature under " + subjectsText(r),
				Evidence: []Evidence{field("digest", firstSubject(r))}})
		}
		return out, nil
	})
}

// signedText names the signed digest, and says when it is the index's.
func signedText(sig signature.Signature, r *signature.Report) string {
	d := strings.Join(sig.SignedDigests, ", ")
	if len(r.Subjects) > 1 && sig.AttachedTo == r.Subjects[1] {
		return d + " (the index)"
	}
	return d
}
