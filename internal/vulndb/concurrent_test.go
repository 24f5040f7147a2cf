package vulndb

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// TestMatchConcurrent runs 100 Match calls at once on one DB (run it with
// -race): before the caches were guarded, concurrent calls wrote the same
// maps. Every call must give the same report as a call made alone.
func TestMatchConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("imports the real exports")
	}
	// Two of the smaller exports keep the import short under -race; the
	// code paths are those of every ecosystem.
	db := realDB(t, "Alpine", "Go")
	invs := []*inventory.Inventory{
		mixInventory(t, db, true, &inventory.OS{ID: "alpine", VersionID: "3.20.3"}, []ecoCount{{"Alpine:v3.20", 60}, {"Go", 40}}),
		mixInventory(t, db, false, &inventory.OS{ID: "alpine", VersionID: "3.19.1"}, []ecoCount{{"Alpine:v3.19", 60}, {"Go", 40}}),
	}
	// The reference comes from a separate handle, so that the shared DB
	// starts with cold caches and the goroutines fill them together.
	ref, err := Open(db.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	want := make([]string, len(invs))
	for i, inv := range invs {
		rep, err := ref.Match(inv)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Matches) == 0 {
			t.Fatalf("inventory %d: no matches; the test would prove nothing", i)
		}
		want[i] = canonical(t, rep)
	}
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i := g % len(invs)
			rep, err := db.Match(invs[i])
			if err != nil {
				errs <- err.Error()
				return
			}
			if got := canonical(t, rep); got != want[i] {
				errs <- "a concurrent Match gave a different report"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func canonical(t *testing.T, r *Report) string {
	b, err := json.Marshal(r.Matches)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
