// Command selfimage builds shipshape's own container image from the
// repository, with no Docker engine and no base image: a static
// (CGO_ENABLED=0) shipshape binary on an empty base, run as the numeric
// non-root user 65532:65532, with OCI labels and a HEALTHCHECK that needs no
// shell (shipshape healthcheck). The build is reproducible: the same source
// gives the same digest, every timestamp being SOURCE_DATE_EPOCH (by default
// the time of the last commit). `make image` runs it:
//
//	go run ./tools/selfimage -o build/shipshape-image.tar
//
// It writes a docker-archive (docker load -i, or shipshape check
// docker-archive:FILE) and prints the image's digest.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// UID is the user and group shipshape runs as (distroless' nonroot).
const UID = 65532

const repository = "ghcr.io/shipshape-dev/shipshape"

func main() {
	out := flag.String("o", "build/shipshape-image.tar", "docker-archive file to write")
	ociDir := flag.String("oci", "", "also write the image into this OCI layout directory")
	arch := flag.String("arch", "amd64", "GOARCH of the image (amd64, arm64)")
	version := flag.String("version", "", "version of the image (default: git describe)")
	tag := flag.String("tag", "", "tag in the archive (default "+repository+":VERSION)")
	flag.Parse()
	if err := run(*out, *ociDir, *arch, *version, *tag); err != nil {
		log.Fatal(err)
	}
}

// git runs git in the repository and returns its trimmed output ("" on error).
func git(args ...string) string {
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// sourceDate is SOURCE_DATE_EPOCH, else the last commit's time, else 0.
func sourceDate() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		s = git("log", "-1", "--format=%ct")
	}
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
	}
	return time.Unix(n, 0).UTC(), nil
}

func run(out, ociDir, arch, version, tag string) error {
	created, err := sourceDate()
	if err != nil {
		return err
	}
	if version == "" {
		if version = git("describe", "--tags", "--always", "--dirty"); version == "" {
			version = "dev"
		}
	}
	revision := git("rev-parse", "HEAD")
	if revision == "" {
		revision = "unknown"
	}
	if tag == "" {
		tag = repository + ":" + strings.NewReplacer("+", "-", "/", "-").Replace(version)
	}
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("-tag: %w", err)
	}

	tmp, err := os.MkdirTemp("", "selfimage")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	binPath := filepath.Join(tmp, "shipshape")
	build := exec.Command("go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -buildid= -X github.com/shipshape-dev/shipshape/internal/cli.version="+version,
		"-o", binPath, "./cmd/shipshape")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOFLAGS=-mod=readonly")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building shipshape: %w", err)
	}
	bin, err := os.ReadFile(binPath)
	if err != nil {
		return err
	}

	layerTar, err := rootfs(bin, created)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: created}, CreatedBy: "tools/selfimage: shipshape (static, CGO_ENABLED=0), /etc/passwd, /etc/group, /tmp, /var/lib/shipshape",
		Comment: "reproducible: timestamps are SOURCE_DATE_EPOCH"}})
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Created = arch, "linux", v1.Time{Time: created}
	cf.Author = "shipshape"
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", UID, UID),
		Entrypoint: []string{"/shipshape"},
		// The default command serves the API on all interfaces; every other
		// command works too (docker run IMAGE check ...).
		Cmd:        []string{"serve", "--listen", ":8080"},
		WorkingDir: "/var/lib/shipshape",
		Env: []string{
			"PATH=/",
			"HOME=/var/lib/shipshape",
			"XDG_CACHE_HOME=/var/lib/shipshape/cache",
			"XDG_DATA_HOME=/var/lib/shipshape/data",
		},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Volumes:      map[string]struct{}{"/var/lib/shipshape": {}},
		StopSignal:   "SIGTERM",
		Healthcheck: &v1.HealthConfig{
			Test:     []string{"CMD", "/shipshape", "healthcheck", "--url", "http://127.0.0.1:8080/healthz", "--timeout", "3s"},
			Interval: 30 * time.Second, Timeout: 5 * time.Second, StartPeriod: 10 * time.Second, Retries: 3,
		},
		Labels: map[string]string{
			"org.opencontainers.image.title":         "shipshape",
			"org.opencontainers.image.description":   "Judges whether container images are fit for production; serves the approved-image registry and the Kubernetes admission webhook",
			"org.opencontainers.image.source":        "https://github.com/shipshape-dev/shipshape",
			"org.opencontainers.image.url":           "https://github.com/shipshape-dev/shipshape",
			"org.opencontainers.image.documentation": "https://github.com/shipshape-dev/shipshape/blob/main/docs/admission.md",
			"org.opencontainers.image.version":       version,
			"org.opencontainers.image.revision":      revision,
			"org.opencontainers.image.created":       created.Format(time.RFC3339),
			"org.opencontainers.image.licenses":      "Apache-2.0",
			"org.opencontainers.image.vendor":        "shipshape",
			"org.opencontainers.image.base.name":     "scratch",
			"prometheus.io/scrape":                   "true",
			"prometheus.io/port":                     "8080",
			"prometheus.io/path":                     "/metrics",
		},
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	if img, err = mutate.CreatedAt(img, v1.Time{Time: created}); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := tarball.WriteToFile(out, ref, img); err != nil {
		return err
	}
	if ociDir != "" {
		if err := os.RemoveAll(ociDir); err != nil {
			return err
		}
		p, err := layout.Write(ociDir, empty.Index)
		if err != nil {
			return err
		}
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref.String()})); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "wrote docker-archive:%s (%s, %s/%s, %d bytes of shipshape)\n", out, ref, "linux", arch, len(bin))
	fmt.Println(digest)
	return nil
}

// rootfs is the image's only layer, every entry dated created: the binary
// (owned by root, not writable by the user), passwd and group naming the
// user, a sticky /tmp and the user's data directory.
func rootfs(bin []byte, created time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	type entry struct {
		name     string
		mode     int64
		uid      int
		content  string
		typeflag byte
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/var/lib/shipshape:/sbin/nologin\n", UID, UID)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", UID)
	for _, e := range []entry{
		{name: "etc/", mode: 0o755, typeflag: tar.TypeDir},
		{name: "etc/group", mode: 0o644, content: group},
		{name: "etc/passwd", mode: 0o644, content: passwd},
		{name: "shipshape", mode: 0o555, content: string(bin)},
		{name: "tmp/", mode: 0o1777, typeflag: tar.TypeDir},
		{name: "var/", mode: 0o755, typeflag: tar.TypeDir},
		{name: "var/lib/", mode: 0o755, typeflag: tar.TypeDir},
		{name: "var/lib/shipshape/", mode: 0o750, uid: UID, typeflag: tar.TypeDir},
	} {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.uid, ModTime: created, Typeflag: e.typeflag}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.content))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := io.WriteString(tw, e.content); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
