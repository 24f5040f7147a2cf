package analyzer

import (
	"slices"
	"testing"
)

// The catalogue is sorted, has no duplicate, and gives fresh analyzers on
// every call (two scans never share state).
func TestBuiltin(t *testing.T) {
	a, b := Builtin(Options{}), Builtin(Options{})
	names := Names()
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) || len(names) != len(a) {
		t.Fatalf("names %v", names)
	}
	for i := range a {
		if a[i].Analyzer == b[i].Analyzer {
			t.Errorf("%s: the same instance twice", a[i].Name)
		}
	}
}
