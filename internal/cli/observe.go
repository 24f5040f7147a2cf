package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/facts"
	"github.com/shipshape-dev/shipshape/internal/probe"
	"github.com/shipshape-dev/shipshape/internal/source"
)

func init() { extraCommands = append(extraCommands, newObserve, newCache) }

func newObserve() *cobra.Command {
	var f checkFlags
	var output string
	cmd := &cobra.Command{
		Use:   "observe IMAGE",
		Short: "Read an image once and write its facts, to judge later with check --facts",
		Long: `Read IMAGE once (the layers through every analyzer, the supply-chain evidence) and write
what was found as a facts document (JSON). ` + "`shipshape check --facts FILE`" + ` judges it later, as
many times as needed, without the image: a CI job can observe in one step and gate in
another, and the service stores facts to judge them again when advisories change.

The policy's trust anchors (--policy) are used to verify signatures while observing.`,
		Example: `  shipshape observe -o facts.json docker-archive:app.tar
  shipshape check --facts facts.json --policy policy.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("observe takes one IMAGE, got %s", countArgs(len(args)))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			pol, err := loadPolicy(f.policyFile, f.ignoreFile)
			if err != nil {
				return err
			}
			e, closeDB, err := f.newEngine(cmd, false)
			if err != nil {
				return err
			}
			defer closeDB()
			o, err := f.observeOptions(cmd, pol, f.ref)
			if err != nil {
				return err
			}
			if f.probe {
				o.Probe = func(ctx context.Context, img *source.Image) (*probe.Observations, error) {
					return runProbe(cmd, img, f.probeOpts)
				}
			}
			fs, err := e.Observe(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			return writeFile(cmd.OutOrStdout(), output, func(w io.Writer) error { return facts.Write(w, fs) })
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&output, "output", "o", "", "write the facts to `FILE` instead of stdout")
	fl.StringVar(&f.ref, "ref", "", "the reference that will be deployed, when it differs from how the image was read")
	fl.StringVar(&f.policyFile, "policy", "", "policy `FILE` whose trust anchors verify signatures")
	fl.BoolVar(&f.probe, "probe", false, "also run the image for real and keep what it showed in the facts (the FIT checks; a service submission then carries them)")
	addProbeFlags(fl, &f.probeOpts)
	addImageFlags(fl, &f.imageFlags, false)
	return cmd
}

// readFactsFile reads a facts document; a malformed one or one of another
// version is an input error.
func readFactsFile(path string) (*facts.Facts, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, usageError{fmt.Errorf("--facts: %w", err)}
	}
	defer file.Close()
	fs, err := facts.Read(file)
	if err != nil {
		return nil, usageError{fmt.Errorf("--facts %s: %w", path, err)}
	}
	return fs, nil
}

// writeFile writes with write to stdout, or to path through a temporary
// file renamed into place, so a failed run leaves no half-written file.
func writeFile(stdout io.Writer, path string, write func(io.Writer) error) error {
	if path == "" {
		return write(stdout)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageError{fmt.Errorf("--output %s: %w", path, err)}
	}
	tmp, err := os.CreateTemp(dir, ".shipshape-*")
	if err != nil {
		return usageError{fmt.Errorf("--output %s: %w", path, err)}
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return usageError{fmt.Errorf("--output %s: %w", path, err)}
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return usageError{fmt.Errorf("--output %s: %w", path, err)}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return usageError{fmt.Errorf("--output %s: %w", path, err)}
	}
	return nil
}

// countArgs says "1 argument" or "N arguments".
func countArgs(n int) string {
	if n == 1 {
		return "1 argument"
	}
	return strconv.Itoa(n) + " arguments"
}

// cacheMax is SHIPSHAPE_CACHE_MAX_MB in bytes, or the default.
func cacheMax() int64 {
	if v, err := strconv.ParseInt(os.Getenv("SHIPSHAPE_CACHE_MAX_MB"), 10, 64); err == nil && v > 0 {
		return v << 20
	}
	return facts.DefaultCacheMax
}

func newCache() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Show or prune the cache of image facts",
		Long: `shipshape keeps what it read from each image (the facts of its layers) in
$XDG_CACHE_HOME/shipshape/facts, keyed by the image's content, so the second check of an
image does not read its layers again. The cache is bounded (SHIPSHAPE_CACHE_MAX_MB, default
2048): the least recently used entries are evicted. --no-cache (or SHIPSHAPE_NO_CACHE=1) on
check, observe, sbom and diff bypasses it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("cache needs a subcommand: status or prune")}
		},
	}
	open := func() (*facts.Cache, error) {
		dir, err := facts.DefaultCacheDir()
		if err != nil {
			return nil, usageError{err}
		}
		return &facts.Cache{Dir: dir, Max: cacheMax()}, nil
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the cache's location, entries and size",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := open()
			if err != nil {
				return err
			}
			st, err := c.Status()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "facts cache: %s\n", st.Dir)
			fmt.Fprintf(out, "  entries: %d, %.1f MiB of %.0f MiB\n", st.Entries, float64(st.Bytes)/(1<<20), float64(st.Max)/(1<<20))
			if st.Entries > 0 {
				fmt.Fprintf(out, "  least recently used: %s, most recently used: %s\n", st.Oldest.UTC().Format("2006-01-02 15:04"), st.Newest.UTC().Format("2006-01-02 15:04"))
			}
			return nil
		},
	}
	var keepMB int64
	prune := &cobra.Command{
		Use:   "prune",
		Short: "Remove cached facts (all, or the least recently used over --keep-mb)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := open()
			if err != nil {
				return err
			}
			n, err := c.Prune(keepMB << 20)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %d cached image fact(s) from %s\n", n, c.Dir)
			return nil
		},
	}
	prune.Flags().Int64Var(&keepMB, "keep-mb", 0, "keep the most recently used entries up to this many MiB (default: remove all)")
	cmd.AddCommand(status, prune)
	return cmd
}
