package source

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

const (
	annotationRefName    = "org.opencontainers.image.ref.name"
	annotationImageName  = "io.containerd.image.name"
	annotationImageNameK = "org.opencontainers.image.base.name"
)

// openLayout opens "DIR[:REF]", an OCI image layout. REF matches the
// ref.name annotation of an entry of index.json.
func openLayout(s string, opts Options) (*Image, error) {
	dir, want := splitPathRef(s)
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%s is not an OCI layout: %w", dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading %s/index.json: %w", dir, err)
	}
	var pick *v1.Descriptor
	var names []string
	for i, d := range im.Manifests {
		ref := d.Annotations[annotationRefName]
		if ref != "" {
			names = append(names, ref)
		}
		if want == "" || ref == want || d.Annotations[annotationImageName] == want {
			if pick == nil {
				pick = &im.Manifests[i]
			}
		}
	}
	switch {
	case pick == nil:
		return nil, fmt.Errorf("%s has no image named %q (it has: %s)", dir, want, strings.Join(names, ", "))
	case want == "" && len(im.Manifests) > 1:
		return nil, fmt.Errorf("%s holds %d images; name one as oci:%s:REF (refs: %s)", dir, len(im.Manifests), dir, strings.Join(names, ", "))
	}
	img := &Image{}
	refName := pick.Annotations[annotationRefName]
	if full := pick.Annotations[annotationImageName]; full != "" {
		img.Reference = full
	} else if strings.ContainsAny(refName, "/:") {
		img.Reference = refName
	} else if refName != "" && refName != "latest" {
		img.Tag = refName
	}
	// A bare "latest" (what tools write when given no tag) names no
	// repository and no version: the layout gives no reference to deploy,
	// and REL-001 says so, naming the manifest digest.
	if img.Reference != "" {
		if repo, tag, digest, err := ParseReference(img.Reference); err == nil {
			img.Repository, img.Tag, img.PinnedDigest = repo, tag, digest
		}
	}
	var v v1.Image
	if pick.MediaType.IsIndex() {
		child, err := idx.ImageIndex(pick.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading index %s: %w", pick.Digest, err)
		}
		img.IndexDigest, img.index = pick.Digest.String(), child
		if v, err = pickFromIndex(img, child, *opts.Platform, opts.AnyPlatform); err != nil {
			return nil, err
		}
	} else {
		if v, err = idx.Image(pick.Digest); err != nil {
			return nil, fmt.Errorf("reading image %s: %w", pick.Digest, err)
		}
		img.Digest = pick.Digest.String()
	}
	// The manifest's config.size is checked in finish; the blob itself may
	// be larger than it says, and is read whole: bound it on disk first.
	if m, err := v.Manifest(); err == nil {
		if fi, err := os.Stat(filepath.Join(dir, "blobs", m.Config.Digest.Algorithm, m.Config.Digest.Hex)); err == nil && fi.Size() > maxConfigSize {
			return nil, fmt.Errorf("the image config %s is %d bytes on disk, over the limit of %d for an image config (real ones are a few KiB); not read", m.Config.Digest, fi.Size(), maxConfigSize)
		}
	}
	if err := finish(img, v, true); err != nil {
		return nil, err
	}
	return img, blobs(img, v)
}
