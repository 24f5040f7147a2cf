// Command gen writes the compact copy of the SPDX License List that package
// license embeds, from the list's JSON files (licenses.json and
// exceptions.json, in the field names of the official SPDX files).
//
//	go run ./internal/license/gen -in DIR -out internal/license/data
//
// It writes licenses.tsv ("id<TAB>name<TAB>flags", flags "D" deprecated and
// "O" OSI-approved), exceptions.tsv ("id<TAB>flags") and VERSION.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type licenseList struct {
	Version     string `json:"licenseListVersion"`
	ReleaseDate string `json:"releaseDate"`
	Licenses    []struct {
		ID         string `json:"licenseId"`
		Name       string `json:"name"`
		Deprecated bool   `json:"isDeprecatedLicenseId"`
		OSI        bool   `json:"isOsiApproved"`
	} `json:"licenses"`
}

type exceptionList struct {
	Source     string `json:"source"`
	Exceptions []struct {
		ID         string `json:"licenseExceptionId"`
		Deprecated bool   `json:"isDeprecatedLicenseId"`
	} `json:"exceptions"`
}

func main() {
	in := flag.String("in", "", "directory holding licenses.json and exceptions.json")
	out := flag.String("out", "", "output directory")
	flag.Parse()
	if *in == "" || *out == "" {
		log.Fatal("usage: gen -in DIR -out DIR")
	}
	if err := run(*in, *out); err != nil {
		log.Fatal(err)
	}
}

func readJSON(p string, v any) error {
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// clean keeps a field on one TSV line.
func clean(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\t", " ")), " ")
}

func run(in, out string) error {
	var ll licenseList
	if err := readJSON(filepath.Join(in, "licenses.json"), &ll); err != nil {
		return err
	}
	var el exceptionList
	if err := readJSON(filepath.Join(in, "exceptions.json"), &el); err != nil {
		return err
	}
	if len(ll.Licenses) == 0 || len(el.Exceptions) == 0 {
		return fmt.Errorf("%s: no licenses or no exceptions", in)
	}
	sort.Slice(ll.Licenses, func(i, j int) bool { return ll.Licenses[i].ID < ll.Licenses[j].ID })
	sort.Slice(el.Exceptions, func(i, j int) bool { return el.Exceptions[i].ID < el.Exceptions[j].ID })
	var lb strings.Builder
	for _, l := range ll.Licenses {
		flags := ""
		if l.Deprecated {
			flags += "D"
		}
		if l.OSI {
			flags += "O"
		}
		fmt.Fprintf(&lb, "%s\t%s\t%s\n", clean(l.ID), clean(l.Name), flags)
	}
	var eb strings.Builder
	for _, e := range el.Exceptions {
		flags := ""
		if e.Deprecated {
			flags = "D"
		}
		fmt.Fprintf(&eb, "%s\t%s\n", clean(e.ID), flags)
	}
	files := map[string]string{
		"licenses.tsv":   lb.String(),
		"exceptions.tsv": eb.String(),
		"VERSION":        fmt.Sprintf("%s %s\n", ll.Version, ll.ReleaseDate),
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(out, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
