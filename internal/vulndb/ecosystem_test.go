package vulndb

import (
	"testing"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// Every language ecosystem of the inventory maps to an OSV ecosystem that
// the matcher can order versions in, and every old spelling reaches it.
func TestInventoryEcosystemsAreSupported(t *testing.T) {
	for _, e := range []inventory.Ecosystem{inventory.Go, inventory.Npm, inventory.PyPI, inventory.Maven, inventory.CratesIO,
		inventory.RubyGems, inventory.NuGet, inventory.Packagist, inventory.Pub, inventory.Hex, inventory.Hackage, inventory.CRAN} {
		if !Supported(e.OSVName()) {
			t.Errorf("%s: OSV ecosystem %q not supported", e, e.OSVName())
		}
	}
	inv := &inventory.Inventory{Packages: []inventory.Package{
		{Name: "rack", Version: "2.0.0", Ecosystem: "gem"},
		{Name: "rails", Version: "7.0.0", Ecosystem: "gems"},
		{Name: "nokogiri", Version: "1.0.0", Ecosystem: "RubyGems"},
		{Name: "golang.org/x/net", Version: "v0.1.0", Ecosystem: "golang"},
		{Name: "golang.org/x/text", Version: "v0.1.0", Ecosystem: "Go"},
	}}
	ts, gaps := targetsOf(inv)
	if len(gaps) != 0 {
		t.Fatalf("gaps: %+v", gaps)
	}
	got := map[string]string{}
	for _, tg := range ts {
		got[tg.name] = tg.ecos[0]
	}
	for name, want := range map[string]string{"rack": "RubyGems", "rails": "RubyGems", "nokogiri": "RubyGems", "golang.org/x/net": "Go", "golang.org/x/text": "Go"} {
		if got[name] != want {
			t.Errorf("%s: ecosystem %q, want %q", name, got[name], want)
		}
	}
}
