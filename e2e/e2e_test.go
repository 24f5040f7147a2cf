// Package e2e runs the real shipshape binary on real images: the fixture
// images built by testdata/fixtures/build.sh (Debian packages, docker build)
// through every source kind, and hostile images assembled in Go.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shipshape-e2e")
	if err != nil {
		log.Fatal(err)
	}
	bin = filepath.Join(dir, "shipshape")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/shipshape").CombinedOutput()
	if err != nil {
		log.Fatalf("building shipshape: %v\n%s", err, out)
	}
	// Most tests judge images without an advisory database: say so. The
	// vulnerability tests (vuln_test.go) import real OSV data and unset it.
	os.Setenv("SHIPSHAPE_SKIP_VULNS", "1")
	// Never ask the real GitHub API from the tests: MNT-007 uses cached
	// answers only; supplychain_test.go points it at a local server.
	os.Setenv("SHIPSHAPE_OFFLINE", "1")
	// The facts cache of this run only: tests that read an image twice use it.
	os.Setenv("SHIPSHAPE_CACHE_DIR", filepath.Join(dir, "facts-cache"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fixture returns the path of a fixture archive. In CI the fixtures must
// exist (.ci/run builds them); elsewhere the test is skipped without them.
func fixture(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("SHIPSHAPE_FIXTURES")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "shipshape", "fixtures")
	}
	p := filepath.Join(dir, name+".tar")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("fixture %s missing in CI: run testdata/fixtures/build.sh", p)
		}
		t.Skipf("fixture %s not built (run testdata/fixtures/build.sh)", p)
	}
	return p
}

type run struct {
	code   int
	stdout string
	stderr string
}

func shipshape(t *testing.T, args ...string) run {
	t.Helper()
	return runWith(t, os.Environ(), args...)
}

// runWith runs the binary with the environment env and returns its exit
// code and output; it fails the test when the binary cannot be run at all.
func runWith(t *testing.T, env []string, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return run{code, o.String(), e.String()}
}

type jsonReport struct {
	Schema   string  `json:"schema"`
	Duration float64 `json:"duration_seconds"`
	Image    struct {
		Source    string   `json:"source"`
		Reference string   `json:"reference"`
		Digest    string   `json:"digest"`
		Platform  string   `json:"platform"`
		Platforms []string `json:"platforms"`
		OS        *struct {
			ID        string `json:"id"`
			VersionID string `json:"version_id"`
		} `json:"os"`
		Layers []struct {
			Digest string `json:"digest"`
			DiffID string `json:"diff_id"`
		} `json:"layers"`
	} `json:"image"`
	Verdict struct {
		Pass   bool `json:"pass"`
		Grade  string
		Vetoes []finding `json:"vetoes"`
	} `json:"verdict"`
	Results []struct {
		Check struct {
			ID string `json:"id"`
		} `json:"check"`
		Status   string    `json:"status"`
		Findings []finding `json:"findings"`
	} `json:"results"`
	Inventory struct {
		Packages int `json:"packages"`
		Runtimes []struct {
			Product string `json:"product"`
			Version string `json:"version"`
		} `json:"runtimes"`
	} `json:"inventory"`
}

type finding struct {
	CheckID  string `json:"check_id"`
	Severity string `json:"severity"`
	Veto     bool   `json:"veto"`
	Title    string `json:"title"`
	Evidence []struct {
		Path        string `json:"path"`
		Layer       *int   `json:"layer"`
		LayerDigest string `json:"layer_digest"`
		Field       string `json:"field"`
		Value       string `json:"value"`
	} `json:"evidence"`
	Remediation string `json:"remediation"`
}

func checkJSON(t *testing.T, wantCode int, args ...string) jsonReport {
	t.Helper()
	return checkJSONCmd(t, "check", wantCode, args...)
}

// checkJSONCmd runs a judging command (check, probe) with JSON output.
func checkJSONCmd(t *testing.T, command string, wantCode int, args ...string) jsonReport {
	t.Helper()
	r := shipshape(t, append([]string{command, "--format", "json"}, args...)...)
	if r.code != wantCode {
		t.Fatalf("exit code %d, want %d\nstderr: %s\nstdout: %.2000s", r.code, wantCode, r.stderr, r.stdout)
	}
	var rep jsonReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%.500s", err, r.stdout)
	}
	return rep
}

func (r jsonReport) status(id string) (string, []finding) {
	for _, res := range r.Results {
		if res.Check.ID == id {
			return res.Status, res.Findings
		}
	}
	return "", nil
}

func (r jsonReport) mustHave(t *testing.T, id, status string, titleHas ...string) []finding {
	t.Helper()
	st, fs := r.status(id)
	if st != status {
		t.Fatalf("%s: status %q, want %q; findings %+v", id, st, status, fs)
	}
	for _, want := range titleHas {
		ok := false
		for _, f := range fs {
			ok = ok || strings.Contains(f.Title, want)
		}
		if !ok {
			t.Errorf("%s: no finding contains %q: %+v", id, want, fs)
		}
	}
	return fs
}

// Every finding must name its evidence.
func (r jsonReport) evidenceEverywhere(t *testing.T) {
	t.Helper()
	for _, res := range r.Results {
		for _, f := range res.Findings {
			if len(f.Evidence) == 0 {
				t.Errorf("%s %q has no evidence", f.CheckID, f.Title)
			}
			for _, e := range f.Evidence {
				if e.Layer != nil && !strings.HasPrefix(e.LayerDigest, "sha256:") {
					t.Errorf("%s: evidence names layer %d without its digest", f.CheckID, *e.Layer)
				}
			}
		}
	}
}

func TestDockerArchiveRootLatest(t *testing.T) {
	rep := checkJSON(t, 1, "docker-archive:"+fixture(t, "rootlatest"))
	if rep.Verdict.Pass || rep.Verdict.Grade != "F" {
		t.Fatalf("verdict %+v", rep.Verdict)
	}
	vetoes := map[string]bool{}
	for _, v := range rep.Verdict.Vetoes {
		vetoes[v.CheckID] = true
	}
	if !vetoes["REL-001"] || !vetoes["SEC-001"] {
		t.Errorf("want the latest and root vetoes, got %+v", rep.Verdict.Vetoes)
	}
	if rep.Image.OS == nil || rep.Image.OS.ID != "debian" || rep.Image.OS.VersionID != "12" {
		t.Errorf("OS %+v", rep.Image.OS)
	}
	if rep.Inventory.Packages < 80 {
		t.Errorf("a debootstrap minbase has ~88 packages, got %d", rep.Inventory.Packages)
	}
	rep.mustHave(t, "CMP-005", "fail", "DB_PASSWORD", "GitHub token", "npm token")
	rep.mustHave(t, "MNT-008", "fail", "apt-get update", ".git directory", "Dockerfile")
	rep.mustHave(t, "SEC-004", "fail", "/opt/shared")
	rep.mustHave(t, "REL-005", "fail", "will not forward SIGTERM")
	rep.mustHave(t, "REL-006", "fail", "/var/log/app")
	rep.mustHave(t, "MNT-006", "fail", "10.20.30.40")
	setuid := rep.mustHave(t, "SEC-003", "fail", "/usr/bin/su is setuid", "/usr/bin/passwd is setuid")
	for _, f := range setuid {
		if e := f.Evidence[0]; e.Layer == nil || *e.Layer != 0 || e.LayerDigest != rep.Image.Layers[0].Digest {
			t.Errorf("setuid from debootstrap must point at layer 0: %+v", e)
		}
	}
	rep.evidenceEverywhere(t)
	raw := shipshape(t, "check", "--format", "json", fixture(t, "rootlatest")).stdout
	if strings.Contains(raw, "hunter2-Prod-Secret") || strings.Contains(raw, "ghp_") && !strings.Contains(raw, "ghp_*") {
		t.Error("the JSON report leaks a secret value")
	}
}

func TestDockerArchiveWebappPasses(t *testing.T) {
	rep := checkJSON(t, 0, fixture(t, "webapp"))
	if !rep.Verdict.Pass || len(rep.Verdict.Vetoes) != 0 {
		t.Fatalf("the well-built webapp must pass: %+v", rep.Verdict)
	}
	for _, id := range []string{"SEC-001", "SEC-002", "REL-002", "REL-003", "REL-004", "REL-005", "REL-007", "CMP-005"} {
		rep.mustHave(t, id, "pass")
	}
	rep.mustHave(t, "MNT-001", "pass")
	fs := rep.mustHave(t, "REL-001", "fail", `tag "1.4.2" without a digest`)
	if fs[0].Veto {
		t.Error("a version tag is not a veto")
	}
	goRuntime := false
	for _, rt := range rep.Inventory.Runtimes {
		goRuntime = goRuntime || rt.Product == "go" && strings.HasPrefix("go"+rt.Version, runtime.Version()[:6])
	}
	if !goRuntime {
		t.Errorf("the webapp's Go toolchain must be found from its build info: %+v", rep.Inventory.Runtimes)
	}
}

func TestDockerArchiveBrokenHealth(t *testing.T) {
	// An entrypoint that cannot run is a veto of the default policy.
	rep := checkJSON(t, 1, fixture(t, "brokenhealth"))
	rep.mustHave(t, "REL-003", "fail", "curl")
	rep.mustHave(t, "REL-004", "fail", "/usr/bin/python3")
	rep.mustHave(t, "SEC-002", "fail", "nosuchuser")
	rep.mustHave(t, "REL-001", "fail", "moving tag")
	if !vetoed(rep.Verdict.Vetoes, "REL-004") {
		t.Errorf("REL-004 is not a veto: %+v", rep.Verdict.Vetoes)
	}
}

func TestDockerArchiveScratchAndNginx(t *testing.T) {
	rep := checkJSON(t, 0, fixture(t, "scratch"))
	rep.mustHave(t, "SEC-008", "pass", "base: scratch")
	rep.mustHave(t, "SEC-005", "pass")
	rep.mustHave(t, "REL-004", "pass")
	ng := checkJSON(t, 1, fixture(t, "nginx"))
	ng.mustHave(t, "REL-006", "pass")
	ng.mustHave(t, "SEC-001", "fail", "runs as root")
	ng.mustHave(t, "REL-004", "pass")
}

func TestDockerArchiveDeletedSecretsLayers(t *testing.T) {
	// Credentials, even deleted by a later layer, are a veto of the default policy.
	rep := checkJSON(t, 1, fixture(t, "secrets"))
	if !vetoed(rep.Verdict.Vetoes, "CMP-004") {
		t.Errorf("CMP-004 is not a veto: %+v", rep.Verdict.Vetoes)
	}
	if len(rep.Image.Layers) < 3 {
		t.Fatalf("layers %+v", rep.Image.Layers)
	}
}

func TestTableOutput(t *testing.T) {
	r := shipshape(t, "check", "--explain", fixture(t, "rootlatest"))
	if r.code != 1 {
		t.Fatalf("code %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"Verdict   FAIL", "Vetoes", "REL-001", "SEC-001", "SECURITY", "RELIABILITY", "MAINTAINABILITY", "COMPLIANCE", "evidence:", "fix:", "Scoring", "grade F"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table output lacks %q", want)
		}
	}
	if strings.Contains(r.stdout, "\x1b[") {
		t.Error("no colour when stdout is not a terminal")
	}
	out := filepath.Join(t.TempDir(), "sub", "report.json")
	r = shipshape(t, "check", "--format", "json", "-o", out, fixture(t, "webapp"))
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("-o: code %d stdout %q stderr %s", r.code, r.stdout, r.stderr)
	}
	if data, err := os.ReadFile(out); err != nil || !json.Valid(data) {
		t.Fatalf("-o wrote no valid JSON: %v", err)
	}
}

// toLayout converts a fixture archive into an OCI layout with gzip layers.
func toLayout(t *testing.T, archive, ref string) string {
	t.Helper()
	img, err := tarball.ImageFromPath(archive, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	return imagetest.WriteLayout(t, dir, img, ref)
}

func TestOCILayout(t *testing.T) {
	input := toLayout(t, fixture(t, "webapp"), "1.4.2")
	rep := checkJSON(t, 0, input+":1.4.2")
	if rep.Image.Source != "oci" || !strings.HasPrefix(rep.Image.Digest, "sha256:") {
		t.Fatalf("image %+v", rep.Image)
	}
	for _, l := range rep.Image.Layers {
		if l.Digest == l.DiffID {
			t.Errorf("layout layers are gzip: digest and diff ID must differ: %+v", l)
		}
	}
	rep.mustHave(t, "REL-004", "pass")
	// The bare directory works as well; a wrong ref is an input error.
	checkJSON(t, 0, strings.TrimPrefix(input, "oci:"))
	r := shipshape(t, "check", input+":nope")
	if r.code != 2 || !strings.Contains(r.stderr, "nope") {
		t.Errorf("wrong ref: code %d stderr %s", r.code, r.stderr)
	}
}

// startRegistry serves a registry on 127.0.0.1 for the test.
func startRegistry(t *testing.T) string { return imagetest.Registry(t) }

func TestRegistry(t *testing.T) {
	host := startRegistry(t)
	img, err := tarball.ImageFromPath(fixture(t, "webapp"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.NewTag(host + "/team/webapp:1.4.2")
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	digest, _ := img.Digest()
	rep := checkJSON(t, 0, ref.String())
	if rep.Image.Source != "registry" || rep.Image.Digest != digest.String() {
		t.Fatalf("image %+v, want digest %s", rep.Image, digest)
	}
	fs := rep.mustHave(t, "REL-001", "fail", "without a digest")
	want := host + "/team/webapp@" + digest.String()
	if !strings.Contains(fs[0].Remediation, want) {
		t.Errorf("REL-001 must give the exact pinned reference %s: %s", want, fs[0].Remediation)
	}
	pinned := checkJSON(t, 0, want)
	pinned.mustHave(t, "REL-001", "pass")

	latest, _ := name.NewTag(host + "/team/webapp:latest")
	remote.Write(latest, img)
	lr := checkJSON(t, 1, "registry:"+host+"/team/webapp")
	lr.mustHave(t, "REL-001", "fail", "untagged")
}

func TestRegistryIndexPlatforms(t *testing.T) {
	host := startRegistry(t)
	mk := func(arch string, machine uint16) v1.Image {
		files := []imagetest.File{imagetest.Exec("/app", imagetest.ELF(machine, ""))}
		if arch == "arm64" { // a difference between the platforms, for --all-platforms
			files = append(files, imagetest.File{Path: "/usr/bin/helper", Content: "x", Mode: 04755})
		}
		return imagetest.Image(t, imagetest.Spec{Arch: arch, Layers: [][]imagetest.File{files},
			Config: v1.Config{Entrypoint: []string{"/app"}, User: "65532"}})
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: mk("amd64", 62), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: mk("arm64", 183), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
	)
	ref, _ := name.NewTag(host + "/multi/app:2.1.0")
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	rep := checkJSON(t, 0, "--platform", "linux/arm64", ref.String())
	if rep.Image.Platform != "linux/arm64" || len(rep.Image.Platforms) != 2 {
		t.Fatalf("platforms: %+v", rep.Image)
	}
	rep.mustHave(t, "REL-004", "pass")
	rep.mustHave(t, "MNT-005", "pass", "multi-platform index with 2 platforms")
	r := shipshape(t, "check", "--platform", "linux/s390x", ref.String())
	if r.code != 2 || !strings.Contains(r.stderr, "linux/amd64") {
		t.Errorf("missing platform must list the available ones: %d %s", r.code, r.stderr)
	}
	// Every platform judged, and how arm64 differs from amd64.
	r = shipshape(t, "check", "--all-platforms", "--format", "json", ref.String())
	var all struct {
		Platforms []struct {
			Image struct{ Platform string } `json:"image"`
		} `json:"platforms"`
		Differences []struct {
			FindingsAdded []finding `json:"findings_added"`
		} `json:"differences"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &all); err != nil || r.code != 0 {
		t.Fatalf("--all-platforms: code %d err %v stderr %s", r.code, err, r.stderr)
	}
	if len(all.Platforms) != 2 || !strings.HasPrefix(all.Platforms[1].Image.Platform, "linux/arm64") || len(all.Differences) != 1 {
		t.Fatalf("--all-platforms: %+v", all)
	}
	added := false
	for _, f := range all.Differences[0].FindingsAdded {
		added = added || f.CheckID == "SEC-003" && strings.Contains(f.Title, "/usr/bin/helper")
		if f.CheckID != "SEC-003" {
			t.Errorf("only the setuid file differs between the platforms, not %s %q", f.CheckID, f.Title)
		}
	}
	if !added {
		t.Errorf("the arm64-only setuid file must show as a difference: %+v", all.Differences[0])
	}
	if r := shipshape(t, "check", "--all-platforms", "--format", "sarif", ref.String()); r.code != 2 {
		t.Errorf("--all-platforms with sarif: %d", r.code)
	}
}

func dockerAvailable() bool {
	return exec.Command("docker", "info").Run() == nil
}

func TestDockerDaemon(t *testing.T) {
	archive := fixture(t, "webapp")
	if !dockerAvailable() {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must start dockerd")
		}
		t.Skip("no Docker engine")
	}
	if exec.Command("docker", "image", "inspect", "shipshape-fixture/webapp:1.4.2").Run() != nil {
		if out, err := exec.Command("docker", "load", "-i", archive).CombinedOutput(); err != nil {
			t.Fatalf("docker load: %v %s", err, out)
		}
	}
	rep := checkJSON(t, 0, "docker-daemon:shipshape-fixture/webapp:1.4.2")
	if rep.Image.Source != "docker-daemon" {
		t.Fatalf("%+v", rep.Image)
	}
	rep.mustHave(t, "SEC-001", "pass")
	rep.mustHave(t, "REL-003", "pass")
	r := shipshape(t, "check", "docker-daemon:shipshape-fixture/nope:0")
	if r.code != 2 || !strings.Contains(r.stderr, "does not have this image") {
		t.Errorf("missing daemon image: %d %s", r.code, r.stderr)
	}
}

func TestDaemonUnreachable(t *testing.T) {
	r := shipshapeEnv(t, []string{"DOCKER_HOST=unix:///nonexistent/docker.sock"}, "check", "docker-daemon:whatever:1")
	if r.code != 2 || !strings.Contains(r.stderr, "/nonexistent/docker.sock") {
		t.Errorf("unreachable engine: code %d stderr %s", r.code, r.stderr)
	}
}

func shipshapeEnv(t *testing.T, env []string, args ...string) run {
	t.Helper()
	return runWith(t, append(os.Environ(), env...), args...)
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"missing file", []string{"check", "docker-archive:" + dir + "/nope.tar"}, []string{"no such file"}},
		{"missing bare path", []string{"check", dir + "/nope.tar"}, []string{"no such file"}},
		{"not an archive", []string{"check", "docker-archive:" + writeFile(t, dir, "junk.tar", "this is not a tarball")}, []string{"not a docker-archive"}},
		{"dir without index.json", []string{"check", "oci:" + dir}, []string{"not an OCI layout"}},
		{"unreachable registry", []string{"check", "127.0.0.1:1/team/app:1.0"}, []string{"127.0.0.1:1"}},
		{"bad reference", []string{"check", "registry:UPPER/Case:tag"}, []string{"bad reference"}},
		{"no argument", []string{"check"}, []string{"one IMAGE"}},
		{"bad flag value", []string{"check", "--fail-on", "sometimes", "x"}, []string{"unknown severity"}},
		{"bad format", []string{"check", "--format", "xml", "x"}, []string{"want one of table, json, sarif"}},
		{"bad platform", []string{"check", "--platform", "linux", "x"}, []string{"platform"}},
		{"unknown flag", []string{"check", "--nope", "x"}, []string{"unknown flag"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := shipshape(t, c.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr %s", r.code, r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q: %s", w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "panic") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 2 {
				t.Errorf("want a short error, got: %s", r.stderr)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// hostileLayout writes a one-layer OCI layout whose layer blob is replaced by data
// (keeping or breaking the manifest's digest as given).
func hostileLayout(t *testing.T, files []imagetest.File, mutateBlob func([]byte) []byte) string {
	t.Helper()
	img := imagetest.Image(t, imagetest.Spec{Layers: [][]imagetest.File{files}, Config: v1.Config{Entrypoint: []string{"/x"}}})
	dir := t.TempDir()
	input := imagetest.WriteLayout(t, dir, img, "1.0")
	if mutateBlob != nil {
		ls, _ := img.Layers()
		d, _ := ls[0].Digest()
		p := filepath.Join(dir, "blobs", d.Algorithm, d.Hex)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, mutateBlob(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return input
}

func TestHostileImages(t *testing.T) {
	ok := []imagetest.File{imagetest.Text("/etc/passwd", "root:x:0:0::/:/bin/sh\n"), imagetest.Exec("/x", imagetest.ELF(62, ""))}
	cases := []struct {
		name  string
		files []imagetest.File
		blob  func([]byte) []byte
		want  []string
	}{
		{"path traversal", []imagetest.File{imagetest.Text("../../etc/cron.d/evil", "x")}, nil, []string{"layer 0", "../../etc/cron.d/evil", "climbs out"}},
		{"truncated layer", ok, func(b []byte) []byte { return b[:len(b)/2] }, []string{"layer 0", "unexpected EOF"}},
		{"corrupted gzip", ok, func(b []byte) []byte {
			c := append([]byte{}, b...)
			for i := 20; i < len(c)-8; i += 7 {
				c[i] ^= 0x5a
			}
			return c
		}, []string{"layer 0"}},
		{"digest mismatch", ok, func(b []byte) []byte {
			// A valid gzip stream of other content: only the digest check can catch it.
			return gzipOf(t, imagetest.LayerTar([]imagetest.File{imagetest.Text("/other", "y")}))
		}, []string{"layer 0", "digest mismatch"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			input := hostileLayout(t, c.files, c.blob)
			r := shipshape(t, "check", input)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\nstderr: %s", r.code, r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q: %s", w, r.stderr)
				}
			}
		})
	}
}

func TestSymlinkLoopsAreNotErrors(t *testing.T) {
	files := []imagetest.File{
		imagetest.Symlink("/loop/a", "b"), imagetest.Symlink("/loop/b", "a"),
		imagetest.Symlink("/usr/bin/app", "../../../../../../opt/app"),
		imagetest.Exec("/opt/app", imagetest.ELF(62, "")),
		imagetest.Symlink("/etc/alternatives/x", "/loop/a"),
	}
	img := imagetest.Image(t, imagetest.Spec{Layers: [][]imagetest.File{files}, Config: v1.Config{Entrypoint: []string{"/usr/bin/app"}, User: "1000",
		Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/etc/alternatives/x"}}}})
	input := imagetest.WriteLayout(t, t.TempDir(), img, "1.0")
	rep := checkJSON(t, 0, input)
	rep.mustHave(t, "REL-004", "pass")
	rep.mustHave(t, "REL-003", "fail", "too many levels of symbolic links")
}

func gzipOf(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := newGzip(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

// vetoed says whether one of the vetoes is of check id.
func vetoed(vs []finding, id string) bool {
	for _, v := range vs {
		if v.CheckID == id {
			return true
		}
	}
	return false
}
