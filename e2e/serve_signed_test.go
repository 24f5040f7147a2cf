package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

// A policy that requires signatures: the service approves the image signed
// with the release key and records who signed it and the exact digest the
// signature covers (admission then never verifies on its hot path); the
// unsigned image is rejected naming SEC-031.
func TestServeSignedApproval(t *testing.T) {
	cos := cosign(t)
	dir := t.TempDir()
	runCosign(t, cos, dir, "generate-key-pair", "--output-key-prefix", "release")
	host := startRegistry(t)
	signed := push(t, imagetest.Image(t, serveSpec("signed")), host+"/team/app:2.0")
	runCosign(t, cos, dir, append(append([]string{"sign", "--key", "release.key"}, offlineSign...), signed.String())...)
	unsigned := push(t, imagetest.Image(t, serveSpec("unsigned")), host+"/team/app:2.1")
	pol := writePolicy(t, dir, "requireSignature: true\nsignatures:\n  keys: ["+filepath.Join(dir, "release.pub")+"]\n")

	env := processEnv()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "s.db")
	tok := createToken(t, env, dsn, "ci", "admin")
	addr := freeAddr(t)
	startServe(t, env, addr, "--db", dsn, "--skip-vulns", "--offline", "--policy", pol)
	base := "http://" + addr

	type evaluation struct {
		Digest  string   `json:"digest"`
		State   string   `json:"state"`
		Failing []string `json:"failing"`
	}
	var sub struct {
		Evaluation *evaluation `json:"evaluation"`
	}
	mustAPI(t, base, tok, "POST", "/api/v1/images?wait=3m", map[string]string{"image": signed.String()}, 200, &sub)
	if sub.Evaluation == nil || sub.Evaluation.State != "approved" || sub.Evaluation.Digest != signed.DigestStr() {
		t.Fatalf("signed image: %+v", sub.Evaluation)
	}
	var detail struct {
		Approval struct {
			State          string `json:"state"`
			Signer         string `json:"signer"`
			VerifiedDigest string `json:"verified_digest"`
		} `json:"approval"`
	}
	mustAPI(t, base, tok, "GET", "/api/v1/images/"+signed.DigestStr(), nil, 200, &detail)
	if !strings.Contains(detail.Approval.Signer, "release.pub") || detail.Approval.VerifiedDigest != signed.DigestStr() {
		t.Errorf("approval of the signed image: %+v", detail.Approval)
	}

	sub.Evaluation = nil
	mustAPI(t, base, tok, "POST", "/api/v1/images?wait=3m", map[string]string{"image": unsigned.String()}, 200, &sub)
	if sub.Evaluation == nil || sub.Evaluation.State != "rejected" || len(sub.Evaluation.Failing) == 0 || !strings.HasPrefix(sub.Evaluation.Failing[0], "SEC-031") {
		t.Fatalf("unsigned image: %+v", sub.Evaluation)
	}
}
