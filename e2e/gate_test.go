package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --ignore-unfixed leaves the SEC-020 findings without a fixed version out
// of what is judged and shown; the fixable ones stay, and so does the veto.
func TestIgnoreUnfixed(t *testing.T) {
	dir := importedDB(t)
	img := fixture(t, "oldpkgs")
	all, _ := vulnJSON(t, dir, 1, img)
	_, fs := sec020(t, all)
	unfixed, fixable := 0, 0
	for _, f := range fs {
		if fx := evidence(f, "fixed version"); strings.HasPrefix(fx, "no fix") {
			unfixed++
		} else if fx != "" {
			fixable++
		}
	}
	if unfixed == 0 || fixable == 0 {
		t.Fatalf("oldpkgs: %d unfixed and %d fixable vulnerabilities; the test needs both", unfixed, fixable)
	}
	rep, _ := vulnJSON(t, dir, 1, "--ignore-unfixed", img)
	_, fs = sec020(t, rep)
	left := 0
	for _, f := range fs {
		if fx := evidence(f, "fixed version"); strings.HasPrefix(fx, "no fix") {
			t.Errorf("unfixed finding shown: %s", f.Title)
		} else if fx != "" {
			left++
		}
	}
	if left != fixable {
		t.Errorf("%d fixable findings left, want %d", left, fixable)
	}
	if rep.Verdict.Pass {
		t.Error("the fixable vetoes no longer fail the image")
	}
	// The table shows the fix of every finding, not only of the first of
	// each package (issue 15, item 13).
	r := runVuln(t, dir, "check", "--ignore-unfixed", img)
	if n := strings.Count(r.stdout, "fix: Upgrade"); n < 2 {
		t.Errorf("%d fix lines for %d fixable findings:\n%.3000s", n, fixable, r.stdout)
	}
}

// The plain ignore list waives advisories by id (or alias) like the YAML
// exceptions do.
func TestIgnoreListAdvisory(t *testing.T) {
	dir := importedDB(t)
	img := fixture(t, "oldpkgs")
	_, r := vulnJSON(t, dir, 1, img)
	var raw struct {
		Results []struct {
			Findings []struct {
				CheckID       string `json:"check_id"`
				Vulnerability string `json:"vulnerability"`
				Veto          bool   `json:"veto"`
			} `json:"findings"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, res := range raw.Results {
		for _, f := range res.Findings {
			if f.CheckID == "SEC-020" && f.Vulnerability != "" {
				ids = append(ids, f.Vulnerability)
			}
		}
	}
	if len(ids) == 0 {
		t.Skip("SEC-020 findings carry no vulnerability id yet (issue 15, item 1): nothing for an ignore list to match")
	}
	list := filepath.Join(t.TempDir(), ".shipshapeignore")
	os.WriteFile(list, []byte("# accepted for the test\n"+strings.Join(ids, "\n")+"\n"), 0o644)
	r = runVuln(t, dir, "check", "--format", "json", "--ignore-list", list, img)
	var rep jsonReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("exit %d: %v\n%s", r.code, err, r.stderr)
	}
	_, fs := sec020(t, rep)
	for _, f := range fs {
		if strings.HasPrefix(f.Severity, "info") {
			continue
		}
		t.Errorf("not waived: %s", f.Title)
	}
}
