package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/analyzer"
	"github.com/shipshape-dev/shipshape/internal/imagefs"
	"github.com/shipshape-dev/shipshape/internal/sbom"
	"github.com/shipshape-dev/shipshape/internal/source"
)

func init() { extraCommands = append(extraCommands, newSBOM) }

type sbomFlags struct {
	format     string
	output     string
	platform   string
	maxEntries int
	maxLayerGB int64
}

func newSBOM() *cobra.Command {
	var f sbomFlags
	cmd := &cobra.Command{
		Use:   "sbom IMAGE",
		Short: "Write the image's software bill of materials (CycloneDX, SPDX)",
		Long: `Read the image once and write its packages (OS packages, language packages,
software recognised from binaries) with name, version, purl, licenses (SPDX),
the file each was found in and the layer that wrote it. The image digest is the
document's subject.

Formats: cyclonedx-json (CycloneDX 1.6), spdx-json (SPDX 2.3), json (shipshape's
own flat list), table.

IMAGE takes the same forms as for "shipshape check".`,
		Example: `  shipshape sbom docker-archive:app.tar
  shipshape sbom --format cyclonedx-json -o sbom.cdx.json registry.example.com/team/app:1.4.2
  shipshape sbom --format spdx-json oci:build/layout:1.0`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("sbom takes one IMAGE, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runSBOM(cmd, args[0], f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "table", "output format: "+strings.Join(sbom.Formats, ", "))
	fl.StringVarP(&f.output, "output", "o", "", "write the SBOM to this file instead of stdout")
	fl.StringVar(&f.platform, "platform", "", "platform to read in a multi-platform index, os/arch[/variant] (default: the host's)")
	fl.IntVar(&f.maxEntries, "max-entries", 0, "stop on images with more tar entries than this (default 4,000,000)")
	fl.Int64Var(&f.maxLayerGB, "max-layer-size", 0, "stop on a layer larger than this many GiB uncompressed (default 64)")
	return cmd
}

func runSBOM(cmd *cobra.Command, input string, f sbomFlags) error {
	if !slices.Contains(sbom.Formats, f.format) {
		return usageError{fmt.Errorf("--format %q: want one of %s", f.format, strings.Join(sbom.Formats, ", "))}
	}
	opts := source.Options{TempDir: os.TempDir()}
	if f.platform != "" {
		p, err := source.ParsePlatform(f.platform)
		if err != nil {
			return usageError{fmt.Errorf("--platform: %w", err)}
		}
		opts.Platform = p
	}
	ctx := cmd.Context()
	img, err := source.Open(ctx, input, opts)
	if err != nil {
		return err
	}
	defer img.Close()
	lim := imagefs.Limits{MaxEntries: f.maxEntries, MaxLayerBytes: f.maxLayerGB << 30}
	done := withProgress(cmd.ErrOrStderr(), img.Layers)
	res, inv, err := analyzer.Run(ctx, img.Layers, analyzer.Options{Limits: lim, Skip: []string{"secrets"}})
	done()
	if err != nil {
		var le *imagefs.LayerError
		if errors.As(err, &le) {
			return fmt.Errorf("image %q: %w", input, err)
		}
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(cmd.ErrOrStderr(), "shipshape: warning: %s\n", w)
	}
	in := sbom.Input{Image: img, FS: res.FS, Inv: inv, ToolVersion: Version()}
	return writeSBOM(cmd.OutOrStdout(), f, in)
}

// writeSBOM writes to stdout, or to the -o file through a temporary file
// renamed into place, so that a failed run leaves no half-written SBOM.
func writeSBOM(stdout io.Writer, f sbomFlags, in sbom.Input) error {
	if f.output == "" {
		return sbom.Write(stdout, f.format, in)
	}
	dir := filepath.Dir(f.output)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageError{fmt.Errorf("--output: %w", err)}
	}
	tmp, err := os.CreateTemp(dir, ".sbom-*")
	if err != nil {
		return usageError{fmt.Errorf("--output: %w", err)}
	}
	defer os.Remove(tmp.Name())
	if err := sbom.Write(tmp, f.format, in); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.output); err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	return nil
}
