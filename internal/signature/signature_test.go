package signature

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// formats are cosign's two ways of storing an image signature.
var formats = []struct {
	name  string
	flags []string
	want  Format
}{
	{"legacy .sig tag", []string{"--new-bundle-format=false"}, FormatSigTag},
	{"bundle referrer", nil, FormatBundle},
}

func TestCosignSignatures(t *testing.T) {
	bin := cosignBin(t)
	dir := t.TempDir()
	priv, pub := keyPair(t, bin, dir, "good")
	_, otherPub := keyPair(t, bin, dir, "other")
	good, other := mustKey(t, pub), mustKey(t, otherPub)
	host := startRegistry(t)
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			repo := "team/" + strings.ReplaceAll(strings.Fields(f.name)[0], ".", "")
			img := pushImage(t, host, repo, f.name)
			sign(t, bin, dir, priv, img.String(), f.flags...)

			r := find(t, img, Trust{Keys: []Key{other, good}})
			if len(r.Problems) != 0 || len(r.Signatures) != 1 {
				t.Fatalf("want one signature and no problem: %+v", r)
			}
			s := r.Signatures[0]
			if s.Status != Verified || s.Format != f.want || s.Key != pub || !strings.Contains(s.Signer, good.Fingerprint[:20]) {
				t.Errorf("good key: %+v", s)
			}
			if len(s.SignedDigests) != 1 || s.SignedDigests[0] != img.DigestStr() || s.AttachedTo != img.DigestStr() {
				t.Errorf("signed digest %v, want %s", s.SignedDigests, img.DigestStr())
			}
			if got := r.Verified(); len(got) != 1 {
				t.Errorf("Verified() = %+v", got)
			}

			wrong := find(t, img, Trust{Keys: []Key{other}}).Signatures[0]
			if wrong.Status != Invalid || wrong.Key != "" || !strings.Contains(wrong.Detail, otherPub) {
				t.Errorf("wrong key must not verify, and say which key failed: %+v", wrong)
			}
			none := find(t, img, Trust{}).Signatures[0]
			if none.Status != Unchecked || !strings.Contains(none.Detail, "no key") {
				t.Errorf("no trust anchor: %+v", none)
			}
		})
	}
	unsigned := pushImage(t, host, "team/unsigned", "nothing")
	r := find(t, unsigned, Trust{Keys: []Key{good}})
	if len(r.Signatures) != 0 || len(r.Attestations) != 0 || len(r.Problems) != 0 {
		t.Errorf("unsigned image: %+v", r)
	}
}

// A signature copied from another image verifies with the key, but names
// the other image's digest: that is a wrong-digest signature, never a pass.
func TestSignatureOverAnotherDigest(t *testing.T) {
	bin := cosignBin(t)
	dir := t.TempDir()
	priv, pub := keyPair(t, bin, dir, "k")
	key := mustKey(t, pub)
	host := startRegistry(t)

	t.Run("legacy .sig tag", func(t *testing.T) {
		signed := pushImage(t, host, "team/app", "signed")
		victim := pushImage(t, host, "team/app", "victim")
		sign(t, bin, dir, priv, signed.String(), "--new-bundle-format=false")
		raw, err := json.Marshal(manifestOf(t, signed.Context().Tag(sigTagOf(signed)).String()))
		if err != nil {
			t.Fatal(err)
		}
		putManifest(t, host, "team/app", sigTagOf(victim), types.OCIManifestSchema1, raw)
		r := find(t, victim, Trust{Keys: []Key{key}})
		if len(r.Signatures) != 1 {
			t.Fatalf("%+v", r)
		}
		s := r.Signatures[0]
		if s.Status != WrongDigest || s.SignedDigests[0] != signed.DigestStr() || s.Key != pub || !strings.Contains(s.Detail, signed.DigestStr()) {
			t.Errorf("copied signature: %+v", s)
		}
	})
	t.Run("bundle referrer", func(t *testing.T) {
		signed := pushImage(t, host, "team/web", "signed")
		victim := pushImage(t, host, "team/web", "victim")
		sign(t, bin, dir, priv, signed.String())
		st, _ := Registry(signed.Context().String())
		refs := findReferrers(t, st, signed.DigestStr())
		if len(refs) != 1 {
			t.Fatalf("referrers of the signed image: %+v", refs)
		}
		m := manifestOf(t, signed.Context().Digest(refs[0].Digest.String()).String())
		m.Subject.Digest = mustHash(t, victim.DigestStr())
		m.Subject.Size = int64(len(rawManifest(t, victim.String())))
		raw, _ := json.Marshal(m)
		putManifest(t, host, "team/web", sha(raw), types.OCIManifestSchema1, raw)
		r := find(t, victim, Trust{Keys: []Key{key}})
		if len(r.Signatures) != 1 {
			t.Fatalf("%+v", r)
		}
		s := r.Signatures[0]
		if s.Status != WrongDigest || s.SignedDigests[0] != signed.DigestStr() || s.Format != FormatBundle {
			t.Errorf("re-attached bundle: %+v", s)
		}
		// The original is still fine.
		if s := find(t, signed, Trust{Keys: []Key{key}}).Signatures[0]; s.Status != Verified {
			t.Errorf("original bundle: %+v", s)
		}
	})
}

func TestCosignAttestations(t *testing.T) {
	bin := cosignBin(t)
	dir := t.TempDir()
	priv, pub := keyPair(t, bin, dir, "att")
	key := mustKey(t, pub)
	host := startRegistry(t)
	pred := func(n string) string { p, _ := filepath.Abs(filepath.Join("testdata", n)); return p }
	for _, f := range []struct {
		name  string
		flags []string
		want  Format
	}{
		{"legacy .att tag", []string{"--new-bundle-format=false"}, FormatAttTag},
		{"bundle referrer", nil, FormatBundle},
	} {
		t.Run(f.name, func(t *testing.T) {
			img := pushImage(t, host, "team/"+strings.Fields(f.name)[0][1:]+"x", f.name)
			for _, a := range [][]string{{"--type", "slsaprovenance", "--predicate", pred("slsa02-buildkit.json")}, {"--type", "spdxjson", "--predicate", pred("spdx.json")}} {
				args := append([]string{"attest", "--key", priv}, signArgs...)
				args = append(append(args, f.flags...), a...)
				cosignRun(t, bin, dir, append(args, img.String())...)
			}
			r := find(t, img, Trust{Keys: []Key{key}})
			if len(r.Problems) != 0 || len(r.Attestations) != 2 {
				t.Fatalf("want two attestations: %+v", r)
			}
			byKind := map[Kind]Attestation{}
			for _, a := range r.Attestations {
				byKind[a.Kind] = a
				if a.Status != Verified || a.Format != f.want || a.Key != pub || a.Subjects[0] != img.DigestStr() {
					t.Errorf("%s: %+v", a.Kind, a)
				}
			}
			p := byKind[KindProvenance].Provenance
			if p == nil || p.SourceRepo != "https://github.com/shipshape-dev/webapp" || p.Commit != "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b" ||
				!strings.HasPrefix(p.BuilderID, "https://github.com/shipshape-dev/webapp/actions/runs/") || len(p.BaseImages) != 2 {
				t.Errorf("provenance: %+v", p)
			}
			if s := byKind[KindSBOM].SBOM; s == nil || s.Format != "SPDX" || s.Packages != 3 {
				t.Errorf("sbom: %+v", s)
			}
			// Under another key they are found but do not verify.
			_, otherPub := keyPair(t, bin, t.TempDir(), "other")
			for _, a := range find(t, img, Trust{Keys: []Key{mustKey(t, otherPub)}}).Attestations {
				if a.Status != Invalid || a.Provenance == nil && a.SBOM == nil {
					t.Errorf("other key: %+v", a)
				}
			}
		})
	}
}
