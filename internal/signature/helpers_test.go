package signature

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

// cosignBin finds the pinned cosign CLI (see imagetest.Cosign).
func cosignBin(t *testing.T) string { return imagetest.Cosign(t) }

// startRegistry serves a registry on 127.0.0.1 for the test.
func startRegistry(t *testing.T) string { return imagetest.Registry(t) }

// cosignRun runs the cosign CLI offline (no transparency log, no signing
// config fetched from the network, empty key password).
func cosignRun(t *testing.T, bin, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=", "COSIGN_YES=true", "SIGSTORE_NO_CACHE=1", "TUF_ROOT="+filepath.Join(dir, "tuf"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// keyPair writes cosign.key/cosign.pub style files NAME.key and NAME.pub in dir.
func keyPair(t *testing.T, bin, dir, prefix string) (priv, pub string) {
	t.Helper()
	cosignRun(t, bin, dir, "generate-key-pair", "--output-key-prefix", prefix)
	return filepath.Join(dir, prefix+".key"), filepath.Join(dir, prefix+".pub")
}

// signArgs are the flags that keep cosign off the network.
var signArgs = []string{"--tlog-upload=false", "--use-signing-config=false", "--allow-insecure-registry", "--yes"}

func sign(t *testing.T, bin, dir, key, ref string, extra ...string) {
	t.Helper()
	args := append([]string{"sign", "--key", key}, signArgs...)
	args = append(args, extra...)
	cosignRun(t, bin, dir, append(args, ref)...)
}

// pushImage pushes a small synthetic image and returns its digest reference.
func pushImage(t *testing.T, host, repo, marker string) name.Digest {
	t.Helper()
	img := imagetest.Image(t, imagetest.Spec{Layers: [][]imagetest.File{{imagetest.Text("/marker", marker)}}, Config: v1.Config{Entrypoint: []string{"/x"}}})
	tag, err := name.NewTag(host + "/" + repo + ":1.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return tag.Context().Digest(d.String())
}

func mustKey(t *testing.T, path string) Key {
	t.Helper()
	k, err := LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func find(t *testing.T, ref name.Digest, trust Trust) *Report {
	t.Helper()
	st, err := Registry(ref.Context().String())
	if err != nil {
		t.Fatal(err)
	}
	return Find(context.Background(), st, ref.DigestStr(), "", trust)
}

// putManifest stores raw as a manifest of repo under ref (a tag or a digest).
func putManifest(t *testing.T, host, repo, ref string, mt types.MediaType, raw []byte) v1.Hash {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://"+host+"/v2/"+repo+"/manifests/"+ref, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", string(mt))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("PUT manifest %s: %s", ref, resp.Status)
	}
	h, _, _ := v1.SHA256(bytes.NewReader(raw))
	return h
}

// putBlob uploads data as a blob of repo and returns its descriptor.
func putBlob(t *testing.T, host, repo string, mt types.MediaType, data []byte) v1.Descriptor {
	t.Helper()
	r, err := name.NewRepository(host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	l := static.NewLayer(data, mt)
	if err := remote.WriteLayer(r, l); err != nil {
		t.Fatal(err)
	}
	d, _ := l.Digest()
	return v1.Descriptor{MediaType: mt, Size: int64(len(data)), Digest: d}
}

// manifestOf fetches a manifest by tag or digest.
func manifestOf(t *testing.T, ref string) *v1.Manifest {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Get(r)
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(d.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func sigTagOf(d name.Digest) string { return strings.Replace(d.DigestStr(), ":", "-", 1) + ".sig" }

func mustHash(t *testing.T, s string) v1.Hash {
	t.Helper()
	h, err := v1.NewHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func sha(raw []byte) string {
	h, _, _ := v1.SHA256(bytes.NewReader(raw))
	return h.String()
}

func rawManifest(t *testing.T, ref string) []byte {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Get(r)
	if err != nil {
		t.Fatal(err)
	}
	return d.Manifest
}

func findReferrers(t *testing.T, st Store, digest string) []v1.Descriptor {
	t.Helper()
	ds, err := st.referrers(context.Background(), mustHash(t, digest))
	if err != nil {
		t.Fatal(err)
	}
	return ds
}
