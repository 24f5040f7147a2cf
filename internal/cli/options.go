package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/eol"
	"github.com/shipshape-dev/shipshape/internal/facts"
	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/netguard"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/secrets"
	"github.com/shipshape-dev/shipshape/internal/source"
)

// imageFlags are the flags of every command that reads or judges images
// (check, observe, sbom, probe, diff): one builder, so they do not drift.
type imageFlags struct {
	platform   string
	policyFile string
	ignoreFile string
	maxEntries int
	maxLayerGB int64
	noCache    bool
	// skipVulns and vulnDir are the advisory database flags.
	skipVulns bool
	vulnDir   string
	// secretConfig is --secret-config: extra secret rules and allowlists.
	secretConfig string
	// supply are the supply-chain flags (--offline, --forge-url, ...).
	supply supplyFlags
	// gate are --exit-code, --ignore-unfixed and --ignore-list.
	gate gateFlags
}

// addImageFlags adds the shared flags. judging adds those only judging needs
// (policy, exceptions, advisories).
func addImageFlags(fl *pflag.FlagSet, f *imageFlags, judging bool) {
	fl.StringVar(&f.platform, "platform", "", "platform to read in a multi-platform index, `OS/ARCH` or os/arch/variant (default: the host's)")
	fl.IntVar(&f.maxEntries, "max-entries", 0, "stop on images with more tar entries than this (default 4,000,000)")
	fl.Int64Var(&f.maxLayerGB, "max-layer-size", 0, "stop on a layer larger than this many GiB uncompressed (default 64)")
	fl.BoolVar(&f.noCache, "no-cache", envTrue("SHIPSHAPE_NO_CACHE"), "read every layer even when the facts of this image are cached")
	fl.StringVar(&f.secretConfig, "secret-config", "", "`FILE` of secret rules and allowlists to add to the built-in ones (gitleaks-style TOML, see docs/secrets.md)")
	addSupplyFlags(fl, &f.supply)
	if judging {
		fl.StringVar(&f.policyFile, "policy", "", "policy `FILE` (YAML; write the default one with: shipshape policy init)")
		fl.StringVar(&f.ignoreFile, "ignore-file", "", "exceptions `FILE` (YAML with an exceptions list; default .shipshape-ignore.yaml when it exists)")
		addVulnFlags(fl, f)
		addGateFlags(fl, &f.gate)
	}
}

// loadPolicy reads the policy, the YAML exceptions and the plain ignore
// list of a judging command, after checking the gate flags.
func (f *imageFlags) loadPolicy() (*policy.Policy, error) {
	if err := f.gate.validate(); err != nil {
		return nil, err
	}
	pol, err := loadPolicy(f.policyFile, f.ignoreFile)
	if err != nil {
		return nil, err
	}
	if err := addIgnoreList(pol, f.gate.ignoreList); err != nil {
		return nil, err
	}
	return pol, nil
}

// judged applies what the flags change in a judgement: --ignore-unfixed.
func (f *imageFlags) judged(rep *report.Report, pol *policy.Policy) *report.Report {
	if f.gate.ignoreUnfixed {
		dropUnfixed(rep, pol)
	}
	return rep
}

// platformOption parses --platform.
func (f *imageFlags) platformOption() (*source.Options, error) {
	o := &source.Options{}
	if f.platform != "" {
		p, err := source.ParsePlatform(f.platform)
		if err != nil {
			return nil, usageError{fmt.Errorf("--platform: %w", err)}
		}
		o.Platform = p
	}
	return o, nil
}

// newEngine builds the engine the flags describe. close releases the
// advisory database.
func (f *imageFlags) newEngine(cmd *cobra.Command, judging bool) (e *engine.Engine, close func(), err error) {
	d := engine.Deps{
		Limits:    imagefs.Limits{MaxEntries: f.maxEntries, MaxLayerBytes: f.maxLayerGB << 30},
		Version:   Version(),
		TempDir:   os.TempDir(),
		Remote:    registryOptions(cmd),
		NoNetwork: netguard.From(cmd.Context()).None(),
	}
	close = func() {}
	if judging {
		eolDir, err := eol.DefaultDir()
		if err != nil {
			eolDir = ""
		}
		if d.EOL, err = eol.Load(eolDir); err != nil {
			return nil, nil, fmt.Errorf("loading end-of-life data from %s: %w (run `shipshape db import` again, or remove the directory to use the built-in copy)", eolDir, err)
		}
		db, reason, skip := openVulnDB(cmd, f)
		d.Vulns, d.VulnsUnavailable, d.SkipVulns = db, reason, skip
		if db != nil {
			close = func() { db.Close() }
		}
	}
	if f.secretConfig != "" {
		if d.Secrets, err = secrets.WithConfig(f.secretConfig); err != nil {
			close()
			return nil, nil, usageError{fmt.Errorf("--secret-config: %w", err)}
		}
		data, _ := os.ReadFile(f.secretConfig)
		sum := sha256.Sum256(data)
		d.SecretsID = hex.EncodeToString(sum[:])
	}
	if d.Supply, err = supplyOptions(cmd, f.supply); err != nil {
		close()
		return nil, nil, err
	}
	if !f.noCache {
		if dir, err := facts.DefaultCacheDir(); err == nil {
			d.Cache = &facts.Cache{Dir: dir, Max: cacheMax()}
		}
	}
	e, err = engine.New(d)
	if err != nil {
		close()
		return nil, nil, err
	}
	return e, close, nil
}

// observeOptions are the engine's options for one observation under pol.
func (f *imageFlags) observeOptions(cmd *cobra.Command, pol *policy.Policy, ref string) (engine.ObserveOptions, error) {
	so, err := f.platformOption()
	if err != nil {
		return engine.ObserveOptions{}, err
	}
	o := engine.ObserveOptions{Platform: so.Platform, Ref: ref, NoCache: f.noCache,
		Progress: func(layers []imagefs.Blob) func() { return withProgress(cmd.ErrOrStderr(), layers) }}
	if pol != nil {
		o.Trust, o.Sources = pol.Trust, pol.UpstreamSources
	}
	return o, nil
}
