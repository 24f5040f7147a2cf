package signature

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/cosign/v3/pkg/cosign"
	"github.com/sigstore/cosign/v3/pkg/oci"
	"github.com/sigstore/cosign/v3/pkg/oci/static"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// verifier checks signatures against the policy's trust anchors with cosign.
type verifier struct{ trust Trust }

// anchor is one way of verifying: a key, or an identity under the trusted root.
type anchor struct {
	key  *Key
	id   *Identity
	opts *cosign.CheckOpts
}

// anchors builds cosign's options for every trust anchor. Verification is
// offline: keys need no transparency log; identities use what the bundle
// carries (log entries, timestamps, SCTs) against the trusted root.
func (v verifier) anchors() []anchor {
	var out []anchor
	for i := range v.trust.Keys {
		k := &v.trust.Keys[i]
		out = append(out, anchor{key: k, opts: &cosign.CheckOpts{SigVerifier: k.verifier, IgnoreTlog: true, IgnoreSCT: true, Offline: true}})
	}
	if v.trust.TrustedRoot == nil {
		return out
	}
	for i := range v.trust.Identities {
		id := &v.trust.Identities[i]
		out = append(out, anchor{id: id, opts: &cosign.CheckOpts{
			TrustedMaterial: v.trust.TrustedRoot,
			Identities:      []cosign.Identity{{Issuer: id.Issuer, Subject: id.Subject, IssuerRegExp: id.IssuerRegExp, SubjectRegExp: id.SubjectRegExp}},
			IgnoreTlog:      v.trust.SkipTlog,
			IgnoreSCT:       v.trust.SkipSCT,
			Offline:         true,
		}})
	}
	return out
}

func (a anchor) String() string {
	if a.key != nil {
		return a.key.String()
	}
	return a.id.String()
}

// outcome is the result of trying every anchor on one signed object.
type outcome struct {
	ok     bool
	signer string
	key    string
	errs   []string
}

// try runs check with each anchor until one verifies.
func (v verifier) try(check func(a anchor) (signer string, err error)) outcome {
	var o outcome
	for _, a := range v.anchors() {
		signer, err := check(a)
		if err != nil {
			o.errs = append(o.errs, fmt.Sprintf("%s: %s", a, clip(err.Error(), 300)))
			continue
		}
		o.ok = true
		if a.key != nil {
			o.signer, o.key = a.key.String(), a.key.Name
		} else {
			o.signer = signer
		}
		return o
	}
	return o
}

// settle turns an outcome and the signed digests into a status and detail.
func (v verifier) settle(o outcome, signed []string, h v1.Hash) (Status, string) {
	switch {
	case v.trust.Empty():
		return Unchecked, "the policy gives no key or identity to verify it with"
	case len(v.anchors()) == 0:
		return Unchecked, "keyless identities need a trusted root (signatures.trustedRoot)"
	case !o.ok:
		return Invalid, "no trust anchor of the policy verifies it: " + strings.Join(o.errs, "; ")
	case !contains(signed, h.String()):
		return WrongDigest, fmt.Sprintf("it verifies, but it signs %s, not %s", strings.Join(signed, ", "), h)
	}
	return Verified, ""
}

// simpleSigning is cosign's legacy signature payload.
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
}

// legacySignature verifies a `.sig` tag layer.
func (v verifier) legacySignature(ctx context.Context, s Signature, payload []byte, ann map[string]string, h v1.Hash) Signature {
	var p simpleSigning
	if err := json.Unmarshal(payload, &p); err != nil || p.Critical.Image.DockerManifestDigest == "" {
		s.Status, s.Detail = Malformed, "the payload is not a cosign simple signing payload"
		return s
	}
	s.SignedDigests = []string{p.Critical.Image.DockerManifestDigest}
	s.DockerReference = p.Critical.Identity.DockerReference
	b64 := ann[static.SignatureAnnotationKey]
	if _, err := base64.StdEncoding.DecodeString(b64); b64 == "" || err != nil {
		s.Status, s.Detail = Malformed, "the layer has no valid "+static.SignatureAnnotationKey+" annotation"
		return s
	}
	sig, err := static.NewSignature(payload, b64, certOptions(ann)...)
	if err != nil {
		s.Status, s.Detail = Malformed, err.Error()
		return s
	}
	s.Signer = claimedSigner(sig)
	o := v.try(func(a anchor) (string, error) {
		if _, err := cosign.VerifyImageSignature(ctx, sig, h, a.opts); err != nil {
			return "", err
		}
		return verifiedSigner(sig), nil
	})
	if o.ok {
		s.Signer, s.Key = o.signer, o.key
	}
	s.Status, s.Detail = v.settle(o, s.SignedDigests, h)
	return s
}

// dsse is a DSSE envelope.
type dsse struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		Sig string `json:"sig"`
	} `json:"signatures"`
}

// legacyAttestation verifies a DSSE envelope from a `.att` tag or an in-toto referrer.
func (v verifier) legacyAttestation(ctx context.Context, a Attestation, env []byte, ann map[string]string, h v1.Hash) Attestation {
	a.PredicateType = ann[predicateAnnot]
	if a.PredicateType == "" {
		a.PredicateType = ann["predicateType"]
	}
	var e dsse
	if err := json.Unmarshal(env, &e); err != nil {
		a.Status, a.Detail = Malformed, "not a DSSE envelope: "+clip(err.Error(), 200)
		return a
	}
	if e.PayloadType != intotoType {
		a.Status, a.Detail = Malformed, fmt.Sprintf("the DSSE payload type is %q, not in-toto", clip(e.PayloadType, 80))
		return a
	}
	raw, err := base64.StdEncoding.DecodeString(e.Payload)
	if err != nil {
		a.Status, a.Detail = Malformed, "the DSSE payload is not base64"
		return a
	}
	st, err := parseStatement(raw)
	if err != nil {
		a.Status, a.Detail = Malformed, err.Error()
		return a
	}
	a.describe(st)
	if len(e.Signatures) == 0 {
		a.Status, a.Detail = Unsigned, "the DSSE envelope carries no signature"
		return a
	}
	att, err := static.NewAttestation(env, certOptions(ann)...)
	if err != nil {
		a.Status, a.Detail = Malformed, err.Error()
		return a
	}
	a.Signer = claimedSigner(att)
	o := v.try(func(an anchor) (string, error) {
		if _, err := cosign.VerifyBlobAttestation(ctx, att, h, an.opts); err != nil {
			return "", err
		}
		return verifiedSigner(att), nil
	})
	if o.ok {
		a.Signer, a.Key = o.signer, o.key
	}
	status, detail := v.settle(o, a.Subjects, h)
	a.Status, a.Detail = status, joinDetail(a.Detail, detail)
	return a
}

// bundle verifies a Sigstore bundle. It returns a signature when the bundle
// signs the image (cosign's sign predicate, or a message signature), an
// attestation otherwise.
func (v verifier) bundle(ctx context.Context, b *sgbundle.Bundle, h v1.Hash, loc string) (*Signature, *Attestation) {
	var signed []string
	var st *statement
	switch {
	case b.GetDsseEnvelope() != nil:
		env := b.GetDsseEnvelope()
		if env.GetPayloadType() != intotoType {
			return &Signature{Format: FormatBundle, Location: loc, AttachedTo: h.String(), Status: Malformed,
				Detail: fmt.Sprintf("the bundle's DSSE payload type is %q, not in-toto", clip(env.GetPayloadType(), 80))}, nil
		}
		var err error
		if st, err = parseStatement(env.GetPayload()); err != nil {
			return nil, &Attestation{Format: FormatBundle, Location: loc, AttachedTo: h.String(), Status: Malformed, Detail: err.Error()}
		}
		signed = st.digests()
	case b.GetMessageSignature() != nil:
		md := b.GetMessageSignature().GetMessageDigest()
		signed = []string{"sha256:" + hex.EncodeToString(md.GetDigest())}
	default:
		return &Signature{Format: FormatBundle, Location: loc, AttachedTo: h.String(), Status: Malformed, Detail: "the bundle holds neither a DSSE envelope nor a message signature"}, nil
	}
	digest, _ := hex.DecodeString(h.Hex)
	o := v.try(func(a anchor) (string, error) {
		res, err := cosign.VerifyNewBundle(ctx, a.opts, verify.WithoutArtifactUnsafe(), b)
		if err != nil {
			return "", err
		}
		if contains(signed, h.String()) {
			// The library checks the subject too, so the digest is not only ours to compare.
			if _, err := cosign.VerifyNewBundle(ctx, a.opts, verify.WithArtifactDigest(h.Algorithm, digest), b); err != nil {
				return "", err
			}
		}
		return summarySigner(res), nil
	})
	status, detail := v.settle(o, signed, h)
	signer := o.signer
	if !o.ok {
		signer = bundleClaimedSigner(b)
	}
	if st == nil || st.PredicateType == CosignSignPredicate {
		return &Signature{Format: FormatBundle, Location: loc, AttachedTo: h.String(), SignedDigests: signed,
			Status: status, Signer: signer, Key: o.key, Detail: detail}, nil
	}
	a := &Attestation{Format: FormatBundle, Location: loc, AttachedTo: h.String()}
	a.describe(st)
	a.Status, a.Signer, a.Key, a.Detail = status, signer, o.key, joinDetail(a.Detail, detail)
	return nil, a
}

// claimedSigner describes what a signature's certificate claims, before verification.
func claimedSigner(sig oci.Signature) string {
	if s := verifiedSigner(sig); s != "" {
		return s + " (unverified)"
	}
	return ""
}

// verifiedSigner describes a signature's certificate identity.
func verifiedSigner(sig oci.Signature) string {
	cert, err := sig.Cert()
	if err != nil || cert == nil {
		return ""
	}
	return certSigner(cert)
}

func certSigner(cert *x509.Certificate) string {
	sum, err := certificate.SummarizeCertificate(cert)
	if err != nil {
		return "certificate " + cert.Subject.String()
	}
	return fmt.Sprintf("%s (issuer %s)", sum.SubjectAlternativeName, sum.Extensions.Issuer)
}

func summarySigner(res *verify.VerificationResult) string {
	if res == nil || res.Signature == nil || res.Signature.Certificate == nil {
		return ""
	}
	c := res.Signature.Certificate
	return fmt.Sprintf("%s (issuer %s)", c.SubjectAlternativeName, c.Extensions.Issuer)
}

// bundleClaimedSigner describes a bundle's certificate, before verification.
func bundleClaimedSigner(b *sgbundle.Bundle) string {
	vc, err := b.VerificationContent()
	if err != nil {
		return ""
	}
	if cert := vc.Certificate(); cert != nil {
		return certSigner(cert) + " (unverified)"
	}
	if pk := vc.PublicKey(); pk != nil {
		return "a public key with hint " + clip(pk.Hint(), 80) + " (unverified)"
	}
	return ""
}
