package signature

import (
	"context"
	"os"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
)

// A real public-good keyless bundle verifies offline against the public-good
// trusted root (certificate chain, SCT, Rekor entry), and only for the
// identity that signed it.
func TestPublicGoodKeylessBundle(t *testing.T) {
	data, err := os.ReadFile("testdata/public-good/bundle-provenance.json")
	if err != nil {
		t.Fatal(err)
	}
	b := &sgbundle.Bundle{}
	if err := b.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	tr, err := LoadTrustedRoot("testdata/public-good/trusted-root-public-good.json")
	if err != nil {
		t.Fatal(err)
	}
	subject := v1.Hash{Algorithm: "sha512", Hex: "76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751"}
	const (
		issuer   = "https://token.actions.githubusercontent.com"
		workflow = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
	)
	v := verifier{trust: Trust{TrustedRoot: tr, Identities: []Identity{{Issuer: issuer, Subject: workflow}}}}
	_, a := v.bundle(context.Background(), b, subject, "test")
	if a == nil || a.Status != Verified || a.Signer != workflow+" (issuer "+issuer+")" || a.Kind != KindProvenance {
		t.Fatalf("public-good bundle: %+v", a)
	}
	if a.Provenance.SourceRepo != "https://github.com/sigstore/sigstore-js" || a.Provenance.Commit != "dae8bd8eb433a4147b4655c00fe73e0f22bc0fb1" {
		t.Errorf("provenance %+v", a.Provenance)
	}
	wrong := verifier{trust: Trust{TrustedRoot: tr, Identities: []Identity{{Issuer: issuer, SubjectRegExp: `^https://github\.com/shipshape-dev/`}}}}
	if _, a := wrong.bundle(context.Background(), b, subject, "test"); a.Status != Invalid || !strings.Contains(a.Signer, "(unverified)") {
		t.Errorf("another identity: %+v", a)
	}
	// The same bundle presented for another artifact verifies, but is about something else.
	other := v1.Hash{Algorithm: "sha512", Hex: strings.Repeat("ab", 64)}
	if _, a := v.bundle(context.Background(), b, other, "test"); a.Status != WrongDigest {
		t.Errorf("another digest: %+v", a)
	}
}
