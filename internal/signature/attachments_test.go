package signature

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

// statementFor wraps a predicate file in an in-toto statement about digest.
func statementFor(t *testing.T, predicateType, file string, digest v1.Hash) []byte {
	t.Helper()
	pred, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	st := map[string]any{
		"_type":         statementV01,
		"predicateType": predicateType,
		"subject":       []map[string]any{{"name": "pkg:docker/team/app@1.0?platform=linux%2Famd64", "digest": map[string]string{"sha256": digest.Hex}}},
		"predicate":     json.RawMessage(pred),
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// buildxIndex builds an index the way docker buildx pushes one with
// --provenance and --sbom: the image, and an attestation manifest
// (platform unknown/unknown) pointing at it with in-toto layers.
func buildxIndex(t *testing.T, statements func(img v1.Hash) [][]byte) (v1.ImageIndex, v1.Hash) {
	t.Helper()
	img := imagetest.Image(t, imagetest.Spec{Layers: [][]imagetest.File{{imagetest.Text("/app", "x")}}, Config: v1.Config{Entrypoint: []string{"/app"}}})
	d, _ := img.Digest()
	att := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	att = mutate.ConfigMediaType(att, types.OCIConfigJSON)
	for _, st := range statements(d) {
		var s statement
		_ = json.Unmarshal(st, &s)
		var err error
		att, err = mutate.Append(att, mutate.Addendum{Layer: static.NewLayer(st, intotoType), MediaType: intotoType,
			Annotations: map[string]string{predicateAnnot: s.PredicateType}})
		if err != nil {
			t.Fatal(err)
		}
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{refTypeAnnotation: "attestation-manifest", refDigestAnnotaion: d.String()}}},
	)
	return idx, d
}

func TestBuildxAttestations(t *testing.T) {
	host := startRegistry(t)
	idx, imgDigest := buildxIndex(t, func(d v1.Hash) [][]byte {
		return [][]byte{statementFor(t, slsaV02, "slsa02-buildkit.json", d), statementFor(t, "https://spdx.dev/Document", "spdx.json", d)}
	})
	tag, _ := name.NewTag(host + "/team/app:1.0")
	if err := remote.WriteIndex(tag, idx); err != nil {
		t.Fatal(err)
	}
	idxDigest, _ := idx.Digest()
	st, _ := Registry(host + "/team/app")
	r := Find(context.Background(), st, imgDigest.String(), idxDigest.String(), Trust{})
	if len(r.Attestations) != 2 || len(r.Problems) != 0 || len(r.Subjects) != 2 {
		t.Fatalf("%+v", r)
	}
	for _, a := range r.Attestations {
		if a.Format != FormatBuildx || a.Status != Unsigned || a.Subjects[0] != imgDigest.String() {
			t.Errorf("%+v", a)
		}
		switch a.Kind {
		case KindProvenance:
			// BuildKit's own vcs metadata is kept when the statement is not re-encoded.
			if a.Provenance.SourceRepo != "https://github.com/shipshape-dev/webapp" || a.Provenance.Commit == "" {
				t.Errorf("provenance %+v", a.Provenance)
			}
		case KindSBOM:
			if a.SBOM.Packages != 3 {
				t.Errorf("sbom %+v", a.SBOM)
			}
		default:
			t.Errorf("kind %q", a.Kind)
		}
	}
	// An attestation manifest whose statement names another image is not this image's.
	idx2, img2 := buildxIndex(t, func(v1.Hash) [][]byte {
		return [][]byte{statementFor(t, slsaV02, "slsa02-buildkit.json", mustHash(t, "sha256:"+strings.Repeat("ab", 32)))}
	})
	tag2, _ := name.NewTag(host + "/team/other:1.0")
	if err := remote.WriteIndex(tag2, idx2); err != nil {
		t.Fatal(err)
	}
	idx2Digest, _ := idx2.Digest()
	st2, _ := Registry(host + "/team/other")
	r2 := Find(context.Background(), st2, img2.String(), idx2Digest.String(), Trust{})
	if len(r2.Attestations) != 1 || r2.Attestations[0].Status != Malformed || !strings.Contains(r2.Attestations[0].Detail, "not this image") {
		t.Errorf("foreign subject: %+v", r2.Attestations)
	}
}

// Hostile or broken attachments are reported as what failed, never verified and never a crash.
func TestBrokenAttachments(t *testing.T) {
	host := startRegistry(t)
	repo := "team/broken"
	img := pushImage(t, host, repo, "broken")
	h := mustHash(t, img.DigestStr())
	tag := func(suffix string) string { return tagFor(h, suffix) }
	cfg := putBlob(t, host, repo, types.OCIConfigJSON, []byte(`{}`))
	manifest := func(layers ...v1.Descriptor) []byte {
		b, _ := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: cfg, Layers: layers})
		return b
	}
	missingBlob := v1.Descriptor{MediaType: "application/vnd.dev.cosign.simplesigning.v1+json", Size: 10,
		Digest: mustHash(t, "sha256:"+strings.Repeat("0", 64)), Annotations: map[string]string{"dev.cosignproject.cosign/signature": "AAAA"}}
	garbage := putBlob(t, host, repo, "application/vnd.dev.cosign.simplesigning.v1+json", []byte("this is not json"))
	garbage.Annotations = map[string]string{"dev.cosignproject.cosign/signature": "AAAA"}
	putManifest(t, host, repo, tag(".sig"), types.OCIManifestSchema1, manifest(missingBlob, garbage))

	notIntoto := putBlob(t, host, repo, dsseType, fmt.Appendf(nil, `{"payloadType":%q,"payload":%q,"signatures":[{"sig":"AAAA"}]}`,
		intotoType, base64.StdEncoding.EncodeToString([]byte(`{"hello":"world"}`))))
	notDSSE := putBlob(t, host, repo, dsseType, []byte(`[1,2,3]`))
	putManifest(t, host, repo, tag(".att"), types.OCIManifestSchema1, manifest(notIntoto, notDSSE))

	badBundle := putBlob(t, host, repo, "application/vnd.dev.sigstore.bundle.v0.3+json", []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","garbage":true}`))
	ref, _ := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: cfg, Layers: []v1.Descriptor{badBundle},
		Subject: &v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: h, Size: int64(len(rawManifest(t, img.String())))}})
	putManifest(t, host, repo, sha(ref), types.OCIManifestSchema1, ref)

	r := find(t, img, Trust{})
	want := []string{"missing", "not a cosign simple signing payload", "not a valid Sigstore bundle"}
	if len(r.Signatures) != len(want) {
		t.Fatalf("signatures: %+v", r.Signatures)
	}
	for i, s := range r.Signatures {
		if s.Status != Malformed || !strings.Contains(s.Detail, want[i]) {
			t.Errorf("signature %d: want malformed %q, got %+v", i, want[i], s)
		}
	}
	wantAtt := []string{"not an in-toto statement", "not a DSSE envelope"}
	if len(r.Attestations) != len(wantAtt) {
		t.Fatalf("attestations: %+v", r.Attestations)
	}
	for i, a := range r.Attestations {
		if a.Status != Malformed || !strings.Contains(a.Detail, wantAtt[i]) {
			t.Errorf("attestation %d: want malformed %q, got %+v", i, wantAtt[i], a)
		}
	}

	// A signature "manifest" that is not one, and a registry that is not there.
	putManifest(t, host, repo, tag(".sig"), types.OCIManifestSchema1, []byte(`"just a string"`))
	r = find(t, img, Trust{})
	for _, s := range r.Signatures {
		if s.Format == FormatSigTag {
			t.Errorf("a bad signature manifest yields no signature: %+v", s)
		}
	}
	if !strings.Contains(strings.Join(r.Problems, "\n"), "not an image manifest") {
		t.Errorf("bad manifest: %+v", r.Problems)
	}
	st, _ := Registry("127.0.0.1:1/team/app")
	down := Find(context.Background(), st, img.DigestStr(), "", Trust{})
	if len(down.Problems) == 0 || len(down.Signatures) != 0 {
		t.Errorf("unreachable registry must be a problem: %+v", down)
	}
}

func TestManyLayersAreBounded(t *testing.T) {
	host := startRegistry(t)
	img := pushImage(t, host, "team/many", "many")
	h := mustHash(t, img.DigestStr())
	cfg := putBlob(t, host, "team/many", types.OCIConfigJSON, []byte(`{}`))
	var layers []v1.Descriptor
	for i := 0; i < 200; i++ {
		d := putBlob(t, host, "team/many", "application/vnd.dev.cosign.simplesigning.v1+json", fmt.Appendf(nil, "junk %d", i))
		d.Annotations = map[string]string{"dev.cosignproject.cosign/signature": "AAAA"}
		layers = append(layers, d)
	}
	raw, _ := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: cfg, Layers: layers})
	putManifest(t, host, "team/many", tagFor(h, ".sig"), types.OCIManifestSchema1, raw)
	r := find(t, img, Trust{})
	if len(r.Signatures) != maxLayers || !strings.Contains(strings.Join(r.Problems, "\n"), "only the first 32") {
		t.Errorf("got %d signatures, problems %v", len(r.Signatures), r.Problems)
	}
}

// An OCI layout that carries the signature tag and the bundle referrer
// (copied from the registry) is verified like the registry.
func TestLayoutSignatures(t *testing.T) {
	bin := cosignBin(t)
	dir := t.TempDir()
	priv, pub := keyPair(t, bin, dir, "k")
	host := startRegistry(t)
	img := pushImage(t, host, "team/layout", "layout")
	sign(t, bin, dir, priv, img.String(), "--new-bundle-format=false")
	sign(t, bin, dir, priv, img.String())

	out := t.TempDir()
	p, err := layout.Write(out, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	get := func(ref string) v1.Image {
		r, _ := name.ParseReference(ref)
		i, err := remote.Image(r)
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	refName := func(n string) layout.Option {
		return layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": n})
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(p.AppendImage(get(img.String()), refName("1.0")))
	must(p.AppendImage(get(img.Context().Tag(sigTagOf(img)).String()), refName(sigTagOf(img))))
	st, _ := Registry(img.Context().String())
	for _, d := range findReferrers(t, st, img.DigestStr()) {
		must(p.AppendImage(get(img.Context().Digest(d.Digest.String()).String())))
	}
	ls, err := Layout(out)
	if err != nil {
		t.Fatal(err)
	}
	r := Find(context.Background(), ls, img.DigestStr(), "", Trust{Keys: []Key{mustKey(t, pub)}})
	if len(r.Signatures) != 2 || len(r.Problems) != 0 {
		t.Fatalf("%+v", r)
	}
	for _, s := range r.Signatures {
		if s.Status != Verified {
			t.Errorf("%+v", s)
		}
	}
}
