package source

import (
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// openArchive opens "FILE[:TAG]" written by `docker save`.
func openArchive(s string, _ Options) (*Image, error) {
	file, want := splitPathRef(s)
	if _, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("no such file: %s", file)
	}
	opener := func() (ioReadCloser, error) { return os.Open(file) }
	m, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("%s is not a docker-archive (docker save) tarball: %w", file, err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%s holds no image", file)
	}
	var tags []string
	for _, d := range m {
		tags = append(tags, d.RepoTags...)
	}
	img := &Image{}
	var tagRef *name.Tag
	switch {
	case want != "":
		t, err := name.NewTag(want)
		if err != nil {
			return nil, fmt.Errorf("bad tag %q: %w", want, err)
		}
		tagRef = &t
		img.Reference = want
	case len(m) > 1:
		return nil, fmt.Errorf("%s holds %d images; name one as docker-archive:%s:TAG (tags: %s)", file, len(m), file, strings.Join(tags, ", "))
	case len(m[0].RepoTags) > 0:
		img.Reference = m[0].RepoTags[0]
	}
	v, err := tarball.Image(opener, tagRef)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	if img.Reference != "" {
		if repo, tag, digest, err := ParseReference(img.Reference); err == nil {
			img.Repository, img.Tag, img.PinnedDigest = repo, tag, digest
		}
	}
	if err := finish(img, v, false); err != nil {
		return nil, err
	}
	return img, blobs(img, v, false)
}
