// Package engine is the one place that wires shipshape's pipeline together,
// in two phases behind one API:
//
//	e, _ := engine.New(deps)               // long-lived, concurrency-safe
//	f, _ := e.Observe(ctx, "app.tar", opts) // source, the one pass, analyzers, supply chain
//	r, _ := e.Judge(ctx, f, pol, now)      // vulnerabilities, checks, policy, verdict
//
// Observe touches the image and the network; Judge touches neither, so stored
// facts can be judged again when advisories, end-of-life data, policies or
// exceptions change. An Engine is safe for concurrent use.
package engine

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/shipshape-dev/shipshape/internal/eol"
	"github.com/shipshape-dev/shipshape/internal/facts"
	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/secrets"
	"github.com/shipshape-dev/shipshape/internal/source"
	"github.com/shipshape-dev/shipshape/internal/supplychain"
	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

// Deps are an engine's long-lived dependencies. Each must be safe for
// concurrent use; the engine never changes them.
type Deps struct {
	// Vulns is the opened advisory database. Nil means vulnerabilities are
	// not evaluated: SEC-020 then fails with VulnsUnavailable as the reason,
	// unless SkipVulns is set.
	Vulns *vulndb.DB
	// VulnsUnavailable says why Vulns is nil ("no vulnerability database in ...").
	VulnsUnavailable string
	// SkipVulns says the omission of vulnerabilities is intended (--skip-vulns).
	SkipVulns bool
	// NoNetwork refuses registry references (--network=none); Remote and
	// Supply then carry transports that refuse every connection too.
	NoNetwork bool
	// EOL is the end-of-life data; nil means the copy built into the binary.
	EOL *eol.DB
	// Secrets is the secret scanner of CMP-004, CMP-006 and CMP-007; nil
	// means the built-in rules. SecretsID names its configuration (a digest
	// of the extra rules) so cached facts of another configuration are not used.
	Secrets   *secrets.Scanner
	SecretsID string
	// Supply configures how supply-chain evidence is gathered (the forge
	// client, Docker Content Trust); nil gathers it with no forge client.
	Supply *supplychain.Options
	// Remote are go-containerregistry options (transport, keychain) for every
	// registry access; nil means the Docker config's credentials.
	Remote []remote.Option
	// Cache keeps the layer facts of images already read; nil reads every time.
	Cache *facts.Cache
	// Limits bound the work a hostile image can cause.
	Limits imagefs.Limits
	// Version is shipshape's version, recorded in facts and reports.
	Version string
	// TempDir holds images saved from the Docker engine while they are read.
	TempDir string
	// Log receives debug and info lines; nil means slog.Default().
	Log *slog.Logger
}

// Engine observes and judges images.
type Engine struct {
	d Deps
}

// New returns an engine with deps. It loads the built-in end-of-life data
// when none is given.
func New(d Deps) (*Engine, error) {
	if d.EOL == nil {
		db, err := eol.Embedded()
		if err != nil {
			return nil, err
		}
		d.EOL = db
	}
	if d.TempDir == "" {
		d.TempDir = os.TempDir()
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Version == "" {
		d.Version = "dev"
	}
	return &Engine{d: d}, nil
}

// EOL returns the end-of-life data the engine judges with.
func (e *Engine) EOL() *eol.DB { return e.d.EOL }

// since is time.Since in seconds.
func since(t time.Time) float64 { return time.Since(t).Seconds() }

// Scan observes an opened image and judges it under pol at now: the whole
// `shipshape check` for one image.
func (e *Engine) Scan(ctx context.Context, img *source.Image, o ObserveOptions, pol *policy.Policy, now time.Time) (*report.Report, error) {
	f, err := e.ObserveImage(ctx, img, o)
	if err != nil {
		return nil, err
	}
	return e.Judge(ctx, f, pol, now)
}

// Vulns returns the advisory database the engine judges with (nil: none).
func (e *Engine) Vulns() *vulndb.DB { return e.d.Vulns }

// RemoteOptions returns the registry options the engine reads images with.
func (e *Engine) RemoteOptions() []remote.Option { return append([]remote.Option(nil), e.d.Remote...) }
