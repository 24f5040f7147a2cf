package source

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// ParseReference splits a registry reference into repository (as written),
// tag and digest. The tag is empty when the reference names none (which pulls "latest").
func ParseReference(s string) (repo, tag, digest string, err error) {
	base := s
	if i := strings.Index(s, "@"); i >= 0 {
		base, digest = s[:i], s[i+1:]
		if _, err := v1.NewHash(digest); err != nil {
			return "", "", "", fmt.Errorf("bad digest in %q: %w", s, err)
		}
	}
	if i := strings.LastIndex(base, ":"); i > strings.LastIndex(base, "/") {
		base, tag = base[:i], base[i+1:]
		if _, err := name.NewTag(base + ":" + tag); err != nil {
			return "", "", "", fmt.Errorf("bad reference %q: %w", s, err)
		}
	}
	if _, err := name.NewRepository(base); err != nil {
		return "", "", "", fmt.Errorf("bad reference %q: %w", s, err)
	}
	return base, tag, digest, nil
}

func openRegistry(ctx context.Context, s string, opts Options) (*Image, error) {
	repo, tag, digest, err := ParseReference(s)
	if err != nil {
		return nil, err
	}
	var ref name.Reference
	if digest != "" {
		ref, err = name.NewDigest(repo + "@" + digest)
	} else {
		t := tag
		if t == "" {
			t = "latest"
		}
		ref, err = name.NewTag(repo + ":" + t)
	}
	if err != nil {
		return nil, err
	}
	ropts := append([]remote.Option{remote.WithContext(ctx)}, opts.Remote...)
	if opts.Remote == nil {
		ropts = append(ropts, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	}
	desc, err := remote.Get(ref, ropts...)
	if err != nil {
		return nil, fmt.Errorf("fetching manifest from %s: %w (check the name, your network and `docker login`)", ref.Context().RegistryStr(), err)
	}
	img := &Image{Reference: s, Repository: repo, Tag: tag, PinnedDigest: digest}
	var v v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, err
		}
		img.IndexDigest, img.index = desc.Digest.String(), idx
		v, err = pickFromIndex(img, idx, *opts.Platform, opts.AnyPlatform)
		if err != nil {
			return nil, err
		}
	} else {
		v, err = desc.Image()
		if err != nil {
			return nil, err
		}
		img.Digest = desc.Digest.String()
	}
	if err := finish(img, v, true); err != nil {
		return nil, err
	}
	return img, blobs(img, v)
}

// pickFromIndex lists the index's platforms into img and returns the image for want.
// With anyPlatform, an index without want gives its first platform instead.
func pickFromIndex(img *Image, idx v1.ImageIndex, want v1.Platform, anyPlatform bool) (v1.Image, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading index: %w", err)
	}
	var pick, first *v1.Descriptor
	for i, d := range im.Manifests {
		if d.Platform == nil || !d.MediaType.IsImage() || d.Platform.OS == "unknown" {
			continue
		}
		img.Platforms = append(img.Platforms, *d.Platform)
		if pick == nil && platformMatches(want, *d.Platform) {
			pick = &im.Manifests[i]
		}
		if first == nil {
			first = &im.Manifests[i]
		}
	}
	if pick == nil && anyPlatform {
		pick = first
	}
	if pick == nil {
		var have []string
		for _, p := range img.Platforms {
			have = append(have, p.String())
		}
		return nil, fmt.Errorf("the index has no image for %s (it has: %s); choose one with --platform", want.String(), strings.Join(have, ", "))
	}
	img.Digest = pick.Digest.String()
	return idx.Image(pick.Digest)
}

func platformMatches(want, have v1.Platform) bool {
	if want.OS != have.OS || want.Architecture != have.Architecture {
		return false
	}
	return want.Variant == "" || have.Variant == "" || want.Variant == have.Variant
}

// ParsePlatform parses "os/arch[/variant]".
func ParsePlatform(s string) (*v1.Platform, error) {
	p, err := v1.ParsePlatform(s)
	if err != nil {
		return nil, err
	}
	if p.OS == "" || p.Architecture == "" {
		return nil, fmt.Errorf("platform %q: want os/arch[/variant], e.g. linux/amd64", s)
	}
	return p, nil
}

// Identity is what identifies an image that was read: its manifest digest
// (empty when the source carries none), the index it was picked from, its
// config digest (the image ID) and the engine's repo digests.
type Identity struct {
	Kind        Kind
	Digest      string
	IndexDigest string
	ImageID     string
	RepoDigests []string
}

// CheckPin verifies that the digest a reference pins (--ref REPO@sha256:...)
// names the image that was read: its manifest digest, the index it was
// picked from, or one of the engine's repo digests. A digest that cannot be
// checked is not trusted either: the error says what the image's digests
// are, which is which, and what to do.
func CheckPin(pinned string, id Identity) error {
	if pinned == "" {
		return nil
	}
	if pinned == id.Digest || pinned == id.IndexDigest {
		return nil
	}
	for _, rd := range id.RepoDigests {
		if _, d, ok := strings.Cut(rd, "@"); ok && d == pinned {
			return nil
		}
	}
	switch {
	case pinned == id.ImageID && id.ImageID != "":
		return fmt.Errorf("--ref pins %s, the image's config digest (image ID); a reference pins the manifest digest%s", pinned, manifestSaid(id))
	case id.Digest == "" && id.IndexDigest == "" && len(id.RepoDigests) == 0:
		return fmt.Errorf("--ref pins %s, but a %s image carries no manifest digest to check it against (its image ID, the config digest, is %s): give --ref without the digest, or judge the image as pushed (registry:REPO@%s)", pinned, id.Kind, id.ImageID, pinned)
	}
	return fmt.Errorf("--ref pins %s, but the image read is another one:%s, image ID (config digest) %s", pinned, manifestSaid(id), id.ImageID)
}

func manifestSaid(id Identity) string {
	var parts []string
	if id.Digest != "" {
		parts = append(parts, " manifest digest "+id.Digest)
	}
	if id.IndexDigest != "" {
		parts = append(parts, " index digest "+id.IndexDigest)
	}
	for _, rd := range id.RepoDigests {
		parts = append(parts, " repo digest "+rd)
	}
	if len(parts) == 0 {
		return " (none known for this image)"
	}
	return strings.Join(parts, ",")
}
