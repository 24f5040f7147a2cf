package source

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
)

// openArchive opens "FILE[:TAG]" written by `docker save`.
func openArchive(s string, _ Options) (*Image, error) {
	file, want := splitPathRef(s)
	if _, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("no such file: %s", file)
	}
	entries, err := scanArchive(file)
	if err != nil {
		return nil, err
	}
	if _, ok := entries.sizes["manifest.json"]; !ok {
		return nil, fmt.Errorf("%s is a tar archive but not a docker-archive (docker save) tarball: it has no manifest.json (%s); it may also be cut short after its last entry, %s", file, plural(len(entries.names), "entry", "entries"), entries.last())
	}
	if n := entries.sizes["manifest.json"]; n > maxManifestSize {
		return nil, fmt.Errorf("%s: manifest.json is %d bytes, over the limit of %d", file, n, maxManifestSize)
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
	// The config is read whole and parsed: its size is bounded first, from
	// the tar header, before a byte of it is read.
	if n, ok := entries.sizes[path.Clean(desc.Config)]; ok && n > maxConfigSize {
		return nil, fmt.Errorf("%s: the image config %s is %d bytes, over the limit of %d for an image config (real ones are a few KiB); not read", file, desc.Config, n, maxConfigSize)
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
	img.Digest = archiveManifestDigest(file, entries, img.ImageID)
	return img, archiveBlobs(img, file, desc.Layers)
}

// maxManifestSize bounds the JSON files of an archive read whole (manifest.json, index.json, manifests).
const maxManifestSize = 4 << 20

// archiveEntries are the entries of a tar file, in order, with their sizes.
type archiveEntries struct {
	names []string
	sizes map[string]int64
}

func (e archiveEntries) last() string {
	if len(e.names) == 0 {
		return "none"
	}
	return e.names[len(e.names)-1]
}

// scanArchive reads the tar headers of an archive once, before anything
// else reads it, seeking over the contents. It tells a file that is not a
// tar archive at all from one cut short, naming the entry (a layer, the
// config) it ends in, and returns each entry's size, so that what is read
// whole can be bounded before it is read.
func scanArchive(file string) (archiveEntries, error) {
	e := archiveEntries{sizes: map[string]int64{}}
	f, err := os.Open(file)
	if err != nil {
		return e, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return e, err
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	if _, err := tar.NewReader(bytes.NewReader(head[:n])).Next(); n < 512 || (err != nil && err != io.EOF) {
		return e, fmt.Errorf("%s is not a tar archive (%s, starting %s), so not a docker-archive: give a `docker save` tarball or an OCI layout directory", file, plural(int(fi.Size()), "byte", "bytes"), quotedStart(head[:n]))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return e, err
	}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return e, nil
		}
		if err != nil {
			if len(e.names) == 0 {
				return e, fmt.Errorf("%s is not a readable tar archive: %w", file, err)
			}
			return e, fmt.Errorf("%s is truncated or corrupt after entry %s: %w", file, e.last(), err)
		}
		name := path.Clean(h.Name)
		e.names = append(e.names, name)
		e.sizes[name] = h.Size
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			continue
		}
		// tar.Reader reads headers straight from f: f is now at the entry's data.
		pos, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return e, err
		}
		if end := pos + h.Size; end > fi.Size() {
			return e, fmt.Errorf("%s is truncated at %s: the file ends inside it, %d of its %d bytes present (%d of the archive's entries read); save the image again", file, entryKind(name), max(fi.Size()-pos, 0), h.Size, len(e.names))
		}
	}
}

// entryKind names an archive entry for a message: a layer, or the file.
func entryKind(name string) string {
	switch {
	case strings.HasSuffix(name, "/layer.tar"), strings.HasPrefix(name, "blobs/"):
		return "layer (or blob) " + name
	}
	return "entry " + name
}

// quotedStart shows the first bytes of a file in a message.
func quotedStart(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	return fmt.Sprintf("%q", b)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// archiveManifestDigest returns the manifest digest an archive carries for
// the image whose config digest is imageID: `docker save` of Docker 25 and
// later writes the OCI layout (index.json, blobs/sha256/...) beside
// manifest.json. Older archives hold no manifest: then "" (their registry
// digest is only known once pushed; the image ID identifies them).
func archiveManifestDigest(file string, e archiveEntries, imageID string) string {
	readJSON := func(name string, v any) bool {
		if n, ok := e.sizes[name]; !ok || n > maxManifestSize {
			return false
		}
		rc, err := openArchiveEntry(file, name)
		if err != nil {
			return false
		}
		defer rc.Close()
		return json.NewDecoder(io.LimitReader(rc, maxManifestSize)).Decode(v) == nil
	}
	var search func(idx *v1.IndexManifest, depth int) string
	search = func(idx *v1.IndexManifest, depth int) string {
		for _, d := range idx.Manifests {
			blob := "blobs/" + d.Digest.Algorithm + "/" + d.Digest.Hex
			switch {
			case d.MediaType.IsImage():
				var m v1.Manifest
				if readJSON(blob, &m) && m.Config.Digest.String() == imageID {
					return d.Digest.String()
				}
			case d.MediaType.IsIndex() && depth < 2:
				var child v1.IndexManifest
				if readJSON(blob, &child) {
					if got := search(&child, depth+1); got != "" {
						return got
					}
				}
			}
		}
		return ""
	}
	var idx v1.IndexManifest
	if !readJSON("index.json", &idx) {
		return ""
	}
	return search(&idx, 0)
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
