package vulndb

import (
	"fmt"
	"sort"
	"strings"
)

// Note is one problem found in one record or package.
type Note struct {
	// Kind groups notes of the same sort ("unknown ecosystem (entry not matched)").
	Kind string
	// Detail says what exactly ("Linux", "Debian:12 openssl: invalid version ...").
	Detail string
}

// maxExamples bounds the record ids kept per kind of warning.
const maxExamples = 5

// Warnings collects notes by kind, counting them and keeping a few record ids
// as examples, so that 40,000 bad records give one line, not 40,000.
type Warnings struct {
	kinds map[string]*warnKind
}

type warnKind struct {
	count    int
	examples []string
}

// Add records a note about the record or package id.
func (w *Warnings) Add(id string, n Note) {
	if w.kinds == nil {
		w.kinds = map[string]*warnKind{}
	}
	k := w.kinds[n.Kind]
	if k == nil {
		k = &warnKind{}
		w.kinds[n.Kind] = k
	}
	k.count++
	if len(k.examples) < maxExamples {
		ex := id
		if n.Detail != "" {
			ex += " (" + n.Detail + ")"
		}
		k.examples = append(k.examples, ex)
	}
}

// Count is the number of notes added.
func (w *Warnings) Count() int {
	n := 0
	for _, k := range w.kinds {
		n += k.count
	}
	return n
}

// Lines renders one line per kind, most frequent first.
func (w *Warnings) Lines() []string {
	names := make([]string, 0, len(w.kinds))
	for n := range w.kinds {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := w.kinds[names[i]], w.kinds[names[j]]
		if a.count != b.count {
			return a.count > b.count
		}
		return names[i] < names[j]
	})
	out := make([]string, 0, len(names))
	for _, n := range names {
		k := w.kinds[n]
		more := ""
		if k.count > len(k.examples) {
			more = fmt.Sprintf(", and %d more", k.count-len(k.examples))
		}
		out = append(out, fmt.Sprintf("%s: %d: %s%s", n, k.count, strings.Join(k.examples, "; "), more))
	}
	return out
}
