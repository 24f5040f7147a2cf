package engine_test

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

// Every platform of an index is observed with one fetch of the index.
func TestObservePlatformsOpensTheIndexOnce(t *testing.T) {
	var tagGets atomic.Int32
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/manifests/1.0") {
			tagGets.Add(1)
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	var idx v1.ImageIndex = empty.Index
	for _, arch := range []string{"amd64", "arm64"} {
		img := imagetest.Image(t, imagetest.Spec{Arch: arch, Layers: [][]imagetest.File{imagetest.Debian()}})
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	tag, err := name.NewTag(host + "/team/multi:1.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(tag, idx); err != nil {
		t.Fatal(err)
	}
	tagGets.Store(0)
	e := newEngine(t, engine.Deps{SkipVulns: true})
	all, err := e.ObservePlatforms(context.Background(), "registry:"+tag.String(), engine.ObserveOptions{NoCache: true, SkipSupply: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Image.Platform.Architecture != "amd64" || all[1].Image.Platform.Architecture != "arm64" {
		t.Fatalf("platforms: %d", len(all))
	}
	d, _ := idx.Digest()
	for _, f := range all {
		if f.Image.IndexDigest != d.String() || f.Image.Digest == "" || f.Inventory == nil {
			t.Errorf("%s: index %s digest %s", f.Image.Platform.String(), f.Image.IndexDigest, f.Image.Digest)
		}
	}
	if all[0].Image.Digest == all[1].Image.Digest {
		t.Error("both platforms have one digest")
	}
	if n := tagGets.Load(); n != 1 {
		t.Errorf("the index was fetched %d times, want once", n)
	}
}
