package report_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The report renders the model: it must not pull in the judging packages,
// the Docker client, cosign or SQLite (issue: one engine, two phases).
func TestReportDependsOnTheModelOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"/internal/policy", "/internal/checks", "/internal/engine", "github.com/moby/", "github.com/docker/",
			"github.com/sigstore/", "modernc.org/sqlite", "github.com/jackc/pgx"} {
			if strings.Contains(dep, banned) {
				t.Errorf("internal/report depends on %s", dep)
			}
		}
	}
}
