package source

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
)

// openArchive opens "FILE[:TAG]" written by `docker save`.
func openArchive(s string, _ Options) (*Image, error) {
	file, want := splitPathRef(s)
	if _, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("no such file: %s", file)
	}
	opener := func() (io.ReadCloser, error) { return os.Open(file) }
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
	img := &Image{archive: file}
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
	desc := m[0]
	if tagRef != nil {
		found := false
		for _, d := range m {
			for _, rt := range d.RepoTags {
				if t, err := name.NewTag(rt); err == nil && t.String() == tagRef.String() {
					desc, found = d, true
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("%s has no image tagged %s (tags: %s)", file, want, strings.Join(tags, ", "))
		}
	}
	return img, archiveBlobs(img, file, desc.Layers)
}

// archiveBlobs reads the layers straight from the archive's tar entries, as
// they are stored (plain tar, gzip or zstd, detected by the walk), checked
// against the config's diff IDs. go-containerregistry's layers would hash
// compressed layers once more to make up a manifest, and decompress with the
// slower standard gzip.
func archiveBlobs(img *Image, file string, paths []string) error {
	if len(paths) != len(img.Config.RootFS.DiffIDs) {
		return fmt.Errorf("manifest.json lists %d layers but the config %d diff IDs", len(paths), len(img.Config.RootFS.DiffIDs))
	}
	hist := historyLines(img.Config, len(paths))
	img.Layers = make([]imagefs.Blob, len(paths))
	for i, p := range paths {
		p := p
		img.Layers[i] = imagefs.Blob{
			DiffID:    img.Config.RootFS.DiffIDs[i].String(),
			CreatedBy: hist[i],
			Open:      func() (io.ReadCloser, error) { return openArchiveEntry(file, p) },
		}
	}
	return nil
}

// openArchiveEntry returns the content of the entry named p in the tar file,
// following links between entries (older docker save writes repeated layers
// as symlinks) a few hops at most.
func openArchiveEntry(file, p string) (io.ReadCloser, error) {
	for hop := 0; hop < 4; hop++ {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		tr := tar.NewReader(f)
		next := ""
		for {
			h, err := tr.Next()
			if err == io.EOF {
				f.Close()
				return nil, fmt.Errorf("%s: no entry %s", file, p)
			}
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("%s: reading the archive: %w", file, err)
			}
			if path.Clean(h.Name) != path.Clean(p) {
				continue
			}
			switch h.Typeflag {
			case tar.TypeSymlink:
				next = path.Join(path.Dir(p), h.Linkname)
			case tar.TypeLink:
				next = h.Linkname
			default:
				return struct {
					io.Reader
					io.Closer
				}{tr, f}, nil
			}
			break
		}
		f.Close()
		p = next
	}
	return nil, fmt.Errorf("%s: too many links to reach a layer", file)
}
