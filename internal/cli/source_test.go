package cli

import (
	"archive/tar"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

func serverImage(t *testing.T, cfg v1.Config) v1.Image {
	t.Helper()
	if cfg.User == "" {
		cfg.User = "1000"
	}
	cfg.Entrypoint = []string{"/app/server"}
	return imagetest.Image(t, imagetest.Spec{
		Layers: [][]imagetest.File{{
			imagetest.Dir("/app"),
			imagetest.Exec("/app/server", imagetest.ELF(62, "")),
			imagetest.Text("/etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\napp:x:1000:1000::/app:/sbin/nologin\n"),
		}},
		Config: cfg,
	})
}

func digestOf(t *testing.T, img v1.Image) (manifest, config string) {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	c, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return d.String(), c.String()
}

// --platform on a single-platform image that is another platform is a
// usage error (it used to judge the amd64 image silently).
func TestPlatformOfSingleImage(t *testing.T) {
	isolate(t)
	img := serverImage(t, v1.Config{})
	for _, in := range []string{
		imagetest.WriteLayout(t, filepath.Join(t.TempDir(), "layout"), img, "1.0.0"),
		imagetest.WriteArchive(t, filepath.Join(t.TempDir(), "app.tar"), img, "registry.example/app:1.0.0"),
	} {
		r := run(t, "check", "--platform", "linux/arm64", in)
		wantCode(t, r, ExitInput)
		if !strings.Contains(r.stderr, "--platform linux/arm64: this is a single-platform linux/amd64 image") {
			t.Errorf("%s: stderr %s", in, r.stderr)
		}
		wantCode(t, run(t, "check", "--platform", "linux/amd64", in), ExitPass)
	}
}

// An OCI layout whose only name is a bare "latest" gives no reference:
// REL-001 says there is none and names the manifest digest, instead of
// "`latest` tag "" is not pinned".
func TestLayoutWithoutReference(t *testing.T) {
	isolate(t)
	img := serverImage(t, v1.Config{})
	manifest, _ := digestOf(t, img)
	for _, name := range []string{"", "latest"} {
		in := imagetest.WriteLayout(t, filepath.Join(t.TempDir(), "layout"), img, name)
		r := run(t, "check", "--format", "json", in)
		wantCode(t, r, ExitPolicy)
		rep := readReport(t, r.stdout)
		found := false
		for _, res := range rep.Results {
			for _, f := range res.Findings {
				if f.CheckID != "REL-001" {
					continue
				}
				found = true
				if strings.Contains(f.Title, `""`) || !strings.Contains(f.Title, "no tag and no digest") {
					t.Errorf("ref.name %q: REL-001 %q", name, f.Title)
				}
				if !strings.Contains(f.Remediation, "@"+manifest) {
					t.Errorf("ref.name %q: the fix does not name the digest: %s", name, f.Remediation)
				}
			}
		}
		if !found {
			t.Errorf("ref.name %q: no REL-001 finding", name)
		}
	}
}

// A huge image config is refused from its size, before it is read.
func TestHugeConfigRefused(t *testing.T) {
	isolate(t)
	img := serverImage(t, v1.Config{Labels: map[string]string{"junk": strings.Repeat("x", 9<<20)}})
	for _, in := range []string{
		imagetest.WriteArchive(t, filepath.Join(t.TempDir(), "app.tar"), img, "registry.example/app:1.0.0"),
		imagetest.WriteLayout(t, filepath.Join(t.TempDir(), "layout"), img, "1.0.0"),
	} {
		r := run(t, "check", in)
		wantCode(t, r, ExitInput)
		if !strings.Contains(r.stderr, "the image config") || !strings.Contains(r.stderr, "over the limit of 8388608 for an image config") || !strings.Contains(r.stderr, "; not read") {
			t.Errorf("%s: stderr %s", in, r.stderr)
		}
	}
}

// A file that is not a tar archive and a docker save cut short get
// different errors; the truncated one names the entry it ends in.
func TestArchiveNotTarVersusTruncated(t *testing.T) {
	isolate(t)
	text := filepath.Join(t.TempDir(), "notes.tar")
	os.WriteFile(text, []byte("hello world\n"), 0o644)
	r := run(t, "check", text)
	wantCode(t, r, ExitInput)
	if !strings.Contains(r.stderr, "is not a tar archive (12 bytes") {
		t.Errorf("text file: %s", r.stderr)
	}
	file := filepath.Join(t.TempDir(), "app.tar")
	imagetest.WriteArchive(t, file, serverImage(t, v1.Config{}), "registry.example/app:1.0.0")
	fi, _ := os.Stat(file)
	if err := os.Truncate(file, fi.Size()*2/3); err != nil {
		t.Fatal(err)
	}
	r = run(t, "check", file)
	wantCode(t, r, ExitInput)
	if !strings.Contains(r.stderr, "is truncated at ") || !strings.Contains(r.stderr, "bytes present") || strings.Contains(r.stderr, "not a tar archive") {
		t.Errorf("truncated archive: %s", r.stderr)
	}
}

// The digest of --ref is verified against the image, never trusted.
func TestRefDigestVerified(t *testing.T) {
	isolate(t)
	img := serverImage(t, v1.Config{})
	manifest, config := digestOf(t, img)
	zeros := "sha256:" + strings.Repeat("0", 64)
	lay := imagetest.WriteLayout(t, filepath.Join(t.TempDir(), "layout"), img, "1.0.0")
	r := run(t, "check", "--ref", "registry.example.com/app@"+zeros, lay)
	wantCode(t, r, ExitInput)
	if !strings.Contains(r.stderr, "--ref pins "+zeros) || !strings.Contains(r.stderr, "manifest digest "+manifest) {
		t.Errorf("layout, wrong digest: %s", r.stderr)
	}
	r = run(t, "check", "--format", "json", "--ref", "registry.example.com/app:1.0.0@"+manifest, lay)
	wantCode(t, r, ExitPass)
	if rep := readReport(t, r.stdout); rep.Image.Reference != "registry.example.com/app:1.0.0@"+manifest {
		t.Errorf("reference %q", rep.Image.Reference)
	}
	// A config digest is not what a reference pins.
	r = run(t, "check", "--ref", "registry.example.com/app@"+config, lay)
	wantCode(t, r, ExitInput)
	if !strings.Contains(r.stderr, "config digest (image ID)") {
		t.Errorf("config digest as --ref: %s", r.stderr)
	}
	// An archive without a manifest cannot prove any digest.
	arc := imagetest.WriteArchive(t, filepath.Join(t.TempDir(), "app.tar"), img, "registry.example/app:1.0.0")
	r = run(t, "check", "--ref", "registry.example.com/app@"+zeros, strings.TrimPrefix(arc, "docker-archive:"))
	wantCode(t, r, ExitInput)
	if !strings.Contains(r.stderr, "--ref pins "+zeros) || !strings.Contains(r.stderr, "no manifest digest") || !strings.Contains(r.stderr, config) {
		t.Errorf("archive: %s", r.stderr)
	}
	// Nor do stored facts take it on trust.
	facts := filepath.Join(t.TempDir(), "facts.json")
	wantCode(t, run(t, "observe", "-o", facts, lay), ExitPass)
	wantCode(t, run(t, "check", "--facts", facts, "--ref", "registry.example.com/app@"+zeros), ExitInput)
}

// dockerSave25 writes img as `docker save` of Docker 25 and later does: an
// OCI layout (index.json, blobs) with manifest.json beside it.
func dockerSave25(t *testing.T, img v1.Image, tag string) string {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"io.containerd.image.name": tag})); err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	blob := func(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }
	entry := map[string]any{"Config": blob(m.Config.Digest), "RepoTags": []string{tag}}
	var layers []string
	for _, l := range m.Layers {
		layers = append(layers, blob(l.Digest))
	}
	entry["Layers"] = layers
	mj, _ := json.Marshal([]any{entry})
	os.WriteFile(filepath.Join(dir, "manifest.json"), mj, 0o644)
	file := filepath.Join(t.TempDir(), "saved.tar")
	out, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(out)
	err = filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		h, _ := tar.FileInfoHeader(fi, "")
		h.Name = filepath.ToSlash(rel)
		if fi.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	tw.Close()
	out.Close()
	return file
}

// A docker-archive reports its image ID (config digest) and, when the
// archive carries a manifest, its manifest digest, saying which is which
// in the table, the JSON image and JUnit.
func TestArchiveDigests(t *testing.T) {
	isolate(t)
	img := serverImage(t, v1.Config{})
	manifest, config := digestOf(t, img)
	old := strings.TrimPrefix(imagetest.WriteArchive(t, filepath.Join(t.TempDir(), "app.tar"), img, "registry.example/app:1.0.0"), "docker-archive:")
	r := run(t, "check", "--format", "json", old)
	wantCode(t, r, ExitPass)
	if rep := readReport(t, r.stdout); rep.Image.ImageID != config || rep.Image.Digest != "" {
		t.Errorf("old archive: image_id %q digest %q, want %s and none", rep.Image.ImageID, rep.Image.Digest, config)
	}
	r = run(t, "check", old)
	if !strings.Contains(r.stdout, "Image ID  "+config+" (config digest)") || !strings.Contains(r.stdout, "Digest    none: a docker-archive carries no manifest") {
		t.Errorf("table:\n%s", r.stdout)
	}
	junit := filepath.Join(t.TempDir(), "r.xml")
	wantCode(t, run(t, "check", "-o", "junit="+junit, old), ExitPass)
	if data, _ := os.ReadFile(junit); !strings.Contains(string(data), `name="image_id" value="`+config+`"`) || strings.Contains(string(data), `name="digest" value=""`) {
		t.Errorf("junit:\n%.600s", data)
	}

	saved := dockerSave25(t, img, "registry.example/app:1.0.0")
	r = run(t, "check", "--format", "json", saved)
	wantCode(t, r, ExitPass)
	if rep := readReport(t, r.stdout); rep.Image.ImageID != config || rep.Image.Digest != manifest {
		t.Errorf("docker 25 archive: image_id %q digest %q, want %s and %s", rep.Image.ImageID, rep.Image.Digest, config, manifest)
	}
	r = run(t, "check", saved)
	if !strings.Contains(r.stdout, "Digest    "+manifest+" (manifest)") || !strings.Contains(r.stdout, "Image ID  "+config) {
		t.Errorf("table:\n%s", r.stdout)
	}
	// That digest can then be verified in --ref.
	wantCode(t, run(t, "check", "--ref", "registry.example/app:1.0.0@"+manifest, saved), ExitPass)
}

// The report's duration is this run's, from the command line to the
// report: a judgement of stored facts does not add the time their
// observation took.
func TestDurationIsTheRun(t *testing.T) {
	isolate(t)
	lay := imagetest.WriteLayout(t, filepath.Join(t.TempDir(), "layout"), serverImage(t, v1.Config{}), "1.0.0")
	facts := filepath.Join(t.TempDir(), "facts.json")
	wantCode(t, run(t, "observe", "-o", facts, lay), ExitPass)
	var raw map[string]any
	data, _ := os.ReadFile(facts)
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	raw["observe_seconds"] = 1000.0
	data, _ = json.Marshal(raw)
	os.WriteFile(facts, data, 0o644)
	r := run(t, "check", "--format", "json", "--facts", facts)
	wantCode(t, r, ExitPass)
	if d := readReport(t, r.stdout).Duration; d <= 0 || d > 100 {
		t.Errorf("duration %.2f s for a judgement of stored facts", d)
	}
}
