package vulndb

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// The data's own age, per ecosystem: the shared Debian export's newest
// record is from 2025-02-12, whatever the import time; the Go export's
// records carry no dates (modified 0001-01-01), which is "unknown", never
// the year 1 in JSON.
func TestNewestRecordPerEcosystem(t *testing.T) {
	db := realDB(t, "Debian", "Go")
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	ages := map[string]DataAge{}
	for _, a := range db.NewestRecords(now) {
		ages[a.Ecosystem] = a
	}
	d12 := ages["Debian:12"]
	if !d12.Known || d12.Newest.Format("2006-01-02") != "2025-02-12" || d12.Source != "Debian" || d12.Age < 600*24*time.Hour {
		t.Errorf("Debian:12: %+v", d12)
	}
	if d3 := ages["Debian:3.0"]; !d3.Known || !d3.Newest.Before(d12.Newest) {
		t.Errorf("Debian:3.0 (an old release, whose data stopped changing): %+v", d3)
	}
	if g := ages["Go"]; g.Known || !g.Newest.IsZero() || g.Source != "Go" {
		t.Errorf("Go: %+v", g)
	}
	for _, s := range db.Sources() {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "0001-01-01") {
			t.Errorf("%s: JSON carries the zero time: %s", s.Name, b)
		}
		if s.Name == "Debian" && !strings.Contains(string(b), `"Debian:12":"2025-02-12`) {
			t.Errorf("Debian JSON without the per-ecosystem newest record: %.300s", b)
		}
	}

	// Thresholds: the default warns on the Debian data and never fails;
	// a fail threshold of a year fails it. Only the ecosystems the image
	// used count.
	inv := debianInv(inventory.Package{Name: "libssl3", Version: "3.0.11-1~deb12u1", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u1"})
	inv.Packages = append(inv.Packages, inventory.Package{Name: "golang.org/x/net", Version: "v0.1.0", Ecosystem: "Go", Path: "/app"})
	rep, err := db.Match(inv)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Ecosystems, ",") != "Debian:12,Go" {
		t.Fatalf("ecosystems looked up: %v", rep.Ecosystems)
	}
	st := DefaultFreshness.Check(db, now, rep.Ecosystems)
	if len(st.Warn) != 1 || st.Warn[0].Ecosystem != "Debian:12" || len(st.Fail) != 0 || len(st.Unknown) != 1 || st.Unknown[0].Ecosystem != "Go" {
		t.Errorf("default: %+v", st)
	}
	if m := st.Message(); !strings.Contains(m, "Debian:12: newest record 2025-02-12") || !strings.Contains(m, "days old") {
		t.Errorf("message %q", m)
	}
	st = Freshness{WarnAfter: 7 * 24 * time.Hour, FailAfter: 365 * 24 * time.Hour}.Check(db, now, rep.Ecosystems)
	if len(st.Fail) != 1 || st.Fail[0].Ecosystem != "Debian:12" {
		t.Errorf("fail after a year: %+v", st)
	}
	fresh := d12.Newest.Add(24 * time.Hour)
	if st := DefaultFreshness.Check(db, fresh, rep.Ecosystems); len(st.Warn)+len(st.Fail) != 0 {
		t.Errorf("a day after the newest record: %+v", st)
	}
}
