package supplychain

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/shipshape-dev/shipshape/internal/forge"
	"github.com/shipshape-dev/shipshape/internal/forge/forgetest"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/signature"
	"github.com/shipshape-dev/shipshape/internal/source"
)

// startRegistry serves a registry on 127.0.0.1 for the test.
func startRegistry(t *testing.T) string { return imagetest.Registry(t) }

// pushBuildx pushes an index like docker buildx --provenance=mode=max does:
// the image and an attestation manifest with a SLSA provenance statement.
func pushBuildx(t *testing.T, ref string, labels map[string]string, predicate []byte) {
	t.Helper()
	img := imagetest.Image(t, imagetest.Spec{Layers: [][]imagetest.File{{imagetest.Text("/app", "x")}}, Config: v1.Config{Entrypoint: []string{"/app"}, Labels: labels}})
	d, _ := img.Digest()
	st, _ := json.Marshal(map[string]any{"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://slsa.dev/provenance/v0.2",
		"subject": []map[string]any{{"name": "pkg:docker/app", "digest": map[string]string{"sha256": d.Hex}}}, "predicate": json.RawMessage(predicate)})
	att, err := mutate.Append(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON),
		mutate.Addendum{Layer: static.NewLayer(st, "application/vnd.in-toto+json"), MediaType: "application/vnd.in-toto+json"})
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": d.String()}}})
	tag, _ := name.NewTag(ref)
	if err := remote.WriteIndex(tag, idx); err != nil {
		t.Fatal(err)
	}
}

const onePull = `{"builder":{"id":"https://github.com/shipshape-dev/legacy-tool/actions/runs/1"},"buildType":"https://mobyproject.org/buildkit@v1",
 "materials":[{"uri":"pkg:docker/debian@12-slim?platform=linux%2Famd64","digest":{"sha256":"aaaa"}},
  {"uri":"https://github.com/shipshape-dev/legacy-tool.git#refs/heads/master","digest":{"sha1":"2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"}}],
 "invocation":{"configSource":{"uri":"https://github.com/shipshape-dev/legacy-tool.git#refs/heads/master","digest":{"sha1":"2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"},"entryPoint":"Dockerfile"}}}`

func open(t *testing.T, input string) *source.Image {
	t.Helper()
	img, err := source.Open(context.Background(), input, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

// Without labels, the provenance names the source repository and the base
// image; the forge is then asked about that repository.
func TestGatherFromProvenance(t *testing.T) {
	host := startRegistry(t)
	pushBuildx(t, host+"/team/tool:2.0", nil, []byte(onePull))
	now := forgetest.Recorded
	srv := forgetest.New(t, now)
	fc, err := forge.New(forge.Options{BaseURL: srv.URL, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ev := Gather(context.Background(), open(t, host+"/team/tool:2.0"), Options{Forge: fc})
	o := ev.Origin
	if o.Kind != "registry" || o.Repository != host+"/team/tool" || o.IndexDigest == "" || o.ProvenanceStatus != signature.Unsigned {
		t.Errorf("origin %+v", o)
	}
	if o.Base != "debian:12-slim@sha256:aaaa" || !strings.HasPrefix(o.BaseFrom, "provenance") {
		t.Errorf("base %q from %q", o.Base, o.BaseFrom)
	}
	u := ev.Upstream
	if u.Source != "https://github.com/shipshape-dev/legacy-tool" || u.From != "provenance (unsigned)" || u.Health == nil || u.Health.DefaultBranch != "master" {
		t.Errorf("upstream %+v", u)
	}

	// A policy mapping wins over the provenance; a label wins over the provenance too.
	ev = Gather(context.Background(), open(t, host+"/team/tool:2.0"), Options{Sources: []SourceMapping{{Image: host + "/team/*", Repository: "https://github.com/shipshape-dev/webapp"}}})
	if ev.Upstream.Source != "https://github.com/shipshape-dev/webapp" || !strings.HasPrefix(ev.Upstream.From, "policy") || ev.Upstream.NotChecked == "" || !ev.Upstream.ByChoice {
		t.Errorf("mapping: %+v", ev.Upstream)
	}
	pushBuildx(t, host+"/team/labelled:1.0", map[string]string{"org.opencontainers.image.source": "https://github.com/shipshape-dev/oldlib",
		"org.opencontainers.image.base.name": "docker.io/library/debian:12", "org.opencontainers.image.vendor": "Shipshape"}, []byte(onePull))
	ev = Gather(context.Background(), open(t, host+"/team/labelled:1.0"), Options{})
	if ev.Upstream.From != "label org.opencontainers.image.source" || ev.Origin.Base != "docker.io/library/debian:12" || ev.Upstream.Maintainer != "Shipshape" {
		t.Errorf("labels: %+v %+v", ev.Upstream, ev.Origin)
	}
}

func TestGatherArchiveAndLayout(t *testing.T) {
	img := imagetest.Image(t, imagetest.Spec{Layers: [][]imagetest.File{{imagetest.Text("/a", "b")}}, Config: v1.Config{Labels: map[string]string{"maintainer": "ops@example.com"}}})
	dir := t.TempDir()
	tarPath := filepath.Join(dir, "app.tar")
	imagetest.WriteArchive(t, tarPath, img, "team/app:1.0")
	ev := Gather(context.Background(), open(t, "docker-archive:"+tarPath), Options{})
	if ev.Attached != nil || !strings.Contains(ev.NotLooked, "docker-archive") || ev.Upstream.Maintainer != "ops@example.com" || ev.Origin.Repository != "docker.io/team/app" {
		t.Errorf("archive: %+v", ev)
	}
	layout := imagetest.WriteLayout(t, filepath.Join(dir, "lay:out"), img, "1.0")
	ev = Gather(context.Background(), open(t, layout), Options{})
	if ev.Attached == nil || ev.NotLooked != "" || len(ev.Attached.Problems) != 0 {
		t.Errorf("layout: %+v", ev)
	}
	if got := layoutDir("oci:" + filepath.Join(dir, "lay:out") + ":1.0"); got != filepath.Join(dir, "lay:out") {
		t.Errorf("layoutDir = %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "lay:out", "index.json")); err != nil {
		t.Fatal(err)
	}
}
