// Package source opens container images from registries, docker-archive
// tarballs, OCI layouts and the local Docker engine, and describes each layer
// as an imagefs.Blob for the single streaming pass.
package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
)

// Kind names where an image came from.
type Kind string

// The kinds of image source.
const (
	Registry      Kind = "registry"
	DockerArchive Kind = "docker-archive"
	OCILayout     Kind = "oci"
	DockerDaemon  Kind = "docker-daemon"
)

// maxConfigSize bounds an image's config blob: real configs are a few KiB.
const maxConfigSize = 8 << 20

// Options tune how an image is opened.
type Options struct {
	// Platform picks one image out of an index. Nil means the host's (linux/GOARCH).
	Platform *v1.Platform
	// AnyPlatform picks the index's first platform when it has no image for
	// Platform (to list and read every platform, see Image.ForPlatform).
	AnyPlatform bool
	// TempDir holds the archive of an image saved from the Docker engine while it is read.
	TempDir string
	// Remote are go-containerregistry options for registries (transport,
	// keychain); nil means the Docker config's credentials and helpers.
	Remote []remote.Option
	// NoNetwork refuses what needs the network (a registry reference):
	// --network=none.
	NoNetwork bool
}

// Image is an opened image, ready to be walked.
type Image struct {
	// Input is what the user typed.
	Input string
	Kind  Kind
	// Reference is the image's name as it would be pulled ("registry/repo:tag" or
	// "registry/repo@sha256:..."), empty when the source gives none.
	Reference string
	// Repository is the reference without tag or digest.
	Repository string
	// Tag is the reference's tag, empty when none.
	Tag string
	// PinnedDigest is the digest the user's reference pinned, empty when none.
	PinnedDigest string
	// Digest is the manifest digest of the image that was judged; empty for
	// archives, whose registry digest is only known once they are pushed.
	Digest string
	// ImageID is the digest of the image's config.
	ImageID string
	// IndexDigest is the digest of the index the image was picked from, if any.
	IndexDigest string
	// RepoDigests are the engine's repo digests (docker-daemon only).
	RepoDigests []string
	// Platforms lists the platforms of the index; empty for a single-manifest image.
	Platforms []v1.Platform
	// Platform is the platform of the image that was judged.
	Platform v1.Platform
	Manifest *v1.Manifest
	Config   *v1.ConfigFile
	// Layers are the layers, base first, for imagefs.Walk.
	Layers []imagefs.Blob
	// Size is the sum of the layers' sizes as the manifest gives them.
	Size int64

	cleanup func()
	v1      v1.Image
	archive string
	// index is the index the image was picked from (registries and OCI
	// layouts), so the other platforms can be read without opening it again.
	index v1.ImageIndex
}

// ForPlatform returns the image of platform p out of the index img was
// picked from, without fetching the index again. An image not read from an
// index has only its own platform.
func (img *Image) ForPlatform(p v1.Platform) (*Image, error) {
	if img.index == nil {
		if platformMatches(p, img.Platform) {
			return img, nil
		}
		return nil, fmt.Errorf("%s is a single-platform image (%s), not %s", img.Input, img.Platform.String(), p.String())
	}
	out := &Image{Input: img.Input, Kind: img.Kind, Reference: img.Reference, Repository: img.Repository, Tag: img.Tag,
		PinnedDigest: img.PinnedDigest, IndexDigest: img.IndexDigest, index: img.index}
	v, err := pickFromIndex(out, img.index, p, false)
	if err != nil {
		return nil, err
	}
	if err := finish(out, v, true); err != nil {
		return nil, fmt.Errorf("platform %s: %w", p.String(), err)
	}
	return out, blobs(out, v)
}

// ArchivePath is the docker-archive file the image was read from, if any.
func (img *Image) ArchivePath() string { return img.archive }

// V1 returns the image as a go-containerregistry image (for loading it into an engine).
func (img *Image) V1() v1.Image { return img.v1 }

// Close releases temporary files held by the image.
func (img *Image) Close() error {
	if img.cleanup != nil {
		img.cleanup()
		img.cleanup = nil
	}
	return nil
}

// InputError reports an image that cannot be opened or read because of what
// the user gave (a missing file, a bad reference, an unreachable registry).
type InputError struct {
	Input string
	Err   error
}

func (e *InputError) Error() string { return fmt.Sprintf("image %q: %v", e.Input, e.Err) }
func (e *InputError) Unwrap() error { return e.Err }

// HostPlatform is the platform images are judged for by default.
func HostPlatform() v1.Platform {
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if runtime.GOARCH == "arm" {
		p.Variant = "v7"
	}
	if runtime.GOARCH == "arm64" {
		p.Variant = "v8"
	}
	return p
}

// Open opens the image named by input. The kind is taken from a prefix
// (registry:, docker://, docker-archive:, oci:, docker-daemon:) or guessed:
// an existing directory with index.json is an OCI layout, an existing file a
// docker-archive, anything else a registry reference.
func Open(ctx context.Context, input string, opts Options) (*Image, error) {
	kind, rest, err := parseInput(input)
	if err != nil {
		return nil, &InputError{Input: input, Err: err}
	}
	explicit := opts.Platform != nil
	if opts.Platform == nil {
		p := HostPlatform()
		opts.Platform = &p
	}
	var img *Image
	switch kind {
	case Registry:
		if opts.NoNetwork {
			return nil, &InputError{Input: input, Err: errors.New("a registry reference needs the network, and --network=none allows no connection: save the image (docker save, skopeo copy) and judge the archive or OCI layout, or drop --network=none")}
		}
		img, err = openRegistry(ctx, rest, opts)
	case DockerArchive:
		img, err = openArchive(rest, opts)
	case OCILayout:
		img, err = openLayout(rest, opts)
	case DockerDaemon:
		img, err = openDaemon(ctx, rest, opts)
	}
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return nil, err
		}
		return nil, &InputError{Input: input, Err: err}
	}
	img.Input = input
	img.Kind = kind
	// An index picks the asked platform; a single-platform image must be it.
	if explicit && len(img.Platforms) == 0 && img.Platform.Architecture != "" && !platformMatches(*opts.Platform, img.Platform) {
		img.Close()
		return nil, &InputError{Input: input, Err: fmt.Errorf("--platform %s: this is a single-platform %s image, not a multi-platform index; drop --platform, or give the %s image", opts.Platform, img.Platform, opts.Platform)}
	}
	return img, nil
}

func parseInput(input string) (Kind, string, error) {
	prefixes := []struct {
		p string
		k Kind
	}{
		{"docker-archive:", DockerArchive},
		{"oci:", OCILayout},
		{"docker-daemon:", DockerDaemon},
		{"registry:", Registry},
		{"docker://", Registry},
	}
	for _, x := range prefixes {
		if strings.HasPrefix(input, x.p) {
			rest := strings.TrimPrefix(input, x.p)
			if rest == "" {
				return "", "", fmt.Errorf("nothing after the %q prefix", x.p)
			}
			return x.k, rest, nil
		}
	}
	if input == "" {
		return "", "", errors.New("no image given")
	}
	if fi, err := os.Stat(input); err == nil {
		if fi.IsDir() {
			if _, err := os.Stat(filepath.Join(input, "index.json")); err == nil {
				return OCILayout, input, nil
			}
			return "", "", errors.New("a directory that is not an OCI layout (no index.json)")
		}
		return DockerArchive, input, nil
	}
	if strings.HasPrefix(input, "/") || strings.HasPrefix(input, "./") || strings.HasSuffix(input, ".tar") {
		return "", "", fmt.Errorf("no such file: %s", input)
	}
	return Registry, input, nil
}

// splitPathRef splits "PATH[:REF]" where PATH may itself contain colons:
// the longest prefix that exists on disk is the path.
func splitPathRef(s string) (string, string) {
	if _, err := os.Stat(s); err == nil {
		return s, ""
	}
	for i := strings.LastIndex(s, ":"); i > 0; i = strings.LastIndex(s[:i], ":") {
		if _, err := os.Stat(s[:i]); err == nil {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// finish fills the fields every source computes the same way. Archive
// sources have no manifest of their own (ggcr would have to recompress every
// layer to make one), so for them withManifest is false and the image is
// identified by its config digest (the image ID).
func finish(img *Image, v v1.Image, withManifest bool) error {
	if withManifest {
		m, err := v.Manifest()
		if err != nil {
			return fmt.Errorf("reading manifest: %w", err)
		}
		if m.Config.Size > maxConfigSize {
			return fmt.Errorf("the image config %s is %d bytes (manifest field config.size), over the limit of %d for an image config (real ones are a few KiB); not read", m.Config.Digest, m.Config.Size, maxConfigSize)
		}
		img.Manifest = m
		for _, l := range m.Layers {
			img.Size += l.Size
		}
		if img.Digest == "" {
			d, err := v.Digest()
			if err != nil {
				return fmt.Errorf("computing manifest digest: %w", err)
			}
			img.Digest = d.String()
		}
	}
	raw, err := v.RawConfigFile()
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	if len(raw) > maxConfigSize {
		return fmt.Errorf("config blob is %d bytes, over the limit of %d", len(raw), maxConfigSize)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("parsing config: %w", err)
	}
	img.Config = cfg
	img.v1 = v
	img.ImageID = "sha256:" + hex.EncodeToString(sha256Sum(raw))
	img.Platform = v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}
	if img.Manifest != nil && len(cfg.RootFS.DiffIDs) != len(img.Manifest.Layers) {
		return fmt.Errorf("the manifest lists %d layers but the config %d diff IDs", len(img.Manifest.Layers), len(cfg.RootFS.DiffIDs))
	}
	return nil
}

func sha256Sum(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

// historyLines returns, per non-empty layer, the history line that created it.
func historyLines(cfg *v1.ConfigFile, n int) []string {
	out := make([]string, n)
	i := 0
	for _, h := range cfg.History {
		if h.EmptyLayer {
			continue
		}
		if i < n {
			out[i] = h.CreatedBy
		}
		i++
	}
	return out
}
