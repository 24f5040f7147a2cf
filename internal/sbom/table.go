package sbom

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// maxCell bounds a table cell, so that one long license list stays readable.
const maxCell = 60

// WriteTable writes one line per package: name, version, ecosystem,
// licenses, layer and the file it was found in.
func WriteTable(w io.Writer, in Input) error {
	d := Document(in)
	fmt.Fprintf(w, "Image     %s\n", d.Image.Name)
	if d.Image.Digest != "" {
		fmt.Fprintf(w, "Digest    %s\n", d.Image.Digest)
	}
	if d.Image.OS != "" {
		fmt.Fprintf(w, "OS        %s\n", d.Image.OS)
	}
	fmt.Fprintf(w, "Packages  %d\n\n", len(d.Packages))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tECOSYSTEM\tLICENSES\tLAYER\tPATH")
	for _, p := range d.Packages {
		lic := strings.Join(p.Licenses, "; ")
		if lic == "" {
			lic = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", cut(p.Name), cut(p.Version), p.Ecosystem, cut(lic), p.Layer, p.Path)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing SBOM table: %w", err)
	}
	return nil
}

func cut(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxCell {
		return s[:maxCell-3] + "..."
	}
	return s
}
