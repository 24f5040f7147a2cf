package signature

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	sigsig "github.com/sigstore/sigstore/pkg/signature"
)

// maxKeyFile bounds a public key or trusted root file read from the policy.
const maxKeyFile = 4 << 20

// Key is a public key the policy trusts (a cosign.pub file).
type Key struct {
	// Name is the file the key was read from, as the policy gives it.
	Name string
	// Fingerprint is "sha256:" and the hex SHA-256 of the key's DER encoding.
	Fingerprint string
	verifier    sigsig.Verifier
}

// String names the key and its fingerprint for reports.
func (k Key) String() string { return fmt.Sprintf("key %s (%s)", k.Name, shortFP(k.Fingerprint)) }

func shortFP(fp string) string { return clip(fp, len("sha256:")+16) }

// LoadKey reads a PEM public key file (as written by `cosign generate-key-pair`).
func LoadKey(path string) (Key, error) {
	data, err := readBounded(path)
	if err != nil {
		return Key{}, err
	}
	return ParseKey(path, data)
}

// ParseKey parses a PEM public key; name is how reports refer to it.
func ParseKey(name string, pemData []byte) (Key, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemData)
	if err != nil {
		return Key{}, fmt.Errorf("public key %s: %w", name, err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return Key{}, fmt.Errorf("public key %s: %w", name, err)
	}
	v, err := sigsig.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return Key{}, fmt.Errorf("public key %s: %w", name, err)
	}
	sum := sha256.Sum256(der)
	return Key{Name: name, Fingerprint: "sha256:" + hex.EncodeToString(sum[:]), verifier: v}, nil
}

// Identity constrains keyless signatures: the certificate's subject (an
// email, a URI such as a CI workflow) and the OIDC issuer that vouched for
// it, each exact or as a regular expression.
type Identity struct {
	Issuer        string `json:"issuer,omitempty"`
	Subject       string `json:"subject,omitempty"`
	IssuerRegExp  string `json:"issuer_regexp,omitempty"`
	SubjectRegExp string `json:"subject_regexp,omitempty"`
}

// Validate checks that the identity constrains both the subject and the issuer.
func (id Identity) Validate() error {
	if id.Subject == "" && id.SubjectRegExp == "" {
		return fmt.Errorf("an identity needs subject or subjectRegExp")
	}
	if id.Issuer == "" && id.IssuerRegExp == "" {
		return fmt.Errorf("an identity needs issuer or issuerRegExp")
	}
	for _, re := range []string{id.SubjectRegExp, id.IssuerRegExp} {
		if _, err := regexp.Compile(re); err != nil {
			return fmt.Errorf("bad regular expression %q: %w", re, err)
		}
	}
	return nil
}

// String renders the identity for reports.
func (id Identity) String() string {
	s, i := id.Subject, id.Issuer
	if s == "" {
		s = "~" + id.SubjectRegExp
	}
	if i == "" {
		i = "~" + id.IssuerRegExp
	}
	return fmt.Sprintf("identity %s from %s", s, i)
}

// Trust are the trust anchors of a policy.
type Trust struct {
	Keys []Key
	// Identities are keyless signers, verified against TrustedRoot.
	Identities []Identity
	// TrustedRoot holds the Sigstore trusted root (Fulcio CAs, Rekor and CT
	// log keys, timestamp authorities) for keyless verification.
	TrustedRoot *root.TrustedRoot
	// TrustedRootFile is where TrustedRoot was read from.
	TrustedRootFile string
	// SkipTlog verifies keyless signatures without a transparency log entry
	// (the certificate must then be valid now); SkipSCT without a
	// certificate transparency proof. Private PKI only.
	SkipTlog, SkipSCT bool
}

// Empty says the policy gives no trust anchor.
func (t Trust) Empty() bool { return len(t.Keys) == 0 && len(t.Identities) == 0 }

// Describe lists the anchors for reports.
func (t Trust) Describe() []string {
	var out []string
	for _, k := range t.Keys {
		out = append(out, k.String())
	}
	for _, id := range t.Identities {
		out = append(out, id.String())
	}
	return out
}

// LoadTrustedRoot reads a Sigstore trusted_root.json.
func LoadTrustedRoot(path string) (*root.TrustedRoot, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("trusted root %s: %w", path, err)
	}
	return tr, nil
}

func readBounded(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxKeyFile {
		return nil, fmt.Errorf("%s is %d bytes, over the limit of %d", path, fi.Size(), maxKeyFile)
	}
	return os.ReadFile(path)
}
