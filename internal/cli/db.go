package cli

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/eol"
)

// dbCommands are extra `shipshape db` subcommands, added by the files that define them.
var dbCommands []func() *cobra.Command

func newDB() *cobra.Command {
	db := &cobra.Command{Use: "db", Short: "Manage shipshape's reference data (end-of-life data)"}
	var dir string
	db.PersistentFlags().StringVar(&dir, "eol-dir", "", "end-of-life data directory (default: $XDG_CACHE_HOME/shipshape/eol)")
	resolve := func() (string, error) {
		if dir != "" {
			return dir, nil
		}
		return eol.DefaultDir()
	}
	var url string
	update := &cobra.Command{
		Use:   "update",
		Short: "Download end-of-life data from a mirror of the endoflife.date product files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				return usageError{fmt.Errorf("give --eol-url: the base URL of a mirror serving index.json and <product>.json")}
			}
			d, err := resolve()
			if err != nil {
				return err
			}
			n, err := eol.Update(cmd.Context(), &http.Client{Timeout: 2 * time.Minute}, url, d)
			if err != nil {
				return usageError{err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "end-of-life data: %d products installed in %s\n", n, d)
			return nil
		},
	}
	update.Flags().StringVar(&url, "eol-url", os.Getenv("SHIPSHAPE_EOL_URL"), "base URL of the end-of-life data mirror (env SHIPSHAPE_EOL_URL)")
	imp := &cobra.Command{
		Use:   "import DIR",
		Short: "Install end-of-life data from a directory of endoflife.date product files",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := resolve()
			if err != nil {
				return err
			}
			n, err := eol.Import(args[0], d)
			if err != nil {
				return usageError{err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "end-of-life data: %d products installed in %s\n", n, d)
			return nil
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show which reference data shipshape uses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := resolve()
			if err != nil {
				return err
			}
			db, err := eol.Load(d)
			if err != nil {
				return err
			}
			updated := "built into the binary"
			if b, err := os.ReadFile(filepath.Join(d, ".updated")); err == nil {
				updated = "installed " + strings.TrimSpace(string(b))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "end-of-life data: %d products from %s (%s)\n", db.Products(), db.Source, updated)
			return nil
		},
	}
	db.AddCommand(update, imp, status)
	for _, c := range dbCommands {
		db.AddCommand(c())
	}
	return db
}
