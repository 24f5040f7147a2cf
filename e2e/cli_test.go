package e2e

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The ids of a fixture archive: its config digest (the image ID).
func imageID(t *testing.T, archive string) string {
	t.Helper()
	img, err := tarball.ImageFromPath(archive, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return c.String()
}

// A 12-byte text file and a truncated `docker save` get different errors
// (issue 15, item 13): both used to be "is not a docker-archive tarball:
// unexpected EOF".
func TestNotTarVersusTruncatedSave(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.tar")
	os.WriteFile(text, []byte("hello world\n"), 0o644)
	r := shipshape(t, "check", text)
	if r.code != 2 || !strings.Contains(r.stderr, "is not a tar archive (12 bytes") {
		t.Errorf("text file: exit %d: %s", r.code, r.stderr)
	}
	src, err := os.Open(fixture(t, "webapp"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	fi, _ := src.Stat()
	cut := filepath.Join(dir, "cut.tar")
	dst, _ := os.Create(cut)
	io.CopyN(dst, src, fi.Size()/2)
	dst.Close()
	r = shipshape(t, "check", cut)
	if r.code != 2 || !strings.Contains(r.stderr, "is truncated at layer") || !strings.Contains(r.stderr, "bytes present") {
		t.Errorf("truncated docker save: exit %d: %s", r.code, r.stderr)
	}
}

// --ref's digest is verified against the image: a docker-archive (Docker
// 20.10 writes no manifest) cannot prove it, an OCI layout's must be its
// manifest digest; both digests are named (issue 15, item 13).
func TestRefDigestVerifiedOnFixtures(t *testing.T) {
	arc := fixture(t, "webapp")
	id := imageID(t, arc)
	zeros := "sha256:" + strings.Repeat("0", 64)
	r := shipshape(t, "check", "--ref", "registry.example.com/app@"+zeros, arc)
	if r.code != 2 || !strings.Contains(r.stderr, "--ref pins "+zeros) || !strings.Contains(r.stderr, id) {
		t.Errorf("archive: exit %d: %s", r.code, r.stderr)
	}
	lay := toLayout(t, arc, "1.4.2")
	r = shipshape(t, "check", "--ref", "registry.example.com/app@"+zeros, lay)
	if r.code != 2 || !strings.Contains(r.stderr, "--ref pins "+zeros) || !strings.Contains(r.stderr, "manifest digest sha256:") {
		t.Errorf("layout: exit %d: %s", r.code, r.stderr)
	}
	manifest := checkJSON(t, 0, lay).Image.Digest
	rep := checkJSON(t, 0, "--ref", "registry.example.com/app:1.4.2@"+manifest, lay)
	rep.mustHave(t, "REL-001", "pass")
}

// A docker-archive reports its image ID (the config digest) and says it has
// no manifest digest, in the table, the JSON image and JUnit.
func TestArchiveImageID(t *testing.T) {
	arc := fixture(t, "webapp")
	id := imageID(t, arc)
	r := shipshape(t, "check", "--format", "json", arc)
	var rep struct {
		Image struct {
			Digest  string `json:"digest"`
			ImageID string `json:"image_id"`
		} `json:"image"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Image.ImageID != id || rep.Image.Digest != "" {
		t.Errorf("image %+v, want image_id %s", rep.Image, id)
	}
	table := shipshape(t, "check", arc).stdout
	if !strings.Contains(table, "Image ID  "+id+" (config digest)") || !strings.Contains(table, "Digest    none: a docker-archive carries no manifest") {
		t.Errorf("table:\n%.800s", table)
	}
	junit := filepath.Join(t.TempDir(), "r.xml")
	shipshape(t, "check", "-o", "junit="+junit, arc)
	data, _ := os.ReadFile(junit)
	if !strings.Contains(string(data), `name="image_id" value="`+id+`"`) || strings.Contains(string(data), `value=""`) {
		t.Errorf("junit:\n%.800s", data)
	}
}

// --platform linux/arm64 on a single-platform amd64 archive is exit 2.
func TestPlatformOfSinglePlatformArchive(t *testing.T) {
	r := shipshape(t, "check", "--platform", "linux/arm64", fixture(t, "webapp"))
	if r.code != 2 || !strings.Contains(r.stderr, "single-platform linux/amd64 image") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
}

// A registry is named on stderr when contacted; --network=none makes no
// connection, so a registry reference is exit 2 naming the flag.
func TestNetworkNoneAndNotice(t *testing.T) {
	host := startRegistry(t)
	img, err := tarball.ImageFromPath(fixture(t, "webapp"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.NewTag(host + "/team/webapp:1.4.2")
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	r := shipshape(t, "check", ref.String())
	if r.code != 0 || strings.Count(r.stderr, "shipshape: network: contacting "+host+": the image registry") != 1 {
		t.Errorf("exit %d, stderr: %s", r.code, r.stderr)
	}
	r = shipshape(t, "check", "--network", "none", ref.String())
	if r.code != 2 || !strings.Contains(r.stderr, "--network=none allows no connection") || strings.Contains(r.stderr, "contacting") {
		t.Errorf("--network=none: exit %d, stderr: %s", r.code, r.stderr)
	}
	r = shipshapeEnv(t, append(os.Environ(), "SHIPSHAPE_NETWORK=none"), "check", fixture(t, "webapp"))
	if r.code != 0 || strings.Contains(r.stderr, "contacting") {
		t.Errorf("an archive under SHIPSHAPE_NETWORK=none: exit %d, stderr: %s", r.code, r.stderr)
	}
}

// `shipshape --version` works, as `shipshape version` does.
func TestVersionFlagE2E(t *testing.T) {
	a, b := shipshape(t, "--version"), shipshape(t, "version")
	if a.code != 0 || a.stdout != b.stdout || !strings.HasPrefix(a.stdout, "shipshape ") {
		t.Errorf("--version: exit %d %q %q; version %q", a.code, a.stdout, a.stderr, b.stdout)
	}
}

// The probe's report says how long the whole run took, not only the
// judgement (it said "Judged in 0.19s" for an 11.5 s run).
func TestProbeDurationIsTheRun(t *testing.T) {
	requireEngine(t)
	start := time.Now()
	r := shipshape(t, append(append([]string{"probe", "--format", "json"}, fastProbe...), "--metrics-path", "/metrics", fixture(t, "webapp"))...)
	wall := time.Since(start).Seconds()
	noProbeLeftovers(t)
	var rep jsonReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("exit %d: %v\n%s", r.code, err, r.stderr)
	}
	if rep.Duration < 0.8*wall {
		t.Errorf("duration %.2f s for a run of %.2f s", rep.Duration, wall)
	}
}
