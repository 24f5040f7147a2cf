package checks

import (
	"sort"
	"strings"
	"sync"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// builtin lists every built-in check. Adding a check is one file with its
// constructor, and one line here.
var builtin = []func() Check{
	sec001, sec002, sec003, sec004, sec005, sec006, sec007, sec008, sec009,
	sec020, sec030, sec031, sec032,
	rel001, rel002, rel003, rel004, rel005, rel006, rel007,
	mnt001, mnt002, mnt003, mnt004, mnt005, mnt006, mnt007, mnt008,
	cmp001, cmp002, cmp003, cmp004, cmp005, cmp006, cmp007,
	fit001, fit002, fit003, fit004, fit005, fit006, fit007, fit008, fit009,
}

var catalogue = sync.OnceValue(func() []Check {
	out := make([]Check, 0, len(builtin))
	seen := map[string]bool{}
	for _, mk := range builtin {
		c := mk()
		id := c.Meta().ID
		if seen[id] {
			panic("checks: duplicate check ID " + id)
		}
		seen[id] = true
		out = append(out, c)
	}
	order := map[finding.Dimension]int{}
	for i, d := range finding.Dimensions {
		order[d] = i
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Meta(), out[j].Meta()
		if order[a.Dimension] != order[b.Dimension] {
			return order[a.Dimension] < order[b.Dimension]
		}
		return a.ID < b.ID
	})
	return out
})

// Builtin returns the built-in checks sorted by dimension order, then ID. The
// slice is shared and must not be modified; checks hold no state and are
// safe to run concurrently.
func Builtin() []Check { return catalogue() }

// All is Builtin, kept for callers that read better with it.
func All() []Check { return Builtin() }

// Lookup returns the built-in check with the given ID.
func Lookup(id string) (Check, bool) {
	id = strings.ToUpper(id)
	for _, c := range Builtin() {
		if c.Meta().ID == id {
			return c, true
		}
	}
	return nil, false
}
