package signature

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// Fulcio's certificate extensions for the OIDC issuer (v2 is DER UTF8String, v1 raw).
var (
	oidIssuerV1 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
	oidIssuerV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
)

const (
	testIssuer  = "https://token.actions.githubusercontent.com"
	testSubject = "https://github.com/shipshape-dev/webapp/.github/workflows/release.yml@refs/heads/main"
)

// privateCA is a certificate authority standing in for Fulcio: it certifies
// a cosign key for a workflow identity, the way Fulcio does for keyless signing.
type privateCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(t *testing.T, cn string) privateCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn, Organization: []string{"shipshape tests"}},
		NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return privateCA{cert: cert, key: key}
}

// leaf certifies pubPEM for uri, issued by the OIDC issuer iss.
func (ca privateCA) leaf(t *testing.T, pubPEM []byte, uri, iss string) []byte {
	t.Helper()
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := asn1.MarshalWithParams(iss, "utf8")
	u, _ := parseURI(uri)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, URIs: u,
		ExtraExtensions: []pkix.Extension{{Id: oidIssuerV1, Value: []byte(iss)}, {Id: oidIssuerV2, Value: v2}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	out, _ := cryptoutils.MarshalCertificateToPEM(cert)
	return out
}

// trustedRoot writes a Sigstore trusted_root.json with ca as its only certificate authority.
func (ca privateCA) trustedRoot(t *testing.T, dir string) string {
	t.Helper()
	doc := map[string]any{
		"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
		"tlogs":     []any{},
		"certificateAuthorities": []any{map[string]any{
			"subject":   map[string]any{"organization": "shipshape tests", "commonName": ca.cert.Subject.CommonName},
			"uri":       "https://fulcio.invalid",
			"certChain": map[string]any{"certificates": []any{map[string]any{"rawBytes": base64.StdEncoding.EncodeToString(ca.cert.Raw)}}},
			"validFor":  map[string]any{"start": ca.cert.NotBefore.UTC().Format(time.RFC3339)},
		}},
		"ctlogs":               []any{},
		"timestampAuthorities": []any{},
	}
	b, _ := json.Marshal(doc)
	p := filepath.Join(dir, ca.cert.Subject.CommonName+"-trusted_root.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Keyless signatures (a certificate for a CI identity, chained to the trusted
// root) are verified offline against identity and issuer constraints.
func TestKeylessIdentity(t *testing.T) {
	bin := cosignBin(t)
	dir := t.TempDir()
	priv, pub := keyPair(t, bin, dir, "ci")
	pubPEM, _ := os.ReadFile(pub)
	ca := newCA(t, "ca")
	leaf := filepath.Join(dir, "leaf.pem")
	chain := filepath.Join(dir, "chain.pem")
	caPEM, _ := cryptoutils.MarshalCertificateToPEM(ca.cert)
	os.WriteFile(leaf, ca.leaf(t, pubPEM, testSubject, testIssuer), 0o644)
	os.WriteFile(chain, caPEM, 0o644)
	tr, err := LoadTrustedRoot(ca.trustedRoot(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	otherRoot, err := LoadTrustedRoot(newCA(t, "other").trustedRoot(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	host := startRegistry(t)
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			img := pushImage(t, host, "team/keyless"+strings.Fields(f.name)[0][1:], f.name)
			sign(t, bin, dir, priv, img.String(), append([]string{"--certificate", leaf, "--certificate-chain", chain}, f.flags...)...)
			trust := func(id Identity, root any) Trust {
				tt := Trust{Identities: []Identity{id}, SkipTlog: true, SkipSCT: true}
				if root == nil {
					tt.TrustedRoot = tr
				} else {
					tt.TrustedRoot = otherRoot
				}
				return tt
			}
			r := find(t, img, trust(Identity{Issuer: testIssuer, Subject: testSubject}, nil))
			if len(r.Signatures) != 1 {
				t.Fatalf("%+v", r)
			}
			s := r.Signatures[0]
			if s.Status != Verified || s.Key != "" || !strings.Contains(s.Signer, testSubject) || !strings.Contains(s.Signer, "issuer "+testIssuer) {
				t.Errorf("keyless: %+v", s)
			}
			re := find(t, img, trust(Identity{IssuerRegExp: `^https://token\.actions\.githubusercontent\.com$`, SubjectRegExp: `^https://github\.com/shipshape-dev/`}, nil))
			if re.Signatures[0].Status != Verified {
				t.Errorf("regexp identity: %+v", re.Signatures[0])
			}
			other := find(t, img, trust(Identity{Issuer: testIssuer, Subject: "https://github.com/someone/else/.github/workflows/x.yml@refs/heads/main"}, nil))
			if s := other.Signatures[0]; s.Status != Invalid || !strings.Contains(s.Signer, testSubject+" (issuer "+testIssuer+") (unverified)") {
				t.Errorf("another identity must not verify, and the claim is shown as unverified: %+v", s)
			}
			untrusted := find(t, img, trust(Identity{Issuer: testIssuer, Subject: testSubject}, "other"))
			if s := untrusted.Signatures[0]; s.Status != Invalid {
				t.Errorf("a certificate from another CA must not verify: %+v", s)
			}
		})
	}
}

func parseURI(s string) ([]*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	return []*url.URL{u}, nil
}
