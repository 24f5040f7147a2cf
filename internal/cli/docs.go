package cli

import (
	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/checks"
)

func newDocs() *cobra.Command {
	docs := &cobra.Command{Use: "docs", Short: "Generate documentation from the code"}
	docs.AddCommand(&cobra.Command{
		Use:   "checks",
		Short: "Write the check catalogue as Markdown (docs/checks.md)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return checks.WriteCatalog(cmd.OutOrStdout())
		},
	})
	return docs
}
