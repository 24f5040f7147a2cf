package signature

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// errNotFound says a tag, manifest or blob does not exist.
var errNotFound = errors.New("not found")

// maxManifest bounds the manifests read here (signature and attestation
// manifests are a few KiB).
const maxManifest = 4 << 20

// Store is where an image's attachments are looked up: its registry
// repository, or the OCI layout it was read from.
type Store interface {
	// manifest returns the raw manifest for a tag or a digest ("sha256:...").
	manifest(ctx context.Context, ref string) ([]byte, error)
	// blob returns a blob, at most max bytes (more is an error).
	blob(ctx context.Context, d v1.Hash, max int64) ([]byte, error)
	// referrers returns the descriptors of the manifests whose subject is d.
	referrers(ctx context.Context, d v1.Hash) ([]v1.Descriptor, error)
	// String names the store in messages.
	String() string
}

type registryStore struct {
	repo name.Repository
	opts []remote.Option
}

// Registry returns the store of a registry repository ("host/namespace/name").
func Registry(repo string, opts ...remote.Option) (Store, error) {
	r, err := name.NewRepository(repo)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", repo, err)
	}
	return &registryStore{repo: r, opts: opts}, nil
}

func (s *registryStore) String() string { return s.repo.String() }

func (s *registryStore) manifest(ctx context.Context, ref string) ([]byte, error) {
	var r name.Reference = s.repo.Tag(ref)
	if strings.HasPrefix(ref, "sha256:") {
		r = s.repo.Digest(ref)
	}
	d, err := remote.Get(r, append(s.opts, remote.WithContext(ctx))...)
	if err != nil {
		return nil, registryErr(err)
	}
	if len(d.Manifest) > maxManifest {
		return nil, fmt.Errorf("manifest %s is %d bytes, over the limit of %d", ref, len(d.Manifest), maxManifest)
	}
	return d.Manifest, nil
}

func (s *registryStore) blob(ctx context.Context, d v1.Hash, max int64) ([]byte, error) {
	l, err := remote.Layer(s.repo.Digest(d.String()), append(s.opts, remote.WithContext(ctx))...)
	if err != nil {
		return nil, registryErr(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, registryErr(err)
	}
	defer rc.Close()
	return readMax(rc, d, max)
}

func (s *registryStore) referrers(ctx context.Context, d v1.Hash) ([]v1.Descriptor, error) {
	idx, err := remote.Referrers(s.repo.Digest(d.String()), append(s.opts, remote.WithContext(ctx))...)
	if err != nil {
		return nil, registryErr(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading the referrers of %s: %w", d, err)
	}
	return im.Manifests, nil
}

// registryErr maps a registry's 404 to errNotFound.
func registryErr(err error) error {
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
		return errNotFound
	}
	return err
}

// readMax reads at most max bytes of a blob and checks its digest.
func readMax(r io.Reader, d v1.Hash, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", d, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("blob %s is over the limit of %d bytes", d, max)
	}
	got, _, err := v1.SHA256(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if d.Algorithm == "sha256" && got != d {
		return nil, fmt.Errorf("blob %s: digest mismatch (got %s)", d, got)
	}
	return data, nil
}

// layoutStore reads an OCI image layout: tags are the ref.name annotations
// of index.json, referrers the manifests listed there whose subject matches.
type layoutStore struct {
	path  layout.Path
	index *v1.IndexManifest
}

// Layout returns the store of an OCI image layout directory.
func Layout(dir string) (Store, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%s is not an OCI layout: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading %s/index.json: %w", dir, err)
	}
	return &layoutStore{path: p, index: im}, nil
}

func (s *layoutStore) String() string { return "OCI layout " + string(s.path) }

func (s *layoutStore) manifest(ctx context.Context, ref string) ([]byte, error) {
	if !strings.HasPrefix(ref, "sha256:") {
		for _, d := range s.index.Manifests {
			if d.Annotations["org.opencontainers.image.ref.name"] == ref {
				return s.blob(ctx, d.Digest, maxManifest)
			}
		}
		return nil, errNotFound
	}
	h, err := v1.NewHash(ref)
	if err != nil {
		return nil, err
	}
	return s.blob(ctx, h, maxManifest)
}

func (s *layoutStore) blob(_ context.Context, d v1.Hash, max int64) ([]byte, error) {
	rc, err := s.path.Blob(d)
	if err != nil {
		return nil, errNotFound
	}
	defer rc.Close()
	return readMax(rc, d, max)
}

// maxLayoutReferrers bounds how many index.json entries are opened to find referrers.
const maxLayoutReferrers = 256

func (s *layoutStore) referrers(ctx context.Context, d v1.Hash) ([]v1.Descriptor, error) {
	var out []v1.Descriptor
	for i, desc := range s.index.Manifests {
		if i >= maxLayoutReferrers {
			break
		}
		if desc.MediaType != types.OCIManifestSchema1 || desc.Digest == d {
			continue
		}
		raw, err := s.blob(ctx, desc.Digest, maxManifest)
		if err != nil {
			continue
		}
		var m v1.Manifest
		if json.Unmarshal(raw, &m) != nil || m.Subject == nil || m.Subject.Digest != d {
			continue
		}
		desc.ArtifactType = m.ArtifactType
		if desc.ArtifactType == "" {
			desc.ArtifactType = string(m.Config.MediaType)
		}
		desc.Annotations = m.Annotations
		out = append(out, desc)
	}
	return out, nil
}
