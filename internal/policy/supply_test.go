package policy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

func writeKey(t *testing.T, dir, name string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemData, err := cryptoutils.MarshalPublicKeyToPEM(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), pemData, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSupplyChainKeys(t *testing.T) {
	dir := t.TempDir()
	writeKey(t, dir, "cosign.pub")
	name := filepath.Join(dir, "policy.yaml")
	p, err := Parse(name, []byte(`requireSignature: true
signatures:
  keys: [cosign.pub]
trustedRegistries: [registry.example.com/team/*, official, "docker.io/someone/tool@sha256:`+strings.Repeat("ab", 32)+`"]
thresholds:
  maxUpstreamAgeDays: 180
upstream:
  sources:
    - image: registry.example.com/team/*
      repository: https://github.com/shipshape-dev/webapp
`))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Settings.RequireSignature || len(p.Trust.Keys) != 1 || p.Trust.Keys[0].Name != "cosign.pub" || !strings.HasPrefix(p.Trust.Keys[0].Fingerprint, "sha256:") {
		t.Errorf("trust %+v", p.Trust)
	}
	if p.Settings.MaxUpstreamAge != 180*24*time.Hour || len(p.Settings.TrustedRegistries) != 3 || len(p.UpstreamSources) != 1 {
		t.Errorf("settings %+v, sources %+v", p.Settings, p.UpstreamSources)
	}
	if d := Default(); d.Settings.MaxUpstreamAge != 365*24*time.Hour || d.Settings.RequireSignature || !d.Trust.Empty() {
		t.Errorf("default %+v", d.Settings)
	}
}

func TestSupplyChainKeyErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "garbage.pub"), []byte("not a key"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		yaml string
		line int
		has  string
	}{
		{"requireSignature: true\n", 1, "needs signatures.keys"},
		{"signatures:\n  keys: [missing.pub]\n", 2, "signatures.keys[0]"},
		{"signatures:\n  keys: [garbage.pub]\n", 2, "garbage.pub"},
		{"signatures:\n  identities:\n    - issuer: https://accounts.google.com\n", 3, "needs subject"},
		{"signatures:\n  identities:\n    - {issuer: x, subject: y}\n", 2, "trustedRoot"},
		{"signatures:\n  trustedRoot: nope.json\n", 2, "signatures.trustedRoot"},
		{"trustedRegistries: [\"docker.io/x@sha256:12\"]\n", 1, "pinned exception"},
		{"trustedRegistries: [\"[\"]\n", 1, "bad pattern"},
		{"thresholds:\n  maxUpstreamAgeDays: 0\n", 2, "must be positive"},
		{"upstream:\n  sources:\n    - {image: x/*, repository: not-a-repo}\n", 3, "upstream.sources[0].repository"},
		{"upstream:\n  sources:\n    - {image: x/*, repositry: https://github.com/o/r}\n", 3, "repositry"},
	}
	for _, c := range cases {
		_, err := Parse(filepath.Join(dir, "p.yaml"), []byte(c.yaml))
		pe, ok := err.(*Error)
		if !ok || !strings.Contains(err.Error(), c.has) || pe.Line != c.line {
			t.Errorf("%q: want an error at line %d with %q, got %v", c.yaml, c.line, c.has, err)
		}
	}
}
