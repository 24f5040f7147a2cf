package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/probe"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/source"
)

type checkFlags struct {
	imageFlags
	allPlatforms bool
	probe        bool
	probeOpts    probeFlags
	format       string
	outputs      []string
	ref          string
	failOn       string
	color        string
	explain      bool
	severity     []string
	verbose      bool
	// factsFile is --facts: judge stored facts instead of reading the image.
	factsFile string
}

func newCheck() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check IMAGE",
		Short: "Judge an image and give a verdict",
		Long: `Judge an image on every check that needs only the image itself.

IMAGE is one of:
  host/repo:tag, host/repo@sha256:...   a registry (auth from the docker config and credential helpers)
  docker-archive:FILE.tar[:TAG]         a tarball written by docker save (a bare existing file works too)
  oci:DIR[:REF]                         an OCI image layout (a bare directory with index.json works too)
  docker-daemon:NAME                    an image in the local Docker engine

Exit codes: 0 pass, 1 policy failure, 2 usage or input error, 3 internal error.`,
		Example: `  shipshape check docker-archive:app.tar
  shipshape check --format json -o report.json registry.example.com/team/app:1.4.2
  shipshape check -o sarif=shipshape.sarif -o junit=junit.xml -o html=report.html docker-archive:app.tar
  shipshape check --fail-on high oci:build/layout:1.0`,
		Args: func(cmd *cobra.Command, args []string) error {
			if f.factsFile != "" {
				if len(args) != 0 {
					return usageError{fmt.Errorf("check --facts takes no IMAGE (the facts name it), got %s", countArgs(len(args)))}
				}
				return nil
			}
			if len(args) != 1 {
				return usageError{fmt.Errorf("check takes one IMAGE, got %s", countArgs(len(args)))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			input := ""
			if len(args) > 0 {
				input = args[0]
			}
			return runCheck(cmd, input, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "table", "output `FORMAT`: "+strings.Join(report.Formats, ", "))
	fl.StringArrayVarP(&f.outputs, "output", "o", nil, "write the report to `FILE` (in --format) instead of stdout, or FORMAT=FILE; repeat for several formats")
	fl.StringVar(&f.ref, "ref", "", "the reference that will be deployed (judged by REL-001), when it differs from how the image was read")
	fl.StringVar(&f.failOn, "fail-on", "veto", "what fails the run: veto, or a severity (critical, high, medium, low) that fails along with vetoes")
	fl.StringVar(&f.color, "color", "auto", "colour in table output: auto, always, never (auto: on a terminal, unless NO_COLOR is set)")
	fl.StringSliceVar(&f.severity, "severity", nil, "show only findings of these severities, comma-separated (critical,high,medium,low,info); the verdict is still judged on all of them")
	fl.BoolVar(&f.explain, "explain", false, "explain the scores, grade and verdict")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "also list passed and skipped checks")
	fl.BoolVar(&f.allPlatforms, "all-platforms", false, "judge every platform of an index and show how each differs from the first (table, json or markdown)")
	fl.BoolVar(&f.probe, "probe", false, "also run the image for real (the FIT checks; needs a container engine, see: shipshape probe --help)")
	addProbeFlags(fl, &f.probeOpts)
	fl.StringVar(&f.factsFile, "facts", "", "judge the facts `FILE` written by shipshape observe instead of reading an image")
	addImageFlags(fl, &f.imageFlags, true)
	return cmd
}

func runCheck(cmd *cobra.Command, input string, f checkFlags) error {
	pol, err := f.loadPolicy()
	if err != nil {
		return err
	}
	if _, err := parseSeverities(f.severity); err != nil {
		return err
	}
	if cmd.Flags().Changed("fail-on") {
		if err := setFailOn(pol, f.failOn); err != nil {
			return err
		}
	}
	if !report.KnownFormat(f.format) {
		return usageError{fmt.Errorf("--format %q: want one of %s", f.format, strings.Join(report.Formats, ", "))}
	}
	if _, err := f.useColor(cmd, ""); err != nil {
		return err
	}
	outs, err := parseOutputs(f.format, f.outputs)
	if err != nil {
		return err
	}
	if f.allPlatforms {
		return checkAllPlatforms(cmd, input, f, pol, outs)
	}
	var rep *report.Report
	if f.factsFile != "" {
		rep, err = judgeFactsFile(cmd, f, pol)
	} else {
		rep, err = judgeImage(cmd, input, f, pol, f.ref)
	}
	if err != nil {
		return err
	}
	if err := writeReport(cmd, rep, f, outs); err != nil {
		return err
	}
	if !rep.Verdict.Pass {
		return f.gate.failure()
	}
	return nil
}

// judgeImage observes one image and judges it: flags to engine options.
func judgeImage(cmd *cobra.Command, input string, f checkFlags, pol *policy.Policy, ref string) (*report.Report, error) {
	e, closeDB, err := f.newEngine(cmd, true)
	if err != nil {
		return nil, err
	}
	defer closeDB()
	o, err := f.observeOptions(cmd, pol, ref)
	if err != nil {
		return nil, err
	}
	if f.probe {
		o.Probe = func(ctx context.Context, img *source.Image) (*probe.Observations, error) {
			return runProbe(cmd, img, f.probeOpts)
		}
	}
	fs, err := e.Observe(cmd.Context(), input, o)
	if err != nil {
		return nil, err
	}
	rep, err := e.Judge(cmd.Context(), fs, pol, time.Time{})
	if err != nil {
		return nil, err
	}
	return f.judged(rep, pol), nil
}

// judgeFactsFile judges the facts of --facts; --ref renames the image.
func judgeFactsFile(cmd *cobra.Command, f checkFlags, pol *policy.Policy) (*report.Report, error) {
	fs, err := readFactsFile(f.factsFile)
	if err != nil {
		return nil, err
	}
	e, closeDB, err := f.newEngine(cmd, true)
	if err != nil {
		return nil, err
	}
	defer closeDB()
	var opts []engine.JudgeOption
	if f.ref != "" {
		opts = append(opts, engine.WithReference(f.ref))
	}
	rep, err := e.Judge(cmd.Context(), fs, pol, time.Time{}, opts...)
	if err != nil {
		return nil, err
	}
	return f.judged(rep, pol), nil
}

// output is one rendering of the report: a format and a file ("" is stdout).
type output struct{ format, file string }

// parseOutputs reads the -o flags: FILE (in format) or FORMAT=FILE. A
// FORMAT= prefix that names no format is an error, not a file name (a file
// whose name holds "=" can be given as ./NAME). Two renderings to one file,
// and files that cannot be written, are refused before any work is done.
func parseOutputs(format string, flags []string) ([]output, error) {
	var outs []output
	seen := map[string]string{}
	for _, o := range flags {
		fm, file, ok := strings.Cut(o, "=")
		switch {
		case !ok || strings.ContainsAny(fm, `/\`):
			fm, file = format, o
		case !report.KnownFormat(fm):
			return nil, usageError{fmt.Errorf("--output %q: unknown format %q: use FORMAT=FILE with FORMAT one of %s (a file whose name holds \"=\" can be written as ./%s)", o, fm, strings.Join(report.Formats, ", "), o)}
		}
		if file == "" {
			return nil, usageError{fmt.Errorf("--output %q: no file name (use FORMAT=FILE or FILE)", o)}
		}
		key := filepath.Clean(file)
		if abs, err := filepath.Abs(file); err == nil {
			key = abs
		}
		if prev, dup := seen[key]; dup {
			return nil, usageError{fmt.Errorf("--output: %s would be written twice (as %s and as %s): give each format its own file", file, prev, fm)}
		}
		seen[key] = fm
		if err := checkWritable(file); err != nil {
			return nil, err
		}
		outs = append(outs, output{fm, file})
	}
	if len(outs) == 0 {
		outs = []output{{format, ""}}
	}
	return outs, nil
}

// checkWritable says whether a report can be written to path: its directory
// exists (or can be made) and takes a new file, and path is not a directory
// or a special file. It leaves nothing behind.
func checkWritable(path string) error {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return usageError{fmt.Errorf("--output %s: not a regular file (%s); name a file to write the report to", path, st.Mode().Type())}
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageError{fmt.Errorf("--output %s: cannot create its directory: %w", path, err)}
	}
	tmp, err := os.CreateTemp(dir, ".shipshape-*")
	if err != nil {
		return usageError{fmt.Errorf("--output %s: cannot write there: %w", path, err)}
	}
	tmp.Close()
	os.Remove(tmp.Name())
	return nil
}

func writeReport(cmd *cobra.Command, rep *report.Report, f checkFlags, outs []output) error {
	sev, err := parseSeverities(f.severity)
	if err != nil {
		return err
	}
	wholeRun(cmd.Context(), rep)
	rep = shown(rep, sev)
	for _, o := range outs {
		if err := writeOne(cmd, rep, f, o); err != nil {
			return err
		}
	}
	if f.explain {
		w := cmd.OutOrStdout()
		if len(outs) != 1 || outs[0].file != "" || outs[0].format != "table" {
			w = cmd.ErrOrStderr()
		}
		fmt.Fprintf(w, "\n%s", explainVerdict(rep))
	}
	return nil
}

func writeOne(cmd *cobra.Command, rep *report.Report, f checkFlags, o output) error {
	color, err := f.useColor(cmd, o.file)
	if err != nil {
		return err
	}
	return writeFile(cmd.OutOrStdout(), o.file, func(w io.Writer) error {
		return report.Write(w, o.format, rep, report.TableOptions{Color: color, Verbose: f.verbose})
	})
}

// useColor says whether the table is coloured: --color always or never,
// else (auto) when writing to a terminal and NO_COLOR is not set.
func (f checkFlags) useColor(cmd *cobra.Command, file string) (bool, error) {
	switch f.color {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto", "":
	default:
		return false, usageError{fmt.Errorf("--color %q: want auto, always or never", f.color)}
	}
	if file != "" || os.Getenv("NO_COLOR") != "" {
		return false, nil
	}
	return isTerminal(cmd.OutOrStdout()), nil
}

// isTerminal says whether w is a terminal (a variable for the tests).
var isTerminal = func(w io.Writer) bool {
	out, ok := w.(*os.File)
	return ok && term.IsTerminal(int(out.Fd()))
}

// explainVerdict shows the formula with this report's numbers.
func explainVerdict(rep *report.Report) string {
	var b strings.Builder
	b.WriteString(policy.Explain())
	b.WriteString("This image\n")
	for _, d := range finding.Dimensions {
		sc, ok := rep.Verdict.Scores[d]
		if !ok {
			continue
		}
		var parts []string
		for _, r := range rep.Results {
			if r.Check.Dimension != d || r.Status != finding.Fail {
				continue
			}
			w := finding.Info
			for _, f := range r.Findings {
				w = max(w, f.Severity)
			}
			parts = append(parts, fmt.Sprintf("%s %s -%d", r.Check.ID, w, policy.Penalties[w]))
		}
		fmt.Fprintf(&b, "  %-16s %3d = 100 %s\n", d, sc, strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "  overall          %3d, grade %s, %d veto(es)\n", rep.Verdict.Score, rep.Verdict.Grade, len(rep.Verdict.Vetoes))
	return b.String()
}
