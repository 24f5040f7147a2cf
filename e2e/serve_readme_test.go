package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

// The README's flow, for real: serve with no flags but a data directory
// (SQLite under it), a token, an image submitted from CI passes and is
// approved, the CI gate allows it; then newer advisories are imported and
// the service re-judges the image from its stored facts and retires it.
func TestServeREADMEFlow(t *testing.T) {
	home := t.TempDir()
	vdb := filepath.Join(home, "vulndb")
	env := processEnv("XDG_DATA_HOME="+filepath.Join(home, "data"), "SHIPSHAPE_VULNDB_DIR="+vdb, "SHIPSHAPE_SKIP_VULNS=", "SHIPSHAPE_DB=")

	// The advisory data as it is on day one: nothing about this image.
	if r := runWith(t, env, "db", "import", "--source", "Debian", osvRecords(t, "DSA-5000-1")); r.code != 0 {
		t.Fatalf("db import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// This team's policy retires a failing image at once (no grace).
	pol := filepath.Join(home, "policy.yaml")
	if err := os.WriteFile(pol, []byte("service:\n  graceDays: 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	admin := createToken(t, env, "", "platform", "admin")
	ci := createToken(t, env, "", "ci", "submitter")
	if _, err := os.Stat(filepath.Join(home, "data", "shipshape", "shipshape.db")); err != nil {
		t.Fatalf("the default database is not under the data directory: %v", err)
	}
	srv := startServe(t, env, freeAddr(t), "--policy", pol, "--data-check", "1s")

	// CI submits the image it built: PASS, approved.
	ref := "registry.example.com/team/app:1.0"
	in := imagetest.WriteLayout(t, t.TempDir(), imagetest.Image(t, appSpec()), ref)
	ciEnv := append(processEnv("SHIPSHAPE_SKIP_VULNS=", "SHIPSHAPE_TOKEN=", "SHIPSHAPE_SERVER="), "SHIPSHAPE_SERVER="+srv.url, "SHIPSHAPE_TOKEN="+ci)
	r := runWith(t, ciEnv, "submit", "--ref", ref, in)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "PASS") || !strings.Contains(r.stdout, "approval  approved") {
		t.Fatalf("submit: exit %d\n%s%s\nserve:\n%s", r.code, r.stdout, r.stderr, srv.output())
	}
	digest := strings.Fields(r.stdout)[1]
	gate := append(processEnv("SHIPSHAPE_TOKEN=", "SHIPSHAPE_SERVER="), "SHIPSHAPE_SERVER="+srv.url, "SHIPSHAPE_TOKEN="+admin)
	for _, img := range []string{ref, "registry.example.com/team/app@" + digest} {
		if r := runWith(t, gate, "server", "allowed", img); r.code != 0 {
			t.Fatalf("server allowed %s: exit %d\n%s%s", img, r.code, r.stdout, r.stderr)
		}
	}

	// New advisories: libssl3 3.0.11-1~deb12u1 has CVE-2023-5363 (CVSS 7.5,
	// fixed in deb12u2). The service notices the import, re-judges the image
	// from its stored facts and retires it.
	if r := runWith(t, env, "db", "import", "--source", "Debian", osvRecords(t, "DSA-5000-1", "CVE-2023-5363", "DSA-5532-1")); r.code != 0 {
		t.Fatalf("db import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		r = runWith(t, gate, "server", "allowed", ref)
		if r.code == 1 {
			break
		}
		if r.code != 0 || time.Now().After(deadline) {
			t.Fatalf("server allowed after the import: exit %d\n%s%s\nserve:\n%s", r.code, r.stdout, r.stderr, srv.output())
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !strings.Contains(r.stdout+r.stderr, "CVE-2023-5363") && !strings.Contains(r.stdout+r.stderr, "SEC-020") {
		t.Errorf("the denial does not say why:\n%s%s", r.stdout, r.stderr)
	}
	r = runWith(t, gate, "server", "image", digest)
	if r.code != 0 || !strings.Contains(r.stdout, "approval  retired") || !strings.Contains(r.stdout, "CVE-2023-5363") {
		t.Errorf("server image: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runWith(t, gate, "server", "events", "--format", "json")
	var evs struct {
		Events []struct{ Actor, Action, Subject string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &evs); err != nil {
		t.Fatalf("server events: %v\n%s%s", err, r.stdout, r.stderr)
	}
	var actions []string
	for _, e := range evs.Events {
		if e.Subject == digest {
			actions = append(actions, e.Actor+" "+e.Action)
		}
	}
	if want := []string{"policy approval.retired", "system image.evaluated", "policy approval.approved", "ci image.evaluated"}; strings.Join(actions, ",") != strings.Join(want, ",") {
		t.Errorf("audit log of %s: %q, want %q", digest, actions, want)
	}
}

// appSpec is a Debian 12 image running as a user, with libssl3
// 3.0.11-1~deb12u1 (CVE-2023-5363 is fixed in deb12u2).
func appSpec() imagetest.Spec {
	s := serveSpec("readme")
	s.Layers[0] = imagetest.Debian()
	for i, f := range s.Layers[0] {
		if f.Path == "/var/lib/dpkg/status" {
			s.Layers[0][i].Content += "Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.11-1~deb12u1\nArchitecture: amd64\n\n"
		}
	}
	return s
}
