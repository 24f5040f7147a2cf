// Package cli is shipshape's command line: it parses flags, calls the
// engine and maps outcomes to exit codes. cmd/shipshape only calls Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/probe"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/source"
)

// Exit codes.
const (
	ExitPass     = 0
	ExitPolicy   = 1
	ExitInput    = 2
	ExitInternal = 3
)

// version is set at build time with -ldflags "-X github.com/shipshape-dev/shipshape/internal/cli.version=...".
var version = ""

// Version returns the program's version.
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// extraCommands are added to the root by the files that define them
// (`func init() { extraCommands = append(extraCommands, newSBOM) }`).
var extraCommands []func() *cobra.Command

// usageError marks a mistake in the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

// policyFailure is returned when the verdict is FAIL.
var policyFailure = errors.New("policy failed")

// Main runs the command line and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.WithValue(context.Background(), runStartKey{}, time.Now()), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var rc runControl
	root := newRoot(stdout, stderr, &rc)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if rc.cancel != nil {
		if err != nil && errors.Is(context.Cause(rc.ctx), errTimeout) {
			err = usageError{fmt.Errorf("timed out after %s (--timeout): raise --timeout (or SHIPSHAPE_TIMEOUT), or give 0 for no limit", rc.timeout)}
		}
		rc.cancel()
	}
	code := exitCode(err)
	if err != nil && !errors.Is(err, policyFailure) {
		fmt.Fprintf(stderr, "shipshape: %v\n", err)
		if code == ExitInternal {
			fmt.Fprintln(stderr, "This is a bug in shipshape; please report it with the command line you ran.")
		}
	}
	return code
}

func exitCode(err error) int {
	var ue usageError
	var pf policyFailed
	var ie *source.InputError
	var le *imagefs.LayerError
	var pe *policy.Error
	var ee *probe.EngineError
	switch {
	case err == nil:
		return ExitPass
	case errors.As(err, &pf):
		return pf.code
	case errors.Is(err, policyFailure):
		return ExitPolicy
	case errors.As(err, &ue), errors.As(err, &ie), errors.As(err, &le), errors.As(err, &pe), errors.As(err, &ee):
		return ExitInput
	case errors.Is(err, context.Canceled):
		return ExitInput
	}
	return ExitInternal
}

// runStartKey keys the time the run started in the command's context.
type runStartKey struct{}

// wholeRun sets the report's duration to the time this run took so far,
// from the command line to the report: opening the image (a docker save,
// a pull), the probe, reading and judging. A judgement of stored facts
// does not count the time their observation took.
func wholeRun(ctx context.Context, rep *report.Report) {
	if t, ok := ctx.Value(runStartKey{}).(time.Time); ok {
		rep.Duration = time.Since(t).Seconds()
	}
}

// errTimeout is the cause of the context's end when --timeout passed.
var errTimeout = errors.New("--timeout exceeded")

// runControl is the deadline --timeout puts on the whole run.
type runControl struct {
	timeout time.Duration
	ctx     context.Context
	cancel  context.CancelFunc
}

func newRoot(stdout, stderr io.Writer, rc *runControl) *cobra.Command {
	var logLevel string
	root := &cobra.Command{
		Use:           "shipshape",
		Version:       Version(),
		Short:         "Judge whether a container image is fit to run in production",
		Long:          "shipshape judges a container image on security, reliability, maintainability, compliance and measured fit, gives one verdict with evidence, and fails the CI job when the image must not ship.\n\nExit codes: 0 pass, 1 policy failure, 2 usage or input error, 3 internal error.",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := flagsFromEnv(cmd); err != nil {
				return err
			}
			if err := startGuard(cmd); err != nil {
				return err
			}
			if rc.timeout < 0 {
				return usageError{fmt.Errorf("--timeout %s: want a duration such as 90s or 10m, or 0 for no limit", rc.timeout)}
			}
			if rc.timeout > 0 {
				rc.ctx, rc.cancel = context.WithTimeoutCause(cmd.Context(), rc.timeout, errTimeout)
				cmd.SetContext(rc.ctx)
			}
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
				return usageError{fmt.Errorf("--log-level: %w", err)}
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl})))
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	root.PersistentFlags().DurationVar(&rc.timeout, "timeout", 0, "stop the whole run after this long, as a usage or input error (exit 2), e.g. 10m (default: no limit)")
	root.SetVersionTemplate("shipshape {{.Version}}\n")
	// --version without -v, which the subcommands use for --verbose.
	root.Flags().Bool("version", false, "print shipshape's version (as shipshape version does)")
	root.SetUsageTemplate(root.UsageTemplate() + `{{if .HasAvailableFlags}}
Every flag can also be set in the environment as SHIPSHAPE_<FLAG>, upper case with
underscores (SHIPSHAPE_FAIL_ON=high, SHIPSHAPE_OFFLINE=true); the command line wins.
{{end}}`)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	root.AddCommand(newCheck(), newDB(), newVersion(), newDocs())
	for _, c := range extraCommands {
		root.AddCommand(c())
	}
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	conventions(root)
	return root
}

// conventions makes every command follow the command line's rules: a wrong
// number of arguments is a usage error (exit 2) that shows the usage line,
// and a command that only groups others (db, policy, cache, ...) refuses an
// unknown subcommand and needs one, naming them.
func conventions(c *cobra.Command) {
	for _, sub := range c.Commands() {
		conventions(sub)
	}
	if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown command %q for %q: want one of %s (see %s --help)", args[0], cmd.CommandPath(), subcommands(cmd), cmd.CommandPath())}
			}
			return nil
		}
		c.RunE = func(cmd *cobra.Command, _ []string) error {
			if !cmd.HasParent() {
				return cmd.Help()
			}
			return usageError{fmt.Errorf("%s needs a subcommand: %s (see %s --help)", cmd.CommandPath(), subcommands(cmd), cmd.CommandPath())}
		}
		return
	}
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			err := check(cmd, args)
			var ue usageError
			switch {
			case err == nil:
				return nil
			case errors.As(err, &ue):
				return usageError{fmt.Errorf("%w (usage: %s)", err, cmd.UseLine())}
			}
			return usageError{fmt.Errorf("%s: %w (usage: %s)", cmd.CommandPath(), err, cmd.UseLine())}
		}
	}
}

// subcommands lists the names of c's commands that are shown in its help.
func subcommands(c *cobra.Command) string {
	var names []string
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	return strings.Join(names, ", ")
}

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print shipshape's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "shipshape %s\n", Version())
			return nil
		},
	}
}
