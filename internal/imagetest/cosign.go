package imagetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// CosignVersion is the cosign CLI the tests sign with (docs/supplychain.md).
const CosignVersion = "v3.1.3"

// Cosign finds the cosign CLI at CosignVersion: $COSIGN, then PATH, then
// ~/.cache/shipshape/peers/bin, then $GOPATH/bin. In CI it must exist; elsewhere the calling test is skipped.
func Cosign(t testing.TB) string {
	t.Helper()
	cands := []string{os.Getenv("COSIGN")}
	if p, err := exec.LookPath("cosign"); err == nil {
		cands = append(cands, p)
	}
	if home, err := os.UserHomeDir(); err == nil { // where tools/ci/test.sh installs it
		cands = append(cands, filepath.Join(home, ".cache", "shipshape", "peers", "bin", "cosign"))
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		cands = append(cands, filepath.Join(strings.TrimSpace(string(out)), "bin", "cosign"))
	}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if out, err := exec.Command(c, "version").CombinedOutput(); err == nil && strings.Contains(string(out), CosignVersion) {
			return c
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("cosign %s missing in CI: go install github.com/sigstore/cosign/v3/cmd/cosign@%s", CosignVersion, CosignVersion)
	}
	t.Skipf("cosign %s not installed (go install github.com/sigstore/cosign/v3/cmd/cosign@%s)", CosignVersion, CosignVersion)
	return ""
}
