package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// buildSelfImage runs `go run ./tools/selfimage` (what make image runs) and
// returns the digest it prints.
func buildSelfImage(t *testing.T, out string, env ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", "./tools/selfimage", "-o", out)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tools/selfimage: %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// shipshape's own image: built by one command, reproducible, and it passes
// its own checklist (the default policy, with the real advisory data).
func TestSelfImage(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.tar"), filepath.Join(dir, "b.tar")
	da := buildSelfImage(t, a)
	db := buildSelfImage(t, b)
	if !strings.HasPrefix(da, "sha256:") || da != db {
		t.Fatalf("two builds of the same source: %q and %q, want the same digest", da, db)
	}
	ba, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ba, bb) {
		t.Error("the two archives differ")
	}
	// SOURCE_DATE_EPOCH is every timestamp: another one, another digest.
	if dc := buildSelfImage(t, filepath.Join(dir, "c.tar"), "SOURCE_DATE_EPOCH=1700000000"); dc == da {
		t.Error("SOURCE_DATE_EPOCH does not change the image")
	}

	img, err := tarball.ImageFromPath(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" || c.Healthcheck == nil || c.Healthcheck.Test[0] != "CMD" || c.Labels["org.opencontainers.image.source"] == "" ||
		c.Labels["org.opencontainers.image.revision"] == "" || c.Labels["org.opencontainers.image.version"] == "" {
		t.Errorf("config: user %q, healthcheck %+v, labels %v", c.User, c.Healthcheck, c.Labels)
	}
	if layers, _ := img.Layers(); len(layers) != 1 {
		t.Errorf("%d layers, want one on an empty base", len(layers))
	}

	// shipshape check with the default policy and the real OSV data: PASS,
	// no veto, nothing high or critical.
	rep, r := vulnJSON(t, importedDB(t), 0, "docker-archive:"+a)
	if !rep.Verdict.Pass || len(rep.Verdict.Vetoes) > 0 {
		t.Fatalf("verdict %+v\n%s", rep.Verdict, r.stderr)
	}
	for _, res := range rep.Results {
		for _, f := range res.Findings {
			if f.Severity == "high" || f.Severity == "critical" {
				t.Errorf("%s finding %s: %s", f.Severity, f.CheckID, f.Title)
			}
		}
	}
	for _, id := range []string{"SEC-001", "REL-002", "REL-003"} {
		if st, fs := rep.status(id); st != "pass" {
			t.Errorf("%s: %s %+v", id, st, fs)
		}
	}
	t.Logf("shipshape check of its own image: grade %s", rep.Verdict.Grade)

	// The HEALTHCHECK runs as written, without a shell: the image's own
	// binary serves, and its healthcheck command says healthy, then not.
	self := filepath.Join(dir, "shipshape")
	extract(t, img, "shipshape", self)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := exec.Command(self, "serve", "--listen", addr, "--db", "sqlite:"+filepath.Join(dir, "db.sqlite"), "--role", "api")
	srv.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	var srvLog bytes.Buffer
	srv.Stdout, srv.Stderr = &srvLog, &srvLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	argv := append([]string{}, c.Healthcheck.Test[1:]...)
	for i, a := range argv {
		argv[i] = strings.Replace(a, "127.0.0.1:8080", addr, 1)
	}
	if argv[0] != "/shipshape" {
		t.Fatalf("healthcheck %v", argv)
	}
	health := func() error { return exec.Command(self, argv[1:]...).Run() }
	deadline := time.Now().Add(30 * time.Second)
	for health() != nil {
		if time.Now().After(deadline) {
			resp, err := http.Get("http://" + addr + "/healthz")
			t.Fatalf("the image's HEALTHCHECK %v never passed (%v %v):\n%s", argv, resp, err, srvLog.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = srv.Process.Kill()
	_ = srv.Wait()
	if err := health(); err == nil {
		t.Error("the HEALTHCHECK passes with the server stopped")
	}
}

// extract copies the file at name of img's filesystem to dst.
func extract(t *testing.T, img v1.Image, name, dst string) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in the image: %v", name, err)
		}
		if strings.TrimPrefix(h.Name, "/") != name {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
		return
	}
}
