package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/facts"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/source"
	"github.com/shipshape-dev/shipshape/internal/supplychain"
	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

// JudgeOption tunes one judgement.
type JudgeOption func(*judgeConfig)

type judgeConfig struct {
	dims []finding.Dimension
	ref  string
}

// OnlyDimensions judges only the checks of the given dimensions (probe judges Fit).
func OnlyDimensions(d ...finding.Dimension) JudgeOption {
	return func(c *judgeConfig) { c.dims = d }
}

// WithReference judges the image as deployed under ref instead of the
// reference it was observed under.
func WithReference(ref string) JudgeOption {
	return func(c *judgeConfig) { c.ref = ref }
}

// Judge matches the facts against the advisory database, runs the checks,
// applies the policy (nil means policy.Default()) and returns the report. It
// reads no layer and touches no network; now is the time the image is
// judged at (zero means time.Now()). Judge is safe for concurrent use and
// does not modify f.
func (e *Engine) Judge(ctx context.Context, f *facts.Facts, pol *policy.Policy, now time.Time, opts ...JudgeOption) (*report.Report, error) {
	start := time.Now()
	if f == nil || f.FS == nil || f.Inventory == nil {
		return nil, fmt.Errorf("judge: incomplete facts (no filesystem or inventory)")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var c judgeConfig
	for _, o := range opts {
		o(&c)
	}
	if now.IsZero() {
		now = start
	}
	if pol == nil {
		pol = policy.Default()
	}
	img := f.Image
	if c.ref != "" {
		if err := refOnto(&img, c.ref); err != nil {
			return nil, err
		}
	}
	inv := f.Inventory
	vulns := e.matchVulns(inv)
	settings := pol.Settings
	subj := &checks.Subject{Image: &img, Config: f.Config, FS: f.FS, Inv: inv, EOL: e.d.EOL, Now: now, Settings: &settings, Probe: f.Probe, Vulns: vulns, Supply: f.Supply}
	var cs []checks.Check
	for _, ch := range checks.Builtin() {
		if len(c.dims) == 0 || slices.Contains(c.dims, ch.Meta().Dimension) {
			cs = append(cs, ch)
		}
	}
	results, waivers := pol.Apply(checks.Run(cs, subj), img.Reference, now)

	r := &report.Report{
		Schema:     report.Schema,
		Tool:       report.Tool{Name: "shipshape", Version: e.d.Version},
		Time:       now.UTC(),
		Results:    results,
		Exceptions: waivers,
		Policy:     report.PolicyInfo{Source: policySource(pol), Digest: pol.Digest},
		Image: report.Image{
			Input:       img.Input,
			Source:      img.Kind,
			Reference:   img.Reference,
			Digest:      img.Digest,
			ImageID:     img.ImageID,
			IndexDigest: img.IndexDigest,
			Platform:    img.Platform.String(),
			OS:          inv.OS,
			Layers:      redactLayers(f.FS.Layers()),
			Files:       f.FS.Entries(),
			Config:      configSummary(f.Config),
		},
		Summary: report.Summary{
			Packages:    len(inv.Packages),
			PackageDBs:  inv.PackageDBs,
			Binaries:    len(inv.Binaries),
			Runtimes:    inv.Runtimes,
			Users:       inv.Accounts.Users,
			PackageList: inv.Packages,
		},
	}
	for _, p := range img.Platforms {
		r.Image.Platforms = append(r.Image.Platforms, p.String())
	}
	if f.Config != nil && !f.Config.Created.IsZero() {
		t := f.Config.Created.UTC()
		r.Image.Created = &t
	}
	r.Warnings = append(r.Warnings, f.Warnings...)
	if f.Supply != nil {
		r.Warnings = append(r.Warnings, supplyWarnings(f.Supply)...)
	}
	for _, w := range vulns.Warnings {
		r.Warnings = append(r.Warnings, "vulnerabilities: "+w)
	}
	if vulns.Evaluated {
		r.Vulnerabilities = report.LinkVulnerabilities(reportVulns(vulns.Vulnerabilities()), waivers)
	}
	r.Data = e.dataInfo()
	if err := judgeRules(r, pol); err != nil {
		return nil, err
	}
	r.Duration = f.ObserveSeconds + since(start)
	return r, nil
}

// matchVulns matches the inventory against the advisory database, or says
// why it was not.
func (e *Engine) matchVulns(inv *inventory.Inventory) *vulndb.Report {
	switch {
	case e.d.SkipVulns:
		return vulndb.SkippedReport("--skip-vulns")
	case e.d.Vulns == nil:
		reason := e.d.VulnsUnavailable
		if reason == "" {
			reason = "no vulnerability database was given"
		}
		return vulndb.NotEvaluated(reason)
	}
	rep, err := e.d.Vulns.Match(inv)
	if err != nil {
		return vulndb.NotEvaluated(fmt.Sprintf("matching failed: %v", err))
	}
	return rep
}

// redactLayers masks secrets in the history lines copied into the report.
func redactLayers(ls []imagefs.Layer) []imagefs.Layer {
	out := make([]imagefs.Layer, len(ls))
	for i, l := range ls {
		l.CreatedBy = checks.Redact(l.CreatedBy)
		out[i] = l
	}
	return out
}

// judgeRules runs the policy's custom rules on the report model, then the verdict.
func judgeRules(r *report.Report, p *policy.Policy) error {
	if len(p.Rules) > 0 {
		model, err := report.Model(r)
		if err != nil {
			return err
		}
		var ruled []finding.Result
		for _, rule := range p.Rules {
			ruled = append(ruled, rule.Run(model))
		}
		finding.Fingerprints(ruled)
		ruled, w := p.Apply(ruled, r.Image.Reference, r.Time)
		r.Results = append(r.Results, ruled...)
		r.Exceptions.Applied = append(r.Exceptions.Applied, w.Applied...)
	}
	r.Verdict = policy.Evaluate(r.Results, p)
	return nil
}

func policySource(p *policy.Policy) string {
	if p.Source == "" {
		return "built-in default"
	}
	return p.Source
}

// supplyWarnings are the supply-chain lookups that did not work, for the report's warnings.
func supplyWarnings(ev *supplychain.Evidence) []string {
	var out []string
	if ev.Attached != nil {
		for _, p := range ev.Attached.Problems {
			out = append(out, "signatures: "+p)
		}
	}
	u := ev.Upstream
	switch {
	case u.Error != "":
		out = append(out, "upstream: "+u.Error)
	case u.NotChecked != "" && u.Repo != nil:
		out = append(out, fmt.Sprintf("upstream: %s not checked: %s", u.Repo, u.NotChecked))
	case u.Health != nil && u.Health.Stale:
		out = append(out, fmt.Sprintf("upstream: %s answered from the cache of %s (%s)", u.Repo, u.Health.FetchedAt.Format("2006-01-02"), u.Health.StaleReason))
	}
	return out
}

// dataInfo records which reference data judged the image, and how old it is.
func (e *Engine) dataInfo() report.DataInfo {
	d := report.DataInfo{EOL: e.d.EOL.Source}
	switch {
	case e.d.SkipVulns:
		d.Vulnerabilities = "not evaluated: --skip-vulns"
	case e.d.Vulns == nil:
		d.Vulnerabilities = "not evaluated: " + e.d.VulnsUnavailable
	default:
		v := &report.VulnDBInfo{Dir: e.d.Vulns.Dir, Refreshed: e.d.Vulns.Refreshed().UTC()}
		for _, s := range e.d.Vulns.Sources() {
			v.Sources = append(v.Sources, report.VulnSourceInfo{Name: s.Name, Records: s.Records, Refreshed: s.Refreshed().UTC(), Newest: s.Newest.UTC()})
		}
		d.VulnDB = v
	}
	return d
}

// refOnto names a facts image by the reference that will be deployed.
func refOnto(img *facts.Image, ref string) error {
	repo, tag, digest, err := source.ParseReference(ref)
	if err != nil {
		return &source.InputError{Input: ref, Err: fmt.Errorf("--ref: %w", err)}
	}
	if err := source.CheckPin(digest, source.Identity{Kind: source.Kind(img.Kind), Digest: img.Digest, IndexDigest: img.IndexDigest, ImageID: img.ImageID, RepoDigests: img.RepoDigests}); err != nil {
		return &source.InputError{Input: img.Input, Err: err}
	}
	img.Reference, img.Repository, img.Tag, img.PinnedDigest = ref, repo, tag, digest
	return nil
}

// reportVulns copies the matches' structured form into the report's model.
func reportVulns(vs []vulndb.Vulnerability) []report.Vulnerability {
	out := make([]report.Vulnerability, 0, len(vs))
	for _, v := range vs {
		r := report.Vulnerability{
			ID: v.ID, Aliases: v.Aliases, Package: v.Package, Name: v.Name, InstalledPackages: v.InstalledPackages,
			Ecosystem: v.Ecosystem, OSVEcosystem: v.OSVEcosystem, Installed: v.Installed, Compared: v.Compared,
			Fixed: v.Fixed, HasFix: v.HasFix, LastAffected: v.LastAffected, Severity: v.Severity, SeveritySource: v.SeveritySource,
			Path: v.Path, Layer: v.Layer, Summary: v.Summary, Sources: v.Sources,
		}
		if c := v.CVSS; c != nil {
			r.CVSS = &report.CVSS{Score: c.Score, Vector: c.Vector, Version: c.Version, From: c.From}
		}
		if s := v.Vendor; s != nil {
			r.Vendor = &report.VendorSeverity{Source: s.Source, Value: s.Value, Rating: s.Rating}
		}
		out = append(out, r)
	}
	return out
}
