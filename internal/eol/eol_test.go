package eol

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, _ := time.Parse("2006-01-02", s)
	return t
}

func TestEmbeddedLookup(t *testing.T) {
	db, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		product, version, cycle string
	}{
		{"debian", "12", "12"},
		{"alpine-linux", "3.19", "3.19"},
		{"go", "1.21.5", "1.21"},
		{"nodejs", "16.20.2", "16"},
		{"python", "3.11.2", "3.11"},
		{"postgresql", "15.4", "15"},
	}
	for _, c := range cases {
		_, r, ok := db.Lookup(c.product, c.version)
		if !ok || r.Cycle != c.cycle {
			t.Errorf("%s %s: got %+v %v, want cycle %s", c.product, c.version, r, ok, c.cycle)
		}
	}
	if _, _, ok := db.Lookup("debian", "99"); ok {
		t.Error("unknown cycle must not match")
	}
	if _, r, _ := db.Lookup("go", "1.2.1"); r != nil && r.Cycle == "1.21" {
		t.Error("1.2.1 must not match the 1.21 cycle")
	}
}

func TestStatus(t *testing.T) {
	db, _ := Embedded()
	_, bookworm, _ := db.Lookup("debian", "12")
	if st := bookworm.StatusAt(day("2026-01-01"), 90*24*time.Hour); st.Ended || st.Soon {
		t.Errorf("bookworm on 2026-01-01: %+v", st)
	}
	if st := bookworm.StatusAt(day("2026-05-01"), 90*24*time.Hour); !st.Soon {
		t.Errorf("bookworm within 90 days of 2026-07-11: %+v", st)
	}
	if st := bookworm.StatusAt(day("2026-11-26"), 90*24*time.Hour); !st.Ended || !st.Extended {
		t.Errorf("bookworm on 2026-11-26 is in LTS: %+v", st)
	}
	if st := bookworm.StatusAt(day("2029-01-01"), 0); !st.Ended || st.Extended {
		t.Errorf("bookworm in 2029: %+v", st)
	}
}

// The shared reference data (endoflife.date, 464 products) imports and is served by `db update`.
func TestImportAndUpdateRealData(t *testing.T) {
	src := "../../../shared/data/eol"
	if _, err := os.Stat(filepath.Join(src, "index.json")); err != nil {
		t.Skip("shared/data/eol not beside the repository")
	}
	dst := filepath.Join(t.TempDir(), "eol")
	n, err := Import(src, dst)
	if err != nil || n < 400 {
		t.Fatalf("import: %d %v", n, err)
	}
	db, err := Load(dst)
	if err != nil || db.Products() != n {
		t.Fatalf("load: %v %d", err, db.Products())
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(src)))
	defer srv.Close()
	dst2 := filepath.Join(t.TempDir(), "eol")
	n2, err := Update(context.Background(), srv.Client(), srv.URL, dst2)
	if err != nil || n2 != n {
		t.Fatalf("update: %d %v", n2, err)
	}
	// A broken mirror leaves the installed data alone.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/index.json" {
			w.Write([]byte(`{"products":[{"product":"debian"}]}`))
			return
		}
		w.Write([]byte(`{"product":"debian","releases":`))
	}))
	defer bad.Close()
	if _, err := Update(context.Background(), bad.Client(), bad.URL, dst2); err == nil {
		t.Fatal("truncated JSON must fail")
	}
	if db, err := Load(dst2); err != nil || db.Products() != n {
		t.Fatalf("old data must survive a failed update: %v", err)
	}
}
