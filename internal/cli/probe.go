package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/netguard"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/probe"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/source"
)

// probeFlags are the options of a real run, shared by `probe` and `check --probe`.
type probeFlags struct {
	baseline     string
	network      string
	port         int
	httpPath     string
	metricsPath  string
	smokePath    string
	window       time.Duration
	startPeriod  time.Duration
	grace        time.Duration
	loadRate     int
	loadDuration time.Duration
	loadPath     string
	tests        string
}

func addProbeFlags(fl *pflag.FlagSet, p *probeFlags) {
	fl.StringVar(&p.baseline, "baseline", "", "the image in production, for the load comparison (FIT-007) and upgrade/rollback (FIT-008)")
	fl.StringVar(&p.network, "container-network", "host", "network mode of the probed container; its servers are reached on 127.0.0.1")
	fl.IntVar(&p.port, "port", 0, "the application's TCP port (default: the first exposed TCP port)")
	fl.StringVar(&p.httpPath, "http-path", "", "HTTP health path (default: the image's HEALTHCHECK, else a TCP connect)")
	fl.StringVar(&p.metricsPath, "metrics-path", "", "Prometheus metrics path (default: the prometheus.io/path label)")
	fl.StringVar(&p.smokePath, "smoke-path", "/", "path requested to check logs and upgrades")
	fl.DurationVar(&p.window, "window", 10*time.Second, "how long the container must stay up")
	fl.DurationVar(&p.startPeriod, "start-period", 60*time.Second, "how long to wait for health")
	fl.DurationVar(&p.grace, "grace", 10*time.Second, "stop timeout after SIGTERM")
	fl.IntVar(&p.loadRate, "load-rate", 0, "requests per second of the load test (default 50 when --baseline is given, else no load test)")
	fl.DurationVar(&p.loadDuration, "load-duration", 10*time.Second, "length of each load run")
	fl.StringVar(&p.loadPath, "load-path", "", "path of the load test (default --smoke-path)")
	fl.StringVar(&p.tests, "tests", "", "container-structure-test YAML `FILE` (FIT-009)")
}

func init() { extraCommands = append(extraCommands, newProbe) }

func newProbe() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "probe IMAGE",
		Short: "Run the image for real and judge how it behaves (the FIT checks)",
		Long: `Run IMAGE in a container engine (Docker, or podman's Docker-compatible socket through
DOCKER_HOST) and judge what happens: does it start and stay up (FIT-001), as which user, and
does it still work as 65534:65534 with a read-only root filesystem (FIT-002), does it become
healthy (FIT-003), do logs reach stdout/stderr (FIT-004), do metrics answer (FIT-005), does it
stop on SIGTERM (FIT-006), and with --baseline: load against the image in production (FIT-007)
and upgrade/rollback (FIT-008); with --tests: container-structure-test files (FIT-009).

Everything the probe creates is labelled dev.shipshape.probe and removed afterwards, even
on failure or Ctrl-C; leftovers of an interrupted run are removed by the next one.
Use ` + "`shipshape check --probe`" + ` for the static and the runtime checks in one report.

Unlike check, probe fails on high findings by default (--fail-on high): each is a measured
failure of the image, not a hygiene warning.

Exit codes: 0 pass, 1 policy failure, 2 usage or input error (or no engine), 3 internal error.`,
		Example: `  shipshape probe --http-path /healthz --metrics-path /metrics docker-archive:app.tar
  shipshape probe --baseline registry.example.com/team/app@sha256:PROD --tests cst.yaml candidate.tar`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("probe takes one IMAGE, got %s", countArgs(len(args)))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
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
			pol, err := f.loadPolicy()
			if err != nil {
				return err
			}
			if _, err := parseSeverities(f.severity); err != nil {
				return err
			}
			if cmd.Flags().Changed("fail-on") || pol.FailOn == nil {
				if err := setFailOn(pol, f.failOn); err != nil {
					return err
				}
			}
			rep, err := probeImage(cmd, args[0], f, pol)
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
		},
	}
	fl := cmd.Flags()
	addProbeFlags(fl, &f.probeOpts)
	fl.StringVar(&f.format, "format", "table", "output `FORMAT`: "+strings.Join(report.Formats, ", "))
	fl.StringArrayVarP(&f.outputs, "output", "o", nil, "write the report to `FILE` (in --format) instead of stdout, or FORMAT=FILE; repeat for several formats")
	fl.StringVar(&f.failOn, "fail-on", "high", "what fails the run: a severity (high: every measured failure of FIT-001/002/003/007/008/009), or veto")
	fl.StringVar(&f.color, "color", "auto", "colour in table output: auto, always, never (auto: on a terminal, unless NO_COLOR is set)")
	fl.StringSliceVar(&f.severity, "severity", nil, "show only findings of these severities, comma-separated (critical,high,medium,low,info); the verdict is still judged on all of them")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "also list passed and skipped checks")
	addImageFlags(fl, &f.imageFlags, true)
	return cmd
}

// probeImage runs the image and judges only the FIT checks: the layers are
// not read, since nothing of them would be judged.
func probeImage(cmd *cobra.Command, input string, f checkFlags, pol *policy.Policy) (*report.Report, error) {
	e, closeDB, err := f.newEngine(cmd, false)
	if err != nil {
		return nil, err
	}
	defer closeDB()
	o, err := f.observeOptions(cmd, pol, "")
	if err != nil {
		return nil, err
	}
	o.SkipLayers, o.SkipSupply = true, true
	o.Probe = func(ctx context.Context, img *source.Image) (*probe.Observations, error) {
		return runProbe(cmd, img, f.probeOpts)
	}
	fs, err := e.Observe(cmd.Context(), input, o)
	if err != nil {
		return nil, err
	}
	return e.Judge(cmd.Context(), fs, pol, time.Time{}, engine.OnlyDimensions(finding.Fit))
}

// runProbe loads the image (and the baseline) into the engine and runs the probe.
func runProbe(cmd *cobra.Command, img *source.Image, p probeFlags) (*probe.Observations, error) {
	ctx := cmd.Context()
	if netguard.From(ctx).None() {
		return nil, usageError{errors.New("--network=none: the probe runs the image in a container engine, with the network of --container-network; probe without --network=none")}
	}
	ref, cleanup, err := probe.Load(ctx, img)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	o := probe.Options{
		Image: ref, Config: img.Config, Network: p.network, Port: p.port, HTTPPath: p.httpPath, MetricsPath: p.metricsPath,
		SmokePath: p.smokePath, Window: p.window, StartPeriod: p.startPeriod, Grace: p.grace, LoadRate: p.loadRate,
		LoadDuration: p.loadDuration, LoadPath: p.loadPath, Tests: p.tests,
	}
	if p.tests != "" {
		if _, err := probe.LoadStructureTests(p.tests); err != nil {
			return nil, usageError{err}
		}
	}
	if p.baseline != "" {
		base, err := source.Open(ctx, p.baseline, sourceOptions(cmd))
		if err != nil {
			return nil, err
		}
		defer base.Close()
		bref, bclean, err := probe.Load(ctx, base)
		if err != nil {
			return nil, err
		}
		defer bclean()
		o.Baseline, o.BaselineConfig = bref, base.Config
	}
	if f, ok := cmd.ErrOrStderr().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		o.Progress = func(s string) { fmt.Fprintf(f, "\r\x1b[Kprobe: %s", s) }
		defer fmt.Fprint(f, "\r\x1b[K")
	}
	return probe.Run(ctx, o)
}
