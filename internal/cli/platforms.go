package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/diff"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
)

// MultiSchema identifies the JSON written by `check --all-platforms`.
const MultiSchema = "https://shipshape.dev/schemas/platforms/v1"

// platformsReport is every platform's report and how each differs from the first.
type platformsReport struct {
	Schema      string           `json:"schema"`
	Platforms   []*report.Report `json:"platforms"`
	Differences []*diff.Diff     `json:"differences"`
}

// checkAllPlatforms judges every platform of an index (MNT-005's
// --all-platforms) and shows how each differs from the first.
func checkAllPlatforms(cmd *cobra.Command, input string, f checkFlags, pol *policy.Policy, outs []output) error {
	for _, o := range outs {
		if o.format != "table" && o.format != "json" && o.format != "markdown" {
			return usageError{fmt.Errorf("--all-platforms writes table, json or markdown, not %s", o.format)}
		}
	}
	e, closeDB, err := f.newEngine(cmd, true)
	if err != nil {
		return err
	}
	defer closeDB()
	o, err := f.observeOptions(cmd, pol, f.ref)
	if err != nil {
		return err
	}
	observed, err := e.ObservePlatforms(cmd.Context(), input, o)
	if err != nil {
		return err
	}
	var reps []*report.Report
	for _, fs := range observed {
		rep, err := e.Judge(cmd.Context(), fs, pol, time.Time{})
		if err != nil {
			return fmt.Errorf("platform %s: %w", fs.Image.Platform.String(), err)
		}
		reps = append(reps, f.judged(rep, pol))
	}
	all := platformsReport{Schema: MultiSchema, Platforms: reps}
	for _, r := range reps[1:] {
		all.Differences = append(all.Differences, diff.Compare(reps[0], r))
	}
	for _, o := range outs {
		if err := writePlatforms(cmd, all, f, o); err != nil {
			return err
		}
	}
	for _, r := range reps {
		if !r.Verdict.Pass {
			return f.gate.failure()
		}
	}
	return nil
}

func writePlatforms(cmd *cobra.Command, all platformsReport, f checkFlags, o output) error {
	return writeFile(cmd.OutOrStdout(), o.file, func(w io.Writer) error { return renderPlatforms(w, all, f, o) })
}

func renderPlatforms(w io.Writer, all platformsReport, f checkFlags, o output) error {
	if o.format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	}
	sev, err := parseSeverities(f.severity)
	if err != nil {
		return err
	}
	for _, r := range all.Platforms {
		fmt.Fprintf(w, "\n=== %s ===\n\n", r.Image.Platform)
		if err := report.Write(w, o.format, shown(r, sev), report.TableOptions{Verbose: f.verbose}); err != nil {
			return err
		}
	}
	for i, d := range all.Differences {
		fmt.Fprintf(w, "\n=== %s compared with %s ===\n\n", all.Platforms[i+1].Image.Platform, all.Platforms[0].Image.Platform)
		var err error
		if o.format == "markdown" {
			err = diff.WriteMarkdown(w, d)
		} else {
			err = diff.WriteTable(w, d)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
