package vulndb

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// Known vectors and their base scores (NVD and FIRST calculators).
func TestCVSSScores(t *testing.T) {
	for _, c := range []struct {
		typ, vector string
		score       float64
		rating      string
	}{
		{"CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "critical"},
		{"CVSS_V3", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H", 7.4, "high"},
		{"CVSS_V3", "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "medium"},
		{"CVSS_V3", "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.8, "low"},
		{"CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, "critical"},
		{"CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5, "high"},
	} {
		s, err := cvssScore(Severity{Type: c.typ, Score: c.vector})
		if err != nil {
			t.Errorf("%s: %v", c.vector, err)
			continue
		}
		if s.Value != c.score || s.Rating != c.rating || s.Vector != c.vector {
			t.Errorf("%s: %+v, want %.1f %s", c.vector, s, c.score, c.rating)
		}
	}
	// The highest of several vectors wins, as in osv-scanner; bad ones are notes.
	best, notes := bestCVSS([]Severity{
		{"CVSS_V3", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H"},
		{"CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"},
		{"CVSS_V3", "CVSS:3.1/garbage"},
		{"Ubuntu", "high"},
	})
	if best.Value != 9.3 || best.Basis != "CVSS v4.0" || len(notes) != 1 {
		t.Errorf("best %+v notes %v", best, notes)
	}
	if s, ok := fromRating("MODERATE", "GHSA severity", "GHSA-x"); !ok || s.Rating != "medium" || s.Value != 4.0 || s.IsCVSS() {
		t.Errorf("GHSA MODERATE: %+v", s)
	}
	if _, ok := fromRating("not yet assigned", "Debian urgency", "CVE-x"); ok {
		t.Error("'not yet assigned' gave a severity")
	}
}

// Real records of every export parse, and their id is their file name.
func TestParseRealRecords(t *testing.T) {
	for _, eco := range []string{"Debian", "Go", "npm", "PyPI", "Alpine"} {
		zr, err := zip.OpenReader(osvZip(t, eco))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for i, f := range zr.File {
			if i%50 != 0 { // a sample: every 50th record
				continue
			}
			rc, _ := f.Open()
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			r, _, err := ParseRecord(b)
			if err != nil {
				t.Errorf("%s/%s: %v", eco, f.Name, err)
				continue
			}
			if r.ID+".json" != f.Name || r.Details != "" || len(r.Summary) > maxSummary+4 {
				t.Errorf("%s/%s: id %q, summary %d bytes", eco, f.Name, r.ID, len(r.Summary))
			}
			n++
		}
		zr.Close()
		if n < 50 {
			t.Errorf("%s: only %d records sampled", eco, n)
		}
	}
}

func TestParseRecordErrors(t *testing.T) {
	for _, in := range []string{"", "null", "[]", `{"id":""}`, `{"id":"a\nb"}`, `{"id":1}`, `{"id":"X","affected":{}}`} {
		if _, _, err := ParseRecord([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err %v", in, err)
		}
	}
	big := make([]byte, maxRecordBytes+1)
	if _, _, err := ParseRecord(big); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversized record: %v", err)
	}
}

// FuzzParseRecord feeds the parser and the row preparation mutations of real
// records: no panic, and what parses re-encodes to JSON that parses again.
func FuzzParseRecord(f *testing.F) {
	for _, p := range []struct{ eco, id string }{
		{"Debian", "CVE-2023-5678"}, {"Debian", "DSA-5532-1"}, {"Go", "GO-2022-0969"},
		{"npm", "GHSA-p6mc-m468-83gw"}, {"PyPI", "GHSA-xpfp-f569-q3p2"}, {"Alpine", "CVE-2023-5678"},
	} {
		if b, err := readZipEntry(filepath.Join(sharedData, p.eco, "all.zip"), p.id+".json"); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"id":"X","affected":[{"package":{"ecosystem":"Debian:12","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1:2.3-4~deb12u1"}]}],"versions":["1"]}]}`))
	f.Add([]byte(`{"id":"Y","severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N"}],"database_specific":{"severity":7}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := prepare("fuzz.json", data, "", &parseCache{})
		if p.err != nil {
			return
		}
		for _, row := range p.rows {
			var d affectedData
			if err := d.unmarshal(row.data); err != nil {
				t.Fatalf("stored row does not decode: %v", err)
			}
			c := newVersionCache(row.eco)
			if v, err := parseVersion(row.eco, "1.0.0"); err == nil {
				for _, evs := range d.Ranges {
					evalRange(evs, v, c)
				}
			}
		}
		b, err := json.Marshal(p.rec)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := ParseRecord(b); err != nil {
			t.Fatalf("re-encoded record does not parse: %v", err)
		}
	})
}

func readZipEntry(zipPath, name string) ([]byte, error) {
	if _, err := os.Stat(zipPath); err != nil {
		return nil, err
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	f, err := zr.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
