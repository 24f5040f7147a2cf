package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/shipshape-dev/shipshape/internal/forge/forgetest"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

// The end-to-end tests never ask the public GitHub API: fixture images carry
// source labels, and MNT-007 would otherwise look them up. Tests of MNT-007
// pass --offline=false and --forge-url of a local server.

// cosign finds the pinned cosign CLI (see imagetest.Cosign).
func cosign(t *testing.T) string { return imagetest.Cosign(t) }

// runCosign runs cosign offline: no transparency log, no signing config from the network.
func runCosign(t *testing.T, bin, dir string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=", "SIGSTORE_NO_CACHE=1", "TUF_ROOT="+filepath.Join(dir, "tuf"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
}

var offlineSign = []string{"--tlog-upload=false", "--use-signing-config=false", "--allow-insecure-registry", "--yes"}

// webappVariant is the webapp fixture with its labels changed.
func webappVariant(t *testing.T, labels map[string]string) v1.Image {
	t.Helper()
	img, err := tarball.ImageFromPath(fixture(t, "webapp"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg := cf.Config
	cfg.Labels = map[string]string{}
	for k, v := range cf.Config.Labels {
		cfg.Labels[k] = v
	}
	for k, v := range labels {
		if v == "" {
			delete(cfg.Labels, k)
		} else {
			cfg.Labels[k] = v
		}
	}
	out, err := mutate.Config(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func push(t *testing.T, img v1.Image, ref string) name.Digest {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	return tag.Context().Digest(d.String())
}

func writePolicy(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func veto(rep jsonReport, id string) *finding {
	for i, v := range rep.Verdict.Vetoes {
		if v.CheckID == id {
			return &rep.Verdict.Vetoes[i]
		}
	}
	return nil
}

// The "done when": a signed image in a local registry reports its
// signer and passes a requireSignature policy; every tampered case fails.
func TestSignedImageInRegistry(t *testing.T) {
	bin := cosign(t)
	dir := t.TempDir()
	runCosign(t, bin, dir, "generate-key-pair", "--output-key-prefix", "release")
	runCosign(t, bin, dir, "generate-key-pair", "--output-key-prefix", "intruder")
	host := startRegistry(t)
	signed := push(t, webappVariant(t, nil), host+"/team/webapp:1.4.2")
	runCosign(t, bin, dir, append(append([]string{"sign", "--key", "release.key"}, offlineSign...), signed.String())...)
	pred, _ := filepath.Abs("../internal/signature/testdata/slsa02-buildkit.json")
	runCosign(t, bin, dir, append(append([]string{"attest", "--key", "release.key", "--type", "slsaprovenance", "--predicate", pred}, offlineSign...), signed.String())...)

	policy := writePolicy(t, dir, "requireSignature: true\nsignatures:\n  keys: [release.pub]\n")
	rep := checkJSON(t, 0, "--skip-vulns", "--policy", policy, signed.String())
	fs := rep.mustHave(t, "SEC-031", "pass", "signed by key release.pub (sha256:", "over "+signed.DigestStr())
	if fs[0].Evidence[0].Value != signed.DigestStr() {
		t.Errorf("evidence must name the digest: %+v", fs[0].Evidence)
	}
	rep.mustHave(t, "SEC-032", "fail", "SLSA provenance attestation (sigstore bundle (OCI referrer), verified by key release.pub",
		"source https://github.com/shipshape-dev/webapp at 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", "no SBOM attestation")
	rep.mustHave(t, "MNT-007", "skipped")

	// The same image under a policy that trusts another key.
	wrong := writePolicy(t, t.TempDir(), "requireSignature: true\nsignatures:\n  keys: ["+filepath.Join(dir, "intruder.pub")+"]\n")
	rep = checkJSON(t, 1, "--skip-vulns", "--policy", wrong, signed.String())
	if v := veto(rep, "SEC-031"); v == nil || !strings.Contains(v.Title, "does not verify") {
		t.Errorf("wrong key: vetoes %+v", rep.Verdict.Vetoes)
	}

	// An unsigned image.
	unsigned := push(t, webappVariant(t, map[string]string{"org.opencontainers.image.revision": "unsigned"}), host+"/team/webapp:1.4.3")
	rep = checkJSON(t, 1, "--skip-vulns", "--policy", policy, unsigned.String())
	if v := veto(rep, "SEC-031"); v == nil || !strings.Contains(v.Title, "not signed") {
		t.Errorf("unsigned: vetoes %+v", rep.Verdict.Vetoes)
	}

	// The signature of the signed image, attached to another one (legacy .sig tag).
	runCosign(t, bin, dir, append(append([]string{"sign", "--key", "release.key", "--new-bundle-format=false"}, offlineSign...), signed.String())...)
	sigTag := func(d name.Digest) name.Tag {
		return d.Context().Tag(strings.Replace(d.DigestStr(), ":", "-", 1) + ".sig")
	}
	sigImg, err := remote.Image(sigTag(signed))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(sigTag(unsigned), sigImg); err != nil {
		t.Fatal(err)
	}
	rep = checkJSON(t, 1, "--skip-vulns", "--policy", policy, unsigned.String())
	v := veto(rep, "SEC-031")
	if v == nil || v.Severity != "critical" || !strings.Contains(v.Title, "signs "+signed.DigestStr()+", not this image") {
		t.Errorf("copied signature: vetoes %+v", rep.Verdict.Vetoes)
	}
	// Without requireSignature the copied signature is still critical, but not a veto.
	keysOnly := writePolicy(t, t.TempDir(), "signatures:\n  keys: ["+filepath.Join(dir, "release.pub")+"]\n")
	rep = checkJSON(t, 0, "--skip-vulns", "--policy", keysOnly, unsigned.String())
	rep.mustHave(t, "SEC-031", "fail", "not this image")

	// A docker-archive carries no signatures: required, that is a veto naming why.
	rep = checkJSON(t, 1, "--skip-vulns", "--policy", policy, fixture(t, "webapp"))
	if v := veto(rep, "SEC-031"); v == nil || !strings.Contains(v.Title, "docker-archive") {
		t.Errorf("archive: vetoes %+v", rep.Verdict.Vetoes)
	}
	checkJSON(t, 0, "--skip-vulns", fixture(t, "webapp")).mustHave(t, "SEC-031", "skipped")
}

// The "done when" for MNT-007: the staleness veto fires on a stale or
// archived upstream, and --offline says what it could not check.
func TestUpstreamMaintenance(t *testing.T) {
	srv := forgetest.New(t, time.Now())
	cache := t.TempDir()
	variant := func(source string) string {
		return imagetest.WriteLayout(t, t.TempDir(), webappVariant(t, map[string]string{"org.opencontainers.image.source": source}), "1.4.2")
	}
	online := func(want int, input string) jsonReport {
		t.Helper()
		return checkJSON(t, want, "--skip-vulns", "--offline=false", "--forge-url", srv.URL, "--forge-cache-dir", cache, input)
	}
	fresh := online(0, variant("https://github.com/shipshape-dev/webapp"))
	fresh.mustHave(t, "MNT-007", "pass", "upstream github.com/shipshape-dev/webapp: last commit on main", "last release v1.4.2")

	stale := online(1, variant("https://github.com/shipshape-dev/legacy-tool"))
	if v := veto(stale, "MNT-007"); v == nil || !strings.Contains(v.Title, "no commit on master for") {
		t.Errorf("stale: vetoes %+v", stale.Verdict.Vetoes)
	}
	archived := online(1, variant("https://github.com/shipshape-dev/oldlib"))
	if v := veto(archived, "MNT-007"); v == nil || !strings.Contains(v.Title, "archived") {
		t.Errorf("archived: vetoes %+v", archived.Verdict.Vetoes)
	}
	online(0, variant("https://github.com/shipshape-dev/gone")).mustHave(t, "MNT-007", "fail", "does not exist")
	online(0, variant("https://github.com/broken/app")).mustHave(t, "MNT-007", "fail", "500")
	// A rate limit is a finding, never a pass, and is remembered until it lifts.
	limited := t.TempDir()
	checkJSON(t, 0, "--skip-vulns", "--offline=false", "--forge-url", srv.URL, "--forge-cache-dir", limited, variant("https://github.com/ratelimited/app")).
		mustHave(t, "MNT-007", "fail", "rate limit exceeded")
	n := len(srv.Requests())
	checkJSON(t, 0, "--skip-vulns", "--offline=false", "--forge-url", srv.URL, "--forge-cache-dir", limited, variant("https://github.com/shipshape-dev/webapp")).
		mustHave(t, "MNT-007", "fail", "rate limit exceeded")
	if len(srv.Requests()) != n {
		t.Errorf("a rate-limited forge was asked again")
	}

	// Offline: the stale answer is cached, so the veto holds; an unknown
	// repository is skipped, and the report says so.
	off := variant("https://github.com/shipshape-dev/legacy-tool")
	checkJSON(t, 1, "--skip-vulns", "--offline", "--forge-cache-dir", cache, off)
	before := len(srv.Requests())
	r := shipshape(t, "check", "--format", "json", "--skip-vulns", "--offline", "--forge-cache-dir", t.TempDir(), off)
	if r.code != 0 || len(srv.Requests()) != before {
		t.Fatalf("offline without a cache: code %d, %d requests\n%s", r.code, len(srv.Requests())-before, r.stderr)
	}
	var raw struct {
		Warnings []string `json:"warnings"`
		Results  []struct {
			Check  struct{ ID string }
			Status string
			Note   string
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(raw.Warnings, "\n"), "github.com/shipshape-dev/legacy-tool not checked: --offline") {
		t.Errorf("warnings %v", raw.Warnings)
	}
	for _, res := range raw.Results {
		if res.Check.ID == "MNT-007" && (res.Status != "skipped" || !strings.Contains(res.Note, "--offline")) {
			t.Errorf("MNT-007 offline: %+v", res)
		}
	}

	// The token goes to the forge.
	tok := shipshapeEnv(t, []string{"GITHUB_TOKEN=e2e-token"}, "check", "--format", "json", "--skip-vulns", "--offline=false", "--forge-url", srv.URL,
		"--forge-cache-dir", t.TempDir(), variant("https://github.com/shipshape-dev/webapp"))
	if tok.code != 0 {
		t.Fatalf("code %d: %s", tok.code, tok.stderr)
	}
	reqs := srv.Requests()
	if last := reqs[len(reqs)-1]; last.Auth != "Bearer e2e-token" {
		t.Errorf("GITHUB_TOKEN not sent: %+v", last)
	}
	// A bad forge URL is a usage error.
	if r := shipshape(t, "check", "--forge-url", "::nope", fixture(t, "webapp")); r.code != 2 || !strings.Contains(r.stderr, "--forge-url") {
		t.Errorf("bad --forge-url: %d %s", r.code, r.stderr)
	}
}
