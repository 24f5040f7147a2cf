package cli

import (
	"bytes"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

// result is what one run of the command line gave.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the command line in-process, without an advisory database, the
// network or a facts cache shared with other runs.
func run(t *testing.T, args ...string) result {
	t.Helper()
	var o, e bytes.Buffer
	code := Main(args, &o, &e)
	return result{code, o.String(), e.String()}
}

// isolate keeps the tests away from the user's cache, data and network.
func isolate(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("SHIPSHAPE_SKIP_VULNS", "1")
	t.Setenv("SHIPSHAPE_OFFLINE", "1")
	t.Setenv("SHIPSHAPE_VULNDB_DIR", filepath.Join(dir, "vulndb"))
	t.Setenv("NO_COLOR", "")
	t.Chdir(dir)
}

// tinyImage writes a small image built FROM scratch (a static "server",
// a non-root user) as an OCI layout and returns its input.
func tinyImage(t *testing.T) string {
	t.Helper()
	img := imagetest.Image(t, imagetest.Spec{
		Layers: [][]imagetest.File{{
			imagetest.Dir("/app"),
			imagetest.Exec("/app/server", imagetest.ELF(62, "")),
			imagetest.Text("/etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\napp:x:1000:1000::/app:/sbin/nologin\n"),
		}},
		Config: v1.Config{User: "1000", Entrypoint: []string{"/app/server"}},
	})
	return imagetest.WriteLayout(t, filepath.Join(t.TempDir(), "layout"), img, "1.0.0")
}

func wantCode(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}
