package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/sbom"
)

func init() { extraCommands = append(extraCommands, newSBOM) }

type sbomFlags struct {
	imageFlags
	format string
	output string
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
				return usageError{fmt.Errorf("sbom takes one IMAGE, got %s", countArgs(len(args)))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runSBOM(cmd, args[0], f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "table", "output `FORMAT`: "+strings.Join(sbom.Formats, ", "))
	fl.StringVarP(&f.output, "output", "o", "", "write the SBOM to `FILE` instead of stdout")
	addImageFlags(fl, &f.imageFlags, false)
	return cmd
}

func runSBOM(cmd *cobra.Command, input string, f sbomFlags) error {
	if !slices.Contains(sbom.Formats, f.format) {
		return usageError{fmt.Errorf("--format %q: want one of %s", f.format, strings.Join(sbom.Formats, ", "))}
	}
	e, closeDB, err := f.newEngine(cmd, false)
	if err != nil {
		return err
	}
	defer closeDB()
	o, err := f.observeOptions(cmd, nil, "")
	if err != nil {
		return err
	}
	o.SkipSupply, o.SkipSecrets = true, true
	fs, err := e.Observe(cmd.Context(), input, o)
	if err != nil {
		return err
	}
	for _, w := range fs.Warnings {
		fmt.Fprintf(cmd.ErrOrStderr(), "shipshape: warning: %s\n", w)
	}
	in := sbom.Input{Image: &fs.Image, FS: fs.FS, Inv: fs.Inventory, ToolVersion: Version()}
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
