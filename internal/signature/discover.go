package signature

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/cosign/v3/pkg/cosign/bundle"
	"github.com/sigstore/cosign/v3/pkg/oci/static"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
)

// Bounds on what is read for one image.
const (
	maxLayers      = 32       // signature or attestation layers per manifest
	maxReferrers   = 64       // referrers per digest
	maxSigPayload  = 1 << 20  // a simple signing payload
	maxAttestation = 32 << 20 // a DSSE envelope, bundle or statement (SBOMs are large)
)

// Media and artifact types of attachments.
const (
	bundleTypePrefix   = "application/vnd.dev.sigstore.bundle"
	intotoType         = "application/vnd.in-toto+json"
	dsseType           = "application/vnd.dsse.envelope.v1+json"
	refTypeAnnotation  = "vnd.docker.reference.type"
	refDigestAnnotaion = "vnd.docker.reference.digest"
	predicateAnnot     = "in-toto.io/predicate-type"
)

// sbomTypes are SBOM documents attached as plain referrers (oras attach, cosign attach sbom).
var sbomTypes = map[string]string{
	"application/spdx+json":          "SPDX",
	"text/spdx+json":                 "SPDX",
	"application/vnd.cyclonedx+json": "CycloneDX",
	"application/vnd.cyclonedx":      "CycloneDX",
}

// Find looks up everything attached to the image in st and verifies it
// against trust. imageDigest is the manifest that was judged; indexDigest
// the index it was picked from, if any (signing a multi-platform tag signs
// the index). It never fails: what could not be read is in Report.Problems.
func Find(ctx context.Context, st Store, imageDigest, indexDigest string, trust Trust) *Report {
	f := &finder{ctx: ctx, st: st, v: verifier{trust: trust}, r: &Report{Anchors: trust.Describe()}}
	img, err := v1.NewHash(imageDigest)
	if err != nil {
		f.r.Problems = append(f.r.Problems, fmt.Sprintf("image digest %q: %v", imageDigest, err))
		return f.r
	}
	subjects := []v1.Hash{img}
	if indexDigest != "" && indexDigest != imageDigest {
		if idx, err := v1.NewHash(indexDigest); err == nil {
			subjects = append(subjects, idx)
		}
	}
	for _, h := range subjects {
		f.r.Subjects = append(f.r.Subjects, h.String())
		f.sigTag(h)
		f.attTag(h)
		f.referrers(h)
	}
	if len(subjects) > 1 {
		f.buildx(subjects[1], img)
	}
	return f.r
}

type finder struct {
	ctx context.Context
	st  Store
	v   verifier
	r   *Report
}

func (f *finder) problem(format string, args ...any) {
	f.r.Problems = append(f.r.Problems, fmt.Sprintf(format, args...))
}

// tagFor is cosign's tag convention: sha256:abc -> sha256-abc.sig.
func tagFor(h v1.Hash, suffix string) string { return h.Algorithm + "-" + h.Hex + suffix }

// readManifest fetches and parses a manifest; found is false when it does not exist.
func (f *finder) readManifest(ref, what string) (m *v1.Manifest, found bool) {
	raw, err := f.st.manifest(f.ctx, ref)
	if errors.Is(err, errNotFound) {
		return nil, false
	}
	if err != nil {
		f.problem("%s %s in %s could not be read: %v", what, ref, f.st, err)
		return nil, true
	}
	m = &v1.Manifest{}
	if err := json.Unmarshal(raw, m); err != nil {
		f.problem("%s %s is not an image manifest: %v", what, ref, err)
		return nil, true
	}
	return m, true
}

func (f *finder) sigTag(h v1.Hash) {
	tag := tagFor(h, ".sig")
	m, _ := f.readManifest(tag, "signature manifest")
	if m == nil {
		return
	}
	for i, l := range m.Layers {
		if i >= maxLayers {
			f.problem("%s has %d signatures; only the first %d were checked", tag, len(m.Layers), maxLayers)
			break
		}
		loc := fmt.Sprintf("%s (layer %d)", tag, i)
		s := Signature{Format: FormatSigTag, Location: loc, AttachedTo: h.String()}
		payload, err := f.st.blob(f.ctx, l.Digest, maxSigPayload)
		if err != nil {
			s.Status, s.Detail = Malformed, fmt.Sprintf("signature payload blob %s: %v", l.Digest, missing(err))
			f.r.Signatures = append(f.r.Signatures, s)
			continue
		}
		f.r.Signatures = append(f.r.Signatures, f.v.legacySignature(f.ctx, s, payload, l.Annotations, h))
	}
}

func (f *finder) attTag(h v1.Hash) {
	tag := tagFor(h, ".att")
	m, _ := f.readManifest(tag, "attestation manifest")
	if m == nil {
		return
	}
	f.dsseLayers(m, tag, FormatAttTag, h)
}

// dsseLayers reads the DSSE envelopes of a manifest (a .att tag or an in-toto referrer).
func (f *finder) dsseLayers(m *v1.Manifest, where string, format Format, h v1.Hash) {
	for i, l := range m.Layers {
		if i >= maxLayers {
			f.problem("%s has %d attestations; only the first %d were checked", where, len(m.Layers), maxLayers)
			break
		}
		a := Attestation{Format: format, Location: fmt.Sprintf("%s (layer %d)", where, i), AttachedTo: h.String()}
		env, err := f.st.blob(f.ctx, l.Digest, maxAttestation)
		if err != nil {
			a.Status, a.Detail = Malformed, fmt.Sprintf("attestation blob %s: %v", l.Digest, missing(err))
			f.r.Attestations = append(f.r.Attestations, a)
			continue
		}
		f.r.Attestations = append(f.r.Attestations, f.v.legacyAttestation(f.ctx, a, env, l.Annotations, h))
	}
}

func (f *finder) referrers(h v1.Hash) {
	descs, err := f.st.referrers(f.ctx, h)
	if err != nil {
		if !errors.Is(err, errNotFound) {
			f.problem("the referrers of %s in %s could not be listed: %v", h, f.st, err)
		}
		return
	}
	for i, d := range descs {
		if i >= maxReferrers {
			f.problem("%s has %d referrers; only the first %d were read", h, len(descs), maxReferrers)
			break
		}
		loc := "referrer " + d.Digest.String()
		m, _ := f.readManifest(d.Digest.String(), "referrer")
		if m == nil {
			continue
		}
		// Registries fill a referrer's artifactType from the manifest's, or
		// from its config media type: look at the manifest and its layers too.
		types := []string{m.ArtifactType, d.ArtifactType}
		for _, l := range m.Layers {
			types = append(types, string(l.MediaType))
		}
		switch {
		case anyHasPrefix(types, bundleTypePrefix):
			f.bundleReferrer(m, loc, h)
		case anyHasPrefix(types, intotoType) || anyHasPrefix(types, dsseType):
			f.dsseLayers(m, loc, FormatReferrer, h)
		default:
			for _, t := range types {
				if format := sbomTypes[t]; format != "" {
					f.r.Attestations = append(f.r.Attestations, Attestation{Format: FormatReferrer, Location: loc,
						AttachedTo: h.String(), Kind: KindSBOM, Status: Unsigned, SBOM: &SBOM{Format: format, Packages: -1},
						Subjects: []string{h.String()}, Detail: "an SBOM document attached without a signature"})
					break
				}
			}
		}
	}
}

func anyHasPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// bundleReferrer reads a Sigstore bundle referrer: an image signature when its
// predicate is cosign's, an attestation otherwise.
func (f *finder) bundleReferrer(m *v1.Manifest, loc string, h v1.Hash) {
	fail := func(detail string) {
		f.r.Signatures = append(f.r.Signatures, Signature{Format: FormatBundle, Location: loc, AttachedTo: h.String(), Status: Malformed, Detail: detail})
	}
	if len(m.Layers) == 0 {
		fail("the bundle manifest has no layer")
		return
	}
	data, err := f.st.blob(f.ctx, m.Layers[0].Digest, maxAttestation)
	if err != nil {
		fail(fmt.Sprintf("bundle blob %s: %v", m.Layers[0].Digest, missing(err)))
		return
	}
	// cosign writes v0.3 bundles with the certificate's chain when signing
	// with --certificate-chain; the chain is still checked against the trusted root.
	b := &sgbundle.Bundle{}
	sgbundle.AllowCertificateChain()(b)
	if err := b.UnmarshalJSON(data); err != nil {
		fail("not a valid Sigstore bundle: " + clip(err.Error(), 200))
		return
	}
	sig, att := f.v.bundle(f.ctx, b, h, loc)
	if sig != nil {
		f.r.Signatures = append(f.r.Signatures, *sig)
	}
	if att != nil {
		f.r.Attestations = append(f.r.Attestations, *att)
	}
}

// buildx reads the attestation manifests Docker buildx puts in the index
// for the image (provenance and SBOM statements, unsigned).
func (f *finder) buildx(index, img v1.Hash) {
	raw, err := f.st.manifest(f.ctx, index.String())
	if err != nil {
		f.problem("index %s could not be read for buildx attestations: %v", index, missing(err))
		return
	}
	var im v1.IndexManifest
	if err := json.Unmarshal(raw, &im); err != nil {
		f.problem("index %s is not an index: %v", index, err)
		return
	}
	for _, d := range im.Manifests {
		if d.Annotations[refTypeAnnotation] != "attestation-manifest" || d.Annotations[refDigestAnnotaion] != img.String() {
			continue
		}
		where := "attestation manifest " + d.Digest.String()
		m, _ := f.readManifest(d.Digest.String(), "buildx attestation manifest")
		if m == nil {
			continue
		}
		for i, l := range m.Layers {
			if i >= maxLayers {
				break
			}
			if string(l.MediaType) != intotoType {
				continue
			}
			a := Attestation{Format: FormatBuildx, Location: fmt.Sprintf("%s (layer %d)", where, i), AttachedTo: index.String(), Status: Unsigned}
			data, err := f.st.blob(f.ctx, l.Digest, maxAttestation)
			if err != nil {
				a.Status, a.Detail = Malformed, fmt.Sprintf("statement blob %s: %v", l.Digest, missing(err))
				f.r.Attestations = append(f.r.Attestations, a)
				continue
			}
			st, err := parseStatement(data)
			if err != nil {
				a.Status, a.Detail, a.PredicateType = Malformed, err.Error(), l.Annotations[predicateAnnot]
				f.r.Attestations = append(f.r.Attestations, a)
				continue
			}
			a.describe(st)
			if !contains(a.Subjects, img.String()) {
				a.Status, a.Detail = Malformed, fmt.Sprintf("its subject is %s, not this image (%s)", strings.Join(a.Subjects, ", "), img)
			}
			f.r.Attestations = append(f.r.Attestations, a)
		}
	}
}

// certOptions turns cosign's layer annotations into static options.
func certOptions(ann map[string]string) []static.Option {
	var opts []static.Option
	if c := ann[static.CertificateAnnotationKey]; c != "" {
		opts = append(opts, static.WithCertChain([]byte(c), []byte(ann[static.ChainAnnotationKey])))
	}
	if b := ann[static.BundleAnnotationKey]; b != "" {
		var rb bundle.RekorBundle
		if json.Unmarshal([]byte(b), &rb) == nil {
			opts = append(opts, static.WithBundle(&rb))
		}
	}
	return opts
}

func missing(err error) error {
	if errors.Is(err, errNotFound) {
		return errors.New("missing (the manifest points at a blob the registry does not have)")
	}
	return err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
