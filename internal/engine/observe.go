package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/analyzer"
	"github.com/shipshape-dev/shipshape/internal/facts"
	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/probe"
	"github.com/shipshape-dev/shipshape/internal/signature"
	"github.com/shipshape-dev/shipshape/internal/source"
	"github.com/shipshape-dev/shipshape/internal/supplychain"
)

// ObserveOptions tune one observation.
type ObserveOptions struct {
	// Platform picks one image of a multi-platform index; nil means the host's.
	Platform *v1.Platform
	// Ref is the reference that will really be deployed, when it differs from
	// how the image was read (an archive's future registry name). A digest in
	// it must be the image's (or its index's) digest.
	Ref string
	// Trust and Sources come from the policy: the keys and identities
	// signatures are verified with, and image-to-source mappings for MNT-007.
	Trust   signature.Trust
	Sources []supplychain.SourceMapping
	// SkipSupply does not gather supply-chain evidence (sbom needs none).
	SkipSupply bool
	// SkipLayers does not read the layers (probe judges only how the image
	// runs): the facts then hold an empty filesystem and inventory.
	SkipLayers bool
	// SkipSecrets does not run the secret scanner (sbom needs no secrets);
	// facts read so are incomplete and not cached.
	SkipSecrets bool
	// NoCache reads the layers even when their facts are cached.
	NoCache bool
	// Probe, when set, runs the image and returns what it observed.
	Probe func(ctx context.Context, img *source.Image) (*probe.Observations, error)
	// Progress, when set, is called before the layers are read (it may wrap
	// their readers) and returns a function called when reading ends.
	Progress func(layers []imagefs.Blob) func()
}

// Open opens an image with the engine's registry options.
func (e *Engine) Open(ctx context.Context, input string, platform *v1.Platform) (*source.Image, error) {
	return source.Open(ctx, input, source.Options{Platform: platform, TempDir: e.d.TempDir, Remote: e.d.Remote, NoNetwork: e.d.NoNetwork})
}

// Observe opens input and observes it: see ObserveImage.
func (e *Engine) Observe(ctx context.Context, input string, o ObserveOptions) (*facts.Facts, error) {
	img, err := e.Open(ctx, input, o.Platform)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	return e.ObserveImage(ctx, img, o)
}

// ObservePlatforms opens input once and observes every platform of its
// index (a single-platform image gives one), in the index's order. The
// index is fetched once; each platform's layers are read once.
func (e *Engine) ObservePlatforms(ctx context.Context, input string, o ObserveOptions) ([]*facts.Facts, error) {
	img, err := source.Open(ctx, input, source.Options{Platform: o.Platform, AnyPlatform: true, TempDir: e.d.TempDir, Remote: e.d.Remote, NoNetwork: e.d.NoNetwork})
	if err != nil {
		return nil, err
	}
	defer img.Close()
	platforms := img.Platforms
	if len(platforms) == 0 {
		f, err := e.ObserveImage(ctx, img, o)
		if err != nil {
			return nil, err
		}
		return []*facts.Facts{f}, nil
	}
	var out []*facts.Facts
	for _, p := range platforms {
		pi, err := img.ForPlatform(p)
		if err != nil {
			return nil, err
		}
		f, err := e.ObserveImage(ctx, pi, o)
		if err != nil {
			return nil, fmt.Errorf("platform %s: %w", p.String(), err)
		}
		out = append(out, f)
	}
	return out, nil
}

// ObserveImage reads an opened image once: the layers through every
// analyzer (or their facts from the cache, keyed by the image's content),
// then the supply-chain evidence and, when asked, a probe run.
func (e *Engine) ObserveImage(ctx context.Context, img *source.Image, o ObserveOptions) (*facts.Facts, error) {
	start := time.Now()
	if o.Ref != "" {
		if err := applyRef(img, o.Ref); err != nil {
			return nil, err
		}
	}
	f := &facts.Facts{
		Schema: facts.Schema, Version: facts.Version, Analyzers: analyzer.Version, Tool: e.d.Version,
		ObservedAt: start.UTC(), Image: facts.Describe(img), Config: img.Config,
	}
	var obs *probe.Observations
	if o.Probe != nil {
		var err error
		if obs, err = o.Probe(ctx, img); err != nil {
			return nil, err
		}
		f.Probe = obs
	}
	layer, err := e.layerFacts(ctx, img, o)
	if err != nil {
		return nil, err
	}
	f.FS, f.Inventory, f.Warnings, f.Cached = layer.FS, layer.Inventory, layer.Warnings, layer.cached
	if !o.SkipSupply {
		so := supplychain.Options{}
		if e.d.Supply != nil {
			so = *e.d.Supply
		}
		if so.Remote == nil {
			so.Remote = e.d.Remote
		}
		so.Trust = o.Trust
		so.Sources = append(append([]supplychain.SourceMapping(nil), o.Sources...), so.Sources...)
		f.Supply = supplychain.Gather(ctx, img, so)
	}
	f.ObserveSeconds = since(start)
	return f, nil
}

type layerResult struct {
	facts.Layer
	cached bool
}

// layerFacts reads the layers, or takes their facts from the cache.
func (e *Engine) layerFacts(ctx context.Context, img *source.Image, o ObserveOptions) (layerResult, error) {
	if o.SkipLayers {
		return layerResult{Layer: facts.Layer{FS: imagefs.Empty(), Inventory: &inventory.Inventory{Binaries: map[string]*inventory.Binary{}, Owned: map[string]string{}}}}, nil
	}
	key := ""
	if e.d.Cache != nil && !o.NoCache && img.ImageID != "" {
		// The config digest names every layer's diff ID; the blob digests
		// name the compressed bytes a registry or layout serves.
		parts := []string{"secrets=" + e.d.SecretsID}
		for _, l := range img.Layers {
			parts = append(parts, "layer="+l.Digest+" "+l.DiffID)
		}
		key = facts.Key(img.ImageID, analyzer.Version, parts...)
		if l, ok := e.d.Cache.Get(key); ok {
			e.d.Log.Debug("layer facts from the cache", "image", img.Input, "image_id", img.ImageID)
			return layerResult{Layer: *l, cached: true}, nil
		}
	}
	done := func() {}
	if o.Progress != nil {
		done = o.Progress(img.Layers)
	}
	ao := analyzer.Options{Limits: e.d.Limits, Secrets: e.d.Secrets}
	if o.SkipSecrets {
		ao.Skip = []string{"secrets"}
	}
	res, inv, err := analyzer.Run(ctx, img.Layers, ao)
	done()
	if err != nil {
		var le *imagefs.LayerError
		if errors.As(err, &le) {
			return layerResult{}, fmt.Errorf("image %q: %w", img.Input, err)
		}
		return layerResult{}, err
	}
	if inv.Owned == nil {
		inv.Owned = map[string]string{}
	}
	l := facts.Layer{FS: res.FS, Inventory: inv}
	for _, w := range res.Warnings {
		l.Warnings = append(l.Warnings, w.String())
	}
	if key != "" && !o.SkipSecrets {
		if err := e.d.Cache.Put(key, &l); err != nil {
			e.d.Log.Warn("the facts cache could not be written; the next check reads the image again", "err", err)
		}
	}
	return layerResult{Layer: l}, nil
}

// applyRef names the image by the reference that will be deployed.
func applyRef(img *source.Image, ref string) error {
	repo, tag, digest, err := source.ParseReference(ref)
	if err != nil {
		return &source.InputError{Input: ref, Err: fmt.Errorf("--ref: %w", err)}
	}
	if err := source.CheckPin(digest, source.Identity{Kind: img.Kind, Digest: img.Digest, IndexDigest: img.IndexDigest, ImageID: img.ImageID, RepoDigests: img.RepoDigests}); err != nil {
		return &source.InputError{Input: img.Input, Err: err}
	}
	img.Reference, img.Repository, img.Tag, img.PinnedDigest = ref, repo, tag, digest
	return nil
}
