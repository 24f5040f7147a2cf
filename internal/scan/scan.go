// Package scan runs the whole judgement of one image: one pass over the
// layers, the inventory, the checks, the policy, and the report model.
package scan

import (
	"context"
	"fmt"
	"time"

	"github.com/shipshape-dev/shipshape/internal/analyzer"
	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/eol"
	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/probe"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/secrets"
	"github.com/shipshape-dev/shipshape/internal/source"
	"github.com/shipshape-dev/shipshape/internal/supplychain"
	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

// Options tune a scan.
type Options struct {
	// Policy judges the results; nil means policy.Default().
	Policy *policy.Policy
	Limits imagefs.Limits
	// EOL is the end-of-life data; nil means the embedded copy.
	EOL *eol.DB
	// Now is the time the image is judged at; zero means time.Now().
	Now     time.Time
	Version string
	// Probe holds what `shipshape probe` observed, for the FIT checks; nil skips them.
	Probe *probe.Observations
	// Vulns is the opened advisory database. Nil means vulnerabilities are
	// not evaluated: SEC-020 then fails with VulnsUnavailable as the reason,
	// unless SkipVulns is set.
	Vulns *vulndb.DB
	// VulnsUnavailable says why Vulns is nil ("no vulnerability database in ...").
	VulnsUnavailable string
	// SkipVulns says the omission of vulnerabilities is intended (--skip-vulns).
	SkipVulns bool
	// Secrets is the secret scanner (rules, allowlists, size cap) of CMP-004,
	// CMP-006 and CMP-007; nil means the built-in rules.
	Secrets *secrets.Scanner
	// Supply configures how the supply-chain evidence is gathered (registry
	// options, the forge client, Docker Content Trust); nil gathers it with
	// no forge client. The trust anchors and upstream sources come from Policy.
	Supply *supplychain.Options
}

// Image judges one opened image.
func Image(ctx context.Context, img *source.Image, o Options) (*report.Report, error) {
	start := time.Now()
	if o.Now.IsZero() {
		o.Now = start
	}
	if o.Policy == nil {
		o.Policy = policy.Default()
	}
	if o.EOL == nil {
		db, err := eol.Embedded()
		if err != nil {
			return nil, err
		}
		o.EOL = db
	}
	res, inv, err := analyzer.Run(ctx, img.Layers, analyzer.Options{Limits: o.Limits, Secrets: o.Secrets})
	if err != nil {
		return nil, err
	}
	vulns := matchVulns(inv, o)
	settings := o.Policy.Settings
	subj := &checks.Subject{Image: img, Config: img.Config, FS: res.FS, Inv: inv, EOL: o.EOL, Now: o.Now, Settings: &settings, Probe: o.Probe, Vulns: vulns}
	subj.Supply = gatherSupply(ctx, img, o)
	results, waivers := o.Policy.Apply(checks.RunAll(subj), img.Reference, o.Now)

	r := &report.Report{
		Schema:     report.Schema,
		Tool:       report.Tool{Name: "shipshape", Version: o.Version},
		Time:       o.Now.UTC(),
		Results:    results,
		Exceptions: waivers,
		Policy:     report.PolicyInfo{Source: policySource(o.Policy), Digest: o.Policy.Digest},
		Image: report.Image{
			Input:       img.Input,
			Source:      string(img.Kind),
			Reference:   img.Reference,
			Digest:      img.Digest,
			IndexDigest: img.IndexDigest,
			Platform:    img.Platform.String(),
			OS:          inv.OS,
			Layers:      redactLayers(res.FS.Layers()),
			Files:       res.FS.Entries(),
			Config:      configSummary(img.Config),
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
	if img.Config != nil && !img.Config.Created.IsZero() {
		t := img.Config.Created.UTC()
		r.Image.Created = &t
	}
	for _, w := range res.Warnings {
		r.Warnings = append(r.Warnings, w.String())
	}
	r.Warnings = append(r.Warnings, supplyWarnings(subj.Supply)...)
	for _, w := range vulns.Warnings {
		r.Warnings = append(r.Warnings, "vulnerabilities: "+w)
	}
	r.Data = dataInfo(o)
	if err := judge(r, o.Policy); err != nil {
		return nil, err
	}
	r.Duration = time.Since(start).Seconds()
	return r, nil
}

// matchVulns matches the inventory against the advisory database, or says
// why it was not.
func matchVulns(inv *inventory.Inventory, o Options) *vulndb.Report {
	switch {
	case o.SkipVulns:
		return vulndb.SkippedReport("--skip-vulns")
	case o.Vulns == nil:
		reason := o.VulnsUnavailable
		if reason == "" {
			reason = "no vulnerability database was given"
		}
		return vulndb.NotEvaluated(reason)
	}
	rep, err := o.Vulns.Match(inv)
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

// judge runs the policy's custom rules on the report model, then the verdict.
func judge(r *report.Report, p *policy.Policy) error {
	if len(p.Rules) > 0 {
		model, err := report.Model(r)
		if err != nil {
			return err
		}
		var ruled []checks.Result
		for _, rule := range p.Rules {
			ruled = append(ruled, rule.Run(model))
		}
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

// gatherSupply collects the supply-chain evidence with the policy's trust
// anchors and upstream sources.
func gatherSupply(ctx context.Context, img *source.Image, o Options) *supplychain.Evidence {
	var so supplychain.Options
	if o.Supply != nil {
		so = *o.Supply
	}
	so.Trust = o.Policy.Trust
	so.Sources = append(append([]supplychain.SourceMapping(nil), o.Policy.UpstreamSources...), so.Sources...)
	return supplychain.Gather(ctx, img, so)
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
func dataInfo(o Options) report.DataInfo {
	d := report.DataInfo{EOL: o.EOL.Source}
	switch {
	case o.SkipVulns:
		d.Vulnerabilities = "not evaluated: --skip-vulns"
	case o.Vulns == nil:
		d.Vulnerabilities = "not evaluated: " + o.VulnsUnavailable
	default:
		v := &report.VulnDBInfo{Dir: o.Vulns.Dir, Refreshed: o.Vulns.Refreshed().UTC()}
		for _, s := range o.Vulns.Sources() {
			v.Sources = append(v.Sources, report.VulnSourceInfo{Name: s.Name, Records: s.Records, Refreshed: s.Refreshed().UTC(), Newest: s.Newest.UTC()})
		}
		d.VulnDB = v
	}
	return d
}
