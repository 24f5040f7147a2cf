package checks_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/source"
	"github.com/shipshape-dev/shipshape/internal/vulndb"
)

// vulnDB installs a few real Debian records (copied from the real export
// beside the repository) plus one test record into a fresh database.
func vulnDB(t *testing.T, extra map[string]string) *vulndb.DB {
	t.Helper()
	src := imagetest.OSVRecords(t, "Debian", "CVE-2023-5363", "CVE-2023-5678", "DSA-5532-1")
	for name, body := range extra {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if _, err := vulndb.Import(context.Background(), dir, src, vulndb.ImportOptions{Source: "Debian"}); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// judgeVulns scans a Debian 12 image with libssl3 from openssl at version.
func judgeVulns(t *testing.T, version string, o engine.Deps) *report.Report {
	t.Helper()
	return judgeVulnsPolicy(t, version, o, nil)
}

// judgeVulnsPolicy is judgeVulns under the policy pol (nil: the default).
func judgeVulnsPolicy(t *testing.T, version string, o engine.Deps, pol *policy.Policy) *report.Report {
	t.Helper()
	status := "Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: " + version + "\nArchitecture: amd64\n\n" +
		"Package: openssl\nStatus: install ok installed\nVersion: " + version + "\nArchitecture: amd64\n\n"
	spec := imagetest.Spec{Layers: [][]imagetest.File{imagetest.Debian(), {imagetest.Text("/var/lib/dpkg/status", status)}},
		Config: v1.Config{Entrypoint: []string{"/usr/bin/dash"}, User: "app"}, Created: now}
	img := imagetest.Image(t, spec)
	input := imagetest.WriteLayout(t, t.TempDir(), img, "registry.example/app:1.0")
	opened, err := source.Open(context.Background(), input, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	e, err := engine.New(o)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := e.Scan(context.Background(), opened, engine.ObserveOptions{}, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func findingWith(r checks.Result, s string) *checks.Finding {
	for i, f := range r.Findings {
		if strings.Contains(f.Title, s) {
			return &r.Findings[i]
		}
	}
	return nil
}

// A fixable CVSS 7.5 vulnerability is a veto; a fixable 5.3 one is medium;
// the DSA that bundles the 7.5 one is listed with it; the evidence names the
// dpkg database and its layer.
func TestSEC020Veto(t *testing.T) {
	db := vulnDB(t, nil)
	rep := judgeVulns(t, "3.0.11-1~deb12u1", engine.Deps{Vulns: db})
	r := expect(t, rep, "SEC-020", checks.Fail, "CVE-2023-5363", "CVE-2023-5678", "Vulnerabilities: 2 in total")
	high := findingWith(r, "CVE-2023-5363")
	if !high.Veto || high.Severity != checks.High || !strings.Contains(high.Title, "CVSS 7.5 high") || !strings.Contains(high.Title, "fixed in 3.0.11-1~deb12u2") {
		t.Errorf("CVE-2023-5363: %+v", high)
	}
	ev := map[string]string{}
	for _, e := range high.Evidence {
		ev[e.Field] = e.Value
	}
	if !strings.Contains(ev["ids"], "DSA-5532-1") || ev["CVSS vector"] == "" || ev["installed version"] != "3.0.11-1~deb12u1" {
		t.Errorf("evidence %v", ev)
	}
	if e := high.Evidence[0]; e.Path != "/var/lib/dpkg/status" || e.Layer == nil || *e.Layer != 1 || !strings.Contains(e.Value, "libssl3, openssl") {
		t.Errorf("package evidence %+v", e)
	}
	med := findingWith(r, "CVE-2023-5678")
	if med.Veto || med.Severity != checks.Medium {
		t.Errorf("CVE-2023-5678: %+v", med)
	}
	if rep.Verdict.Pass {
		t.Error("a fixable CVSS >= 7.0 vulnerability must fail the verdict")
	}
	// Past both fixes: nothing is reported and the check passes.
	rep = judgeVulns(t, "3.0.15-1~deb12u1", engine.Deps{Vulns: db})
	expect(t, rep, "SEC-020", checks.Pass, "Vulnerabilities: 0 in total")
}

// CVSS >= 7.0 without a fix is high but not a veto; the thresholds come
// from the policy's settings (thresholds.cvss), never from package state.
func TestSEC020NoFixAndThresholds(t *testing.T) {
	nofix := `{"id":"TEST-NOFIX","modified":"2025-01-01T00:00:00Z","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],` +
		`"affected":[{"package":{"ecosystem":"Debian:12","name":"openssl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}`
	db := vulnDB(t, map[string]string{"TEST-NOFIX.json": nofix})
	rep := judgeVulns(t, "3.0.15-1~deb12u1", engine.Deps{Vulns: db})
	r := expect(t, rep, "SEC-020", checks.Fail, "TEST-NOFIX (CVSS 9.8 critical), no fix")
	if f := findingWith(r, "TEST-NOFIX"); f.Veto || f.Severity != checks.High {
		t.Errorf("unfixed 9.8: %+v", f)
	}
	pol, err := policy.Parse("policy.yaml", []byte("thresholds:\n  cvss: 8.0\n"))
	if err != nil {
		t.Fatal(err)
	}
	rep = judgeVulnsPolicy(t, "3.0.11-1~deb12u1", engine.Deps{Vulns: db}, pol)
	if f := findingWith(result(t, rep, "SEC-020"), "CVE-2023-5363"); f == nil || f.Veto {
		t.Errorf("7.5 is not a veto with the veto threshold at 8.0: %+v", f)
	}
	// The same image under the default policy: the threshold did not leak.
	rep = judgeVulns(t, "3.0.11-1~deb12u1", engine.Deps{Vulns: db})
	if f := findingWith(result(t, rep, "SEC-020"), "CVE-2023-5363"); f == nil || !f.Veto {
		t.Errorf("7.5 with a fix is a veto under the default policy: %+v", f)
	}
}

// Without a database every other check still runs and SEC-020 fails the gate,
// naming the command that fixes it; SkipVulns makes it a skip.
func TestSEC020NoDatabase(t *testing.T) {
	rep := judgeVulns(t, "3.0.11-1~deb12u1", engine.Deps{VulnsUnavailable: "no vulnerability database in /nowhere"})
	r := expect(t, rep, "SEC-020", checks.Fail, "Vulnerabilities were not evaluated: no vulnerability database in /nowhere")
	if f := r.Findings[0]; !f.Veto || !strings.Contains(f.Remediation, "shipshape db update") || !strings.Contains(f.Remediation, "--skip-vulns") {
		t.Errorf("%+v", f)
	}
	if rep.Verdict.Pass {
		t.Error("vulnerabilities not evaluated must fail the default policy")
	}
	expect(t, rep, "SEC-001", checks.Pass)
	rep = judgeVulns(t, "3.0.11-1~deb12u1", engine.Deps{SkipVulns: true})
	expect(t, rep, "SEC-020", checks.Skipped)
}
