package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/diff"
)

func init() { extraCommands = append(extraCommands, newDiff) }

func newDiff() *cobra.Command {
	var f checkFlags
	var format, output, baseRef, candRef string
	cmd := &cobra.Command{
		Use:   "diff BASELINE CANDIDATE",
		Short: "Compare the image in production with the candidate that would replace it",
		Long: `Judge both images with the same policy and show what changed: verdict, scores,
findings added and resolved, packages added, removed and upgraded, vulnerabilities
added and fixed, size and layers, user, entrypoint, ports and healthcheck.

Exit codes: 0 when the candidate passes the policy, 1 when it fails, 2 usage or input error, 3 internal error.`,
		Example: `  shipshape diff registry.example.com/team/app@sha256:... docker-archive:candidate.tar
  shipshape diff --format markdown -o diff.md prod.tar candidate.tar`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError{fmt.Errorf("diff takes BASELINE and CANDIDATE, got %s", countArgs(len(args)))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" && format != "markdown" {
				return usageError{fmt.Errorf("--format %q: want table, json or markdown", format)}
			}
			if output != "" {
				if err := checkWritable(output); err != nil {
					return err
				}
			}
			pol, err := f.loadPolicy()
			if err != nil {
				return err
			}
			base, err := judgeImage(cmd, args[0], f, pol, baseRef)
			if err != nil {
				return err
			}
			cand, err := judgeImage(cmd, args[1], f, pol, candRef)
			if err != nil {
				return err
			}
			d := diff.Compare(base, cand)
			err = writeFile(cmd.OutOrStdout(), output, func(w io.Writer) error {
				switch format {
				case "json":
					return diff.WriteJSON(w, d)
				case "markdown":
					return diff.WriteMarkdown(w, d)
				}
				return diff.WriteTable(w, d)
			})
			if err != nil {
				return err
			}
			if !cand.Verdict.Pass {
				return f.gate.failure()
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "table", "output format: table, json, markdown")
	fl.StringVarP(&output, "output", "o", "", "write the diff to `FILE` instead of stdout")
	addImageFlags(fl, &f.imageFlags, true)
	fl.StringVar(&baseRef, "baseline-ref", "", "the baseline's deployed reference `REF`, when it is read from a file")
	fl.StringVar(&candRef, "candidate-ref", "", "the candidate's deployed reference `REF`, when it is read from a file")
	return cmd
}
