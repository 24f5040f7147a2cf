package report

import (
	"fmt"
	"io"
)

// Formats are the renderings Write knows.
var Formats = []string{"table", "json", "sarif", "junit", "markdown", "html"}

// KnownFormat reports whether f is one of Formats.
func KnownFormat(f string) bool {
	for _, x := range Formats {
		if x == f {
			return true
		}
	}
	return false
}

// Write renders the report in format.
func Write(w io.Writer, format string, r *Report, o TableOptions) error {
	switch format {
	case "table":
		return WriteTable(w, r, o)
	case "json":
		return WriteJSON(w, r)
	case "sarif":
		return WriteSARIF(w, r)
	case "junit":
		return WriteJUnit(w, r)
	case "markdown":
		return WriteMarkdown(w, r)
	case "html":
		return WriteHTML(w, r)
	}
	return fmt.Errorf("unknown format %q", format)
}
