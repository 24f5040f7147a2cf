package supplychain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/shipshape-dev/shipshape/internal/forge"
	"github.com/shipshape-dev/shipshape/internal/netguard"
	"github.com/shipshape-dev/shipshape/internal/signature"
	"github.com/shipshape-dev/shipshape/internal/source"
)

// Options configure Gather.
type Options struct {
	// Trust are the policy's keys and keyless identities.
	Trust signature.Trust
	// Remote are go-containerregistry options for registry lookups; nil
	// means the Docker config's credentials.
	Remote []remote.Option
	// SkipAttached does not look up signatures and attestations (NoAttached says why).
	SkipAttached bool
	NoAttached   string
	// Forge asks the upstream forge; nil means upstream maintenance is not
	// asked about, and NoForge says why (e.g. "--offline").
	Forge   *forge.Client
	NoForge string
	// Offline names what made the forge client offline, for the reason a
	// check was skipped ("--offline", the default, or "--network=none").
	Offline string
	// Sources map image repositories (patterns, as in trustedRegistries) to
	// source repositories, ahead of labels and provenance.
	Sources []SourceMapping
	// ContentTrust is set when Docker Content Trust is configured.
	ContentTrust string
}

// SourceMapping says which source repository an image repository is built from.
type SourceMapping struct {
	Image      string `json:"image"`
	Repository string `json:"repository"`
}

// Labels that say where the source is, in order of preference.
var sourceLabels = []string{"org.opencontainers.image.source", "org.label-schema.vcs-url", "org.opencontainers.image.url", "org.label-schema.url"}

// Labels that name a maintainer.
var maintainerLabels = []string{"org.opencontainers.image.authors", "org.opencontainers.image.vendor", "org.label-schema.vendor", "maintainer"}

// Gather collects the evidence for img. It does not fail: lookups that do
// not work are recorded in the evidence for the checks to report.
func Gather(ctx context.Context, img *source.Image, o Options) *Evidence {
	ev := &Evidence{ContentTrust: o.ContentTrust}
	ev.Origin = origin(img)
	ev.Attached, ev.NotLooked = attached(ctx, img, o)
	labels := map[string]string{}
	author := ""
	if img.Config != nil {
		if img.Config.Config.Labels != nil {
			labels = img.Config.Config.Labels
		}
		author = img.Config.Author
	}
	provenance(ev)
	base(ev, labels)
	ev.Upstream = upstream(ctx, ev, labels, author, o)
	return ev
}

func origin(img *source.Image) Origin {
	o := Origin{Kind: string(img.Kind), Reference: img.Reference, Digest: img.Digest, IndexDigest: img.IndexDigest, PinnedDigest: img.PinnedDigest}
	if img.Repository != "" {
		o.Repository = NormalizeRepository(img.Repository)
	}
	return o
}

// attached finds the signatures and attestations where the image lives.
func attached(ctx context.Context, img *source.Image, o Options) (*signature.Report, string) {
	if o.SkipAttached {
		return nil, o.NoAttached
	}
	if img.Digest == "" {
		return nil, fmt.Sprintf("a %s image has no manifest digest, so nothing signed can be matched to it; judge the image as pushed to its registry (a registry reference) to check its signatures and attestations", img.Kind)
	}
	var st signature.Store
	var err error
	switch img.Kind {
	case source.Registry:
		opts := o.Remote
		if opts == nil {
			opts = []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}
		}
		st, err = signature.Registry(img.Repository, opts...)
	case source.OCILayout:
		st, err = signature.Layout(layoutDir(img.Input))
	default:
		return nil, fmt.Sprintf("signatures and attestations live in a registry, and a %s image carries none; judge the image as pushed to its registry (a registry reference) to check them", img.Kind)
	}
	if err != nil {
		return nil, "signatures and attestations could not be looked up: " + err.Error()
	}
	return signature.Find(ctx, st, img.Digest, img.IndexDigest, o.Trust), ""
}

// layoutDir recovers the directory of an "oci:DIR[:REF]" or bare DIR input.
func layoutDir(input string) string {
	s := strings.TrimPrefix(input, "oci:")
	for {
		if fi, err := os.Stat(s); err == nil && fi.IsDir() {
			return s
		}
		i := strings.LastIndex(s, ":")
		if i <= 0 {
			return filepath.Clean(strings.TrimPrefix(input, "oci:"))
		}
		s = s[:i]
	}
}

// provenance picks the best SLSA provenance: verified first, then any readable one.
func provenance(ev *Evidence) {
	if ev.Attached == nil {
		return
	}
	rank := map[signature.Status]int{signature.Verified: 0, signature.Unsigned: 1, signature.Unchecked: 2, signature.Invalid: 3}
	best := -1
	for _, a := range ev.Attached.Attestations {
		r, ok := rank[a.Status]
		if a.Provenance == nil || !ok || best >= 0 && r >= rank[ev.Origin.ProvenanceStatus] {
			continue
		}
		best = r
		ev.Origin.Provenance, ev.Origin.ProvenanceStatus = a.Provenance, a.Status
	}
	if p := ev.Origin.Provenance; p != nil {
		ev.Origin.BuildImages = p.BaseImages
	}
}

// base reads the base image from the OCI base labels, else the provenance
// (when the build pulled exactly one image).
func base(ev *Evidence, labels map[string]string) {
	if b := labels["org.opencontainers.image.base.name"]; b != "" {
		if d := labels["org.opencontainers.image.base.digest"]; d != "" && !strings.Contains(b, "@") {
			b += "@" + d
		}
		ev.Origin.Base, ev.Origin.BaseFrom = b, "label org.opencontainers.image.base.name"
		return
	}
	if imgs := ev.Origin.BuildImages; len(imgs) == 1 {
		ev.Origin.Base, ev.Origin.BaseFrom = imgs[0], fmt.Sprintf("provenance (%s)", ev.Origin.ProvenanceStatus)
	}
}

// upstream finds the source repository and asks its forge about it.
func upstream(ctx context.Context, ev *Evidence, labels map[string]string, author string, o Options) Upstream {
	var u Upstream
	for _, k := range maintainerLabels {
		if v := strings.TrimSpace(labels[k]); v != "" {
			u.Maintainer, u.MaintainerFrom = v, "label "+k
			break
		}
	}
	if u.Maintainer == "" && strings.TrimSpace(author) != "" {
		u.Maintainer, u.MaintainerFrom = strings.TrimSpace(author), "config author (MAINTAINER)"
	}
	for _, m := range o.Sources {
		if ev.Origin.Repository != "" && Match(m.Image, ev.Origin.Repository) {
			u.Source, u.From = m.Repository, "policy upstream.sources ("+m.Image+")"
			break
		}
	}
	for _, k := range sourceLabels {
		if u.Source != "" {
			break
		}
		v := strings.TrimSpace(labels[k])
		if v == "" {
			continue
		}
		if strings.HasSuffix(k, "url") {
			// A url label is often a home page: take it only when it names a repository.
			if _, err := forge.ParseRepo(v); err != nil {
				continue
			}
		}
		u.Source, u.From = v, "label "+k
	}
	if p := ev.Origin.Provenance; u.Source == "" && p != nil && p.SourceRepo != "" {
		u.Source, u.From = p.SourceRepo, fmt.Sprintf("provenance (%s)", ev.Origin.ProvenanceStatus)
	}
	if u.Source == "" {
		return u
	}
	r, err := forge.ParseRepo(u.Source)
	if err != nil {
		u.ParseError = err.Error()
		return u
	}
	u.Repo = &r
	switch {
	case o.Forge == nil:
		u.NotChecked, u.ByChoice = o.NoForge, true
		if u.NotChecked == "" {
			u.NotChecked = "no forge client was configured"
		}
		return u
	case !o.Forge.Supports(r.Host):
		u.NotChecked = (&forge.UnsupportedError{Host: r.Host}).Error()
		return u
	}
	h, err := o.Forge.Health(ctx, r)
	var rl *forge.RateLimitError
	switch {
	case errors.Is(err, forge.ErrOffline):
		u.NotChecked, u.ByChoice = firstNonEmpty(o.Offline, "--offline")+", and no cached answer from "+r.Host, true
	case netguard.Unreachable(err):
		// An air-gapped CI cannot reach the forge: that is how the run is
		// placed, not a finding about the image.
		u.NotChecked, u.ByChoice = fmt.Sprintf("%s could not be reached (%v); in an air-gapped network say so with --offline or --network=none", r.Host, err), true
	case errors.As(err, &rl):
		u.Error, u.RateLimited = err.Error(), true
	case err != nil:
		u.Error = err.Error()
	default:
		u.Health = h
	}
	return u
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
