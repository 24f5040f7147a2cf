package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/shipshape-dev/shipshape/internal/eol"
	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

// dbCommands are extra `shipshape db` subcommands, added by the files that define them.
var dbCommands []func() *cobra.Command

// staleAfter is the age of the vulnerability database past which `check` warns.
const staleAfter = 3 * 24 * time.Hour

// dbDirs are the data directories the db subcommands work on.
type dbDirs struct{ eol, vuln string }

func (d dbDirs) eolDir() (string, error) {
	if d.eol != "" {
		return d.eol, nil
	}
	return eol.DefaultDir()
}

func (d dbDirs) vulnDir() (string, error) {
	if d.vuln != "" {
		return d.vuln, nil
	}
	return vulndb.DefaultDir()
}

func newDB() *cobra.Command {
	db := &cobra.Command{
		Use:   "db",
		Short: "Manage shipshape's reference data (vulnerability advisories, end-of-life data)",
		Long: `Manage shipshape's reference data:

  vulnerability advisories  OSV exports (<Ecosystem>/all.zip), one SQLite file per ecosystem
                            in $XDG_CACHE_HOME/shipshape/vulndb (or --vulndb-dir, SHIPSHAPE_VULNDB_DIR)
  end-of-life data          endoflife.date product files in $XDG_CACHE_HOME/shipshape/eol
                            (or --eol-dir); a copy is built into the binary

shipshape never downloads anything during ` + "`check`" + `: run ` + "`db update`" + ` (online) or
` + "`db import`" + ` (offline copies) to refresh the data.`,
	}
	var dirs dbDirs
	db.PersistentFlags().StringVar(&dirs.eol, "eol-dir", "", "end-of-life data `DIR` (default: $XDG_CACHE_HOME/shipshape/eol)")
	db.PersistentFlags().StringVar(&dirs.vuln, "vulndb-dir", "", "vulnerability database `DIR` (default: $XDG_CACHE_HOME/shipshape/vulndb)")
	db.AddCommand(newDBUpdate(&dirs), newDBImport(&dirs), newDBStatus(&dirs))
	for _, c := range dbCommands {
		db.AddCommand(c())
	}
	return db
}

func newDBUpdate(dirs *dbDirs) *cobra.Command {
	var osvURL, eolURL string
	var ecos []string
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download OSV advisories (and end-of-life data with --eol-url)",
		Long: `Download each ecosystem's OSV export, <URL>/<Ecosystem>/all.zip, with a conditional
request (ETag, Last-Modified), and install it in place of the old one only when it is
complete: an interrupted or failed update leaves the installed data as it was.

The ecosystems are --ecosystems, else the ones already installed, else ` + strings.Join(vulndb.DefaultEcosystems, ", ") + `.`,
		Example: `  shipshape db update
  shipshape db update --ecosystems Debian,Go,npm
  shipshape db update --url https://mirror.example.com/osv     # a mirror of OSV's bucket
  shipshape db update --eol-url https://mirror.example.com/eol # also refresh end-of-life data`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			vdir, err := dirs.vulnDir()
			if err != nil {
				return err
			}
			prog, clear := progressFor(cmd.ErrOrStderr())
			res, err := vulndb.Update(cmd.Context(), vdir, vulndb.UpdateOptions{BaseURL: osvURL, Ecosystems: ecos, Progress: prog})
			clear()
			out := cmd.OutOrStdout()
			for _, r := range res {
				if r.NotModified {
					fmt.Fprintf(out, "%s: not modified since the last update (%s)\n", r.Ecosystem, r.URL)
					continue
				}
				fmt.Fprintf(out, "%s: downloaded %.1f MB from %s\n", r.Ecosystem, float64(r.Bytes)/1e6, r.URL)
				printImport(out, cmd.ErrOrStderr(), *r.Import)
			}
			if err != nil {
				return usageError{fmt.Errorf("updating advisories: %w", err)}
			}
			if eolURL == "" {
				return nil
			}
			edir, err := dirs.eolDir()
			if err != nil {
				return err
			}
			n, err := eol.Update(cmd.Context(), &http.Client{Timeout: 2 * time.Minute}, eolURL, edir)
			if err != nil {
				return usageError{err}
			}
			fmt.Fprintf(out, "end-of-life data: %d products installed in %s\n", n, edir)
			return nil
		},
	}
	def := os.Getenv("SHIPSHAPE_OSV_URL")
	if def == "" {
		def = vulndb.DefaultURL
	}
	cmd.Flags().StringVar(&osvURL, "url", def, "base `URL` serving <Ecosystem>/all.zip: OSV's bucket or a mirror (env SHIPSHAPE_OSV_URL)")
	cmd.Flags().StringSliceVar(&ecos, "ecosystems", nil, "OSV ecosystems to download, comma-separated (default: the installed ones, else the ecosystems shipshape matches)")
	cmd.Flags().StringVar(&eolURL, "eol-url", os.Getenv("SHIPSHAPE_EOL_URL"), "also download end-of-life data from this `URL`, a mirror of the endoflife.date product files (env SHIPSHAPE_EOL_URL)")
	return cmd
}

func newDBImport(dirs *dbDirs) *cobra.Command {
	var kind, source string
	cmd := &cobra.Command{
		Use:   "import PATH",
		Short: "Install OSV advisories or end-of-life data from files",
		Long: `Install reference data from local files (for machines without network access).

PATH is one of:
  an OSV export zip (OSV's <Ecosystem>/all.zip)    its source is named after the directory
  a directory of <Ecosystem>/all.zip exports        each becomes a source
  a directory of OSV JSON records (*.json)          its source is the ecosystem most records name
  a directory of endoflife.date product files       recognised by its index.json (or --kind eol)

Each source replaces the installed one of the same name in one rename, only once it is
complete. Bad records are reported as warnings with their ids; a truncated or corrupt
archive is an error and leaves the installed data unchanged.`,
		Example: `  shipshape db import ../shared/data/osv/Debian/all.zip
  shipshape db import ../shared/data/osv
  shipshape db import --kind eol ../shared/data/eol`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if kind == "" {
				kind = "osv"
				if isEOLDir(path) {
					kind = "eol"
				}
			}
			out := cmd.OutOrStdout()
			switch kind {
			case "eol":
				d, err := dirs.eolDir()
				if err != nil {
					return err
				}
				n, err := eol.Import(path, d)
				if err != nil {
					return usageError{err}
				}
				fmt.Fprintf(out, "end-of-life data: %d products installed in %s\n", n, d)
				return nil
			case "osv":
			default:
				return usageError{fmt.Errorf("--kind %q: want osv or eol", kind)}
			}
			vdir, err := dirs.vulnDir()
			if err != nil {
				return err
			}
			prog, clear := progressFor(cmd.ErrOrStderr())
			res, err := vulndb.Import(cmd.Context(), vdir, path, vulndb.ImportOptions{Source: source, Progress: prog})
			clear()
			for _, r := range res {
				printImport(out, cmd.ErrOrStderr(), r)
			}
			if err != nil {
				return usageError{err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&kind, "kind", "", "what PATH holds: osv or eol (default: guessed)")
	cmd.Flags().StringVar(&source, "source", "", "name of the source for a directory of OSV records or an oddly named zip (an OSV ecosystem, e.g. Debian)")
	return cmd
}

// isEOLDir says path is a directory of endoflife.date product files: it has
// an index.json listing products.
func isEOLDir(path string) bool {
	b, err := os.ReadFile(filepath.Join(path, "index.json"))
	if err != nil || len(b) > 8<<20 {
		return false
	}
	var idx struct {
		Products []json.RawMessage `json:"products"`
	}
	return json.Unmarshal(b, &idx) == nil && len(idx.Products) > 0
}

func printImport(out, errw io.Writer, r vulndb.ImportResult) {
	i := r.Info
	fmt.Fprintf(out, "%s: %d records installed in %.1f s (%d ecosystems", i.Name, i.Records, r.Duration.Seconds(), len(i.Ecosystems))
	if i.Withdrawn > 0 {
		fmt.Fprintf(out, ", %d withdrawn records left out", i.Withdrawn)
	}
	fmt.Fprintf(out, ") in %s\n", i.Path)
	for _, w := range r.Warnings {
		fmt.Fprintf(errw, "shipshape: warning: %s: %s\n", i.Name, w)
	}
}

func newDBStatus(dirs *dbDirs) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show which reference data shipshape uses: advisory sources, record counts, age",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			vdir, err := dirs.vulnDir()
			if err != nil {
				return err
			}
			db, err := vulndb.Open(vdir)
			switch {
			case errors.Is(err, vulndb.ErrNoDB):
				fmt.Fprintf(out, "vulnerability database: none in %s (run %s)\n", vdir, vulndb.Remedy)
			case err != nil:
				fmt.Fprintf(out, "vulnerability database: unusable: %v\n", err)
			default:
				printVulnStatus(out, db)
				db.Close()
			}
			edir, err := dirs.eolDir()
			if err != nil {
				return err
			}
			edb, err := eol.Load(edir)
			if err != nil {
				return err
			}
			updated := "built into the binary"
			if b, err := os.ReadFile(filepath.Join(edir, ".updated")); err == nil {
				updated = "installed " + strings.TrimSpace(string(b))
			}
			fmt.Fprintf(out, "end-of-life data: %d products from %s (%s)\n", edb.Products(), edb.Source, updated)
			return nil
		},
	}
}

func printVulnStatus(out io.Writer, db *vulndb.DB) {
	now := time.Now()
	fmt.Fprintf(out, "vulnerability database: %s\n", db.Dir)
	ages := db.NewestRecords(now)
	for _, s := range db.Sources() {
		ecos := make([]string, 0, len(s.Ecosystems))
		for e := range s.Ecosystems {
			ecos = append(ecos, e)
		}
		sort.Strings(ecos)
		if len(ecos) > 8 {
			ecos = append(ecos[:8], fmt.Sprintf("... (%d in all)", len(s.Ecosystems)))
		}
		// The data's own age (its newest record) comes first: a source
		// imported a minute ago from an old export is old.
		newest := "no record carries a date (newest record unknown)"
		if !s.Newest.IsZero() {
			newest = fmt.Sprintf("newest record %s (%s old)", s.Newest.UTC().Format("2006-01-02"), age(now.Sub(s.Newest)))
		}
		fmt.Fprintf(out, "  %-10s %7d records, %s; imported or checked %s (%s ago)\n", s.Name, s.Records, newest, s.Refreshed().UTC().Format("2006-01-02 15:04"), age(now.Sub(s.Refreshed())))
		fmt.Fprintf(out, "  %-10s from %s\n  %-10s ecosystems: %s\n", "", s.Origin, "", strings.Join(ecos, ", "))
		// Per OSV ecosystem, the ones whose newest record is older than
		// the source's (an old release's data stops changing), oldest first.
		var older []vulndb.DataAge
		for _, a := range ages {
			if a.Source == s.Name && a.Known && a.Newest.UTC().Format("2006-01-02") < s.Newest.UTC().Format("2006-01-02") {
				older = append(older, a)
			}
		}
		if len(older) > 0 {
			sort.SliceStable(older, func(i, j int) bool { return older[i].Newest.Before(older[j].Newest) })
			per := make([]string, 0, len(older))
			for _, a := range older {
				per = append(per, a.Ecosystem+" "+a.Newest.UTC().Format("2006-01-02"))
			}
			if len(per) > 8 {
				per = append(per[:8], fmt.Sprintf("... (%d in all)", len(older)))
			}
			fmt.Fprintf(out, "  %-10s newest record %s for %d of %d ecosystems; older: %s\n", "", s.Newest.UTC().Format("2006-01-02"), len(s.Ecosystems)-len(older), len(s.Ecosystems), strings.Join(per, ", "))
		}
		if !s.Newest.IsZero() && vulndb.DefaultFreshness.WarnAfter > 0 && now.Sub(s.Newest) > vulndb.DefaultFreshness.WarnAfter {
			fmt.Fprintf(out, "  %-10s warning: the newest record is %s old: the data is out of date whatever its import time (db update, or import a newer export)\n", "", age(now.Sub(s.Newest)))
		}
		if s.Warnings > 0 {
			fmt.Fprintf(out, "  %-10s %d import warnings\n", "", s.Warnings)
		}
	}
}

func age(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// progressFor returns a progress line on w when it is a terminal.
func progressFor(w io.Writer) (vulndb.Progress, func()) {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return vulndb.TermProgress(f)
	}
	return nil, func() {}
}

// envSkipVulns says SHIPSHAPE_SKIP_VULNS asks to skip vulnerabilities.
func envSkipVulns() bool {
	switch strings.ToLower(os.Getenv("SHIPSHAPE_SKIP_VULNS")) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// addVulnFlags adds the vulnerability database flags of commands that judge images.
func addVulnFlags(fl *pflag.FlagSet, f *imageFlags) {
	fl.BoolVar(&f.skipVulns, "skip-vulns", envSkipVulns(), "do not evaluate vulnerabilities (SEC-020 is skipped); without it, a missing advisory database fails the gate")
	fl.StringVar(&f.vulnDir, "vulndb-dir", "", "vulnerability database `DIR` (default: $XDG_CACHE_HOME/shipshape/vulndb)")
}

// openVulnDB opens the advisory database for a judgement. It returns nil and
// the reason when there is none or it cannot be used, and warns on stderr
// when it is stale. skip is --skip-vulns, or SHIPSHAPE_SKIP_VULNS for the
// commands without the flag.
func openVulnDB(cmd *cobra.Command, f *imageFlags) (db *vulndb.DB, reason string, skip bool) {
	if f.skipVulns || envSkipVulns() {
		return nil, "", true
	}
	dir := f.vulnDir
	if dir == "" {
		d, err := vulndb.DefaultDir()
		if err != nil {
			return nil, err.Error(), false
		}
		dir = d
	}
	db, err := vulndb.Open(dir)
	if errors.Is(err, vulndb.ErrNoDB) {
		return nil, "no vulnerability database in " + dir, false
	}
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "shipshape: warning: %v\n", err)
		return nil, err.Error(), false
	}
	if t := db.Refreshed(); time.Since(t) > staleAfter {
		fmt.Fprintf(cmd.ErrOrStderr(), "shipshape: warning: the vulnerability database was last refreshed %s (%s ago): run `shipshape db update`\n", t.UTC().Format("2006-01-02"), age(time.Since(t)))
	}
	return db, "", false
}
