// Package scan runs the whole judgement of one image: one pass over the
// layers, the inventory, the checks, the policy, and the report model.
package scan

import (
	"context"
	"time"

	"github.com/shipshape-dev/shipshape/internal/analyzer"
	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/eol"
	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/source"
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
	res, inv, err := analyzer.Run(ctx, img.Layers, o.Limits)
	if err != nil {
		return nil, err
	}
	settings := o.Policy.Settings
	subj := &checks.Subject{Image: img, Config: img.Config, FS: res.FS, Inv: inv, EOL: o.EOL, Now: o.Now, Settings: &settings}
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
	if err := judge(r, o.Policy); err != nil {
		return nil, err
	}
	r.Duration = time.Since(start).Seconds()
	return r, nil
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
