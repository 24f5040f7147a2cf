// Command osvcompare compares the vulnerabilities osv-scanner reports for an
// image (`osv-scanner scan image --format json`) with shipshape's SEC-020
// findings (`shipshape check --format json`) and prints the differences as
// Markdown. bench/osv-compare.sh runs it.
//
//	osvcompare -name IMAGE -osv osv.json -shipshape shipshape.json
//
// Packages are keyed by base ecosystem and name (the source package for
// Debian); two findings are the same vulnerability when their ids or aliases
// share an id.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

type osvReport struct {
	Results []struct {
		Source struct {
			Path string `json:"path"`
		} `json:"source"`
		Packages []struct {
			Package struct {
				Name      string `json:"name"`
				Version   string `json:"version"`
				Ecosystem string `json:"ecosystem"`
			} `json:"package"`
			Groups []struct {
				IDs         []string `json:"ids"`
				Aliases     []string `json:"aliases"`
				MaxSeverity string   `json:"max_severity"`
			} `json:"groups"`
		} `json:"packages"`
	} `json:"results"`
}

type shipReport struct {
	Results []struct {
		Check struct {
			ID string `json:"id"`
		} `json:"check"`
		Status   string `json:"status"`
		Findings []struct {
			Title    string `json:"title"`
			Veto     bool   `json:"veto"`
			Evidence []struct {
				Field string `json:"field"`
				Value string `json:"value"`
			} `json:"evidence"`
		} `json:"findings"`
	} `json:"results"`
}

// vuln is one vulnerability of one package as a tool reports it.
type vuln struct {
	key     string // "Debian curl"
	version string
	ids     []string
	label   string
	matched bool
}

func (v *vuln) overlaps(o *vuln) bool {
	for _, a := range v.ids {
		for _, b := range o.ids {
			if a == b {
				return true
			}
		}
	}
	return false
}

func base(eco string) string { b, _, _ := strings.Cut(eco, ":"); return b }

func load(path string, v any) {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "osvcompare:", err)
		os.Exit(2)
	}
	if err := json.Unmarshal(b, v); err != nil {
		fmt.Fprintf(os.Stderr, "osvcompare: %s: %v\n", path, err)
		os.Exit(2)
	}
}

func main() {
	name := flag.String("name", "image", "image name for the heading")
	osvPath := flag.String("osv", "", "osv-scanner JSON report")
	shipPath := flag.String("shipshape", "", "shipshape JSON report")
	flag.Parse()
	var o osvReport
	var s shipReport
	load(*osvPath, &o)
	load(*shipPath, &s)

	// osv-scanner lists a Debian source once per binary package: keep one.
	var osvs []*vuln
	seen := map[string]bool{}
	for _, r := range o.Results {
		for _, p := range r.Packages {
			for _, g := range p.Groups {
				ids := append(append([]string{}, g.IDs...), g.Aliases...)
				sort.Strings(ids)
				k := base(p.Package.Ecosystem) + " " + p.Package.Name
				dedupe := k + " " + p.Package.Version + " " + strings.Join(ids, ",")
				if seen[dedupe] {
					continue
				}
				seen[dedupe] = true
				osvs = append(osvs, &vuln{key: k, version: p.Package.Version, ids: ids, label: strings.Join(g.IDs, ",")})
			}
		}
	}
	var ships []*vuln
	notEvaluated := ""
	for _, r := range s.Results {
		if r.Check.ID != "SEC-020" {
			continue
		}
		for _, f := range r.Findings {
			ev := map[string]string{}
			for _, e := range f.Evidence {
				ev[e.Field] = e.Value
			}
			ap := strings.SplitN(ev["advisory package"], " ", 3)
			if len(ap) != 3 {
				if strings.Contains(f.Title, "not evaluated") && strings.HasPrefix(f.Title, "Vulnerabilities") {
					notEvaluated = f.Title
				}
				continue
			}
			ids := strings.Split(ev["ids"], ", ")
			id, _, _ := strings.Cut(strings.SplitN(f.Title, ": ", 2)[1], " ")
			k := base(ap[0]) + " " + ap[1]
			// One finding per installed copy: count each vulnerability of a
			// name and version once, as for osv-scanner.
			if dedupe := "shipshape " + k + " " + ap[2] + " " + ev["ids"]; !seen[dedupe] {
				seen[dedupe] = true
				ships = append(ships, &vuln{key: k, version: ap[2], ids: ids, label: id})
			}
		}
	}
	if notEvaluated != "" {
		fmt.Fprintln(os.Stderr, "osvcompare: shipshape did not evaluate vulnerabilities:", notEvaluated)
		os.Exit(1)
	}
	both := 0
	merged := map[*vuln][]string{}
	for _, a := range osvs {
		for _, b := range ships {
			if a.key == b.key && a.overlaps(b) {
				a.matched, b.matched = true, true
				merged[b] = append(merged[b], a.label)
			}
		}
	}
	var merges []string
	for b, labels := range merged {
		if len(labels) > 1 {
			merges = append(merges, fmt.Sprintf("%s %s: %s is osv-scanner's %s", b.key, b.version, b.label, strings.Join(labels, " + ")))
		}
	}
	sort.Strings(merges)
	for _, a := range osvs {
		if a.matched {
			both++
		}
	}
	var onlyOSV, onlyShip []string
	for _, a := range osvs {
		if !a.matched {
			onlyOSV = append(onlyOSV, fmt.Sprintf("%s %s: %s", a.key, a.version, a.label))
		}
	}
	for _, b := range ships {
		if !b.matched {
			onlyShip = append(onlyShip, fmt.Sprintf("%s %s: %s", b.key, b.version, b.label))
		}
	}
	sort.Strings(onlyOSV)
	sort.Strings(onlyShip)
	fmt.Printf("### %s\n\n", *name)
	fmt.Printf("| | osv-scanner | shipshape |\n|---|---|---|\n")
	fmt.Printf("| package vulnerabilities reported | %d | %d |\n", len(osvs), len(ships))
	fmt.Printf("| found by both | %d | |\n", both)
	fmt.Printf("| only this tool | %d | %d |\n\n", len(onlyOSV), len(onlyShip))
	list := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Printf("%s (%d):\n\n", title, len(items))
		for _, it := range items {
			fmt.Printf("- %s\n", it)
		}
		fmt.Println()
	}
	list("Only osv-scanner", onlyOSV)
	list("Only shipshape", onlyShip)
	list("One shipshape finding for several osv-scanner groups", merges)
}
