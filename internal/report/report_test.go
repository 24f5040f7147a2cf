package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/joshdk/go-junit"
	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/source"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// sample judges a small synthetic image with a root user, a latest tag, a
// setuid file, a secret in ENV and a waived finding.
func sample(t *testing.T) *report.Report {
	t.Helper()
	files := append(imagetest.Debian(), imagetest.File{Path: "/usr/bin/su", Content: "su", Mode: 04755}, imagetest.File{Path: "/usr/bin/passwd", Content: "pw", Mode: 04755})
	img := imagetest.Image(t, imagetest.Spec{
		Layers:  [][]imagetest.File{files},
		Created: now.Add(-72 * time.Hour),
		Config:  v1.Config{Entrypoint: []string{"/usr/bin/dash"}, Env: []string{"AWS_ACCESS_KEY_ID=AKIAZ7QX4B2M9KLP3WQE"}, ExposedPorts: map[string]struct{}{"8080/tcp": {}}},
	})
	in := imagetest.WriteLayout(t, t.TempDir(), img, "registry.example/team/app:latest")
	opened, err := source.Open(context.Background(), in, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse("policy.yaml", []byte("exceptions:\n  - check: SEC-003\n    path: /usr/bin/passwd\n    reason: removed next release\n    expires: 2027-06-30\n"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Deps{Version: "test", SkipVulns: true})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := e.Scan(context.Background(), opened, engine.ObserveOptions{}, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	rep.Duration = 0
	return rep
}

var normalise = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`sha256:[0-9a-f]{64}`), "sha256:<digest>"},
	{regexp.MustCompile(`sha256:[0-9a-f]{12}`), "sha256:<short>"},
	{regexp.MustCompile(`oci:/[^"'\s<]*`), "oci:<layout>"},
	{regexp.MustCompile(`"shipshapeFinding/v1": "[0-9a-f]+"`), `"shipshapeFinding/v1": "<fp>"`},
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	for _, n := range normalise {
		got = n.re.ReplaceAll(got, []byte(n.with))
	}
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test ./internal/report -update and review the diff)", name)
	}
}

func render(t *testing.T, rep *report.Report, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.Write(&buf, format, rep, report.TableOptions{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGoldenFormats(t *testing.T) {
	rep := sample(t)
	for _, f := range []struct{ format, file string }{
		{"table", "golden.txt"}, {"json", "golden.json"}, {"sarif", "golden.sarif"}, {"junit", "golden.junit.xml"}, {"markdown", "golden.md"}, {"html", "golden.html"},
	} {
		t.Run(f.format, func(t *testing.T) { golden(t, f.file, render(t, rep, f.format)) })
	}
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	rep := sample(t)
	doc, err := sarif.FromBytes(render(t, rep, "sarif"))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(); err != nil {
		t.Fatalf("SARIF is not valid 2.1.0: %v", err)
	}
	run := doc.Runs[0]
	if len(run.Results) == 0 || len(run.Tool.Driver.Rules) < 20 {
		t.Fatalf("results %d rules %d", len(run.Results), len(run.Tool.Driver.Rules))
	}
	for _, r := range run.Results {
		if r.RuleID == nil || r.Level == "" || r.Message.Text == nil || len(r.Locations) == 0 {
			t.Fatalf("incomplete result %+v", r)
		}
		if *r.RuleID == "SEC-003" && strings.Contains(*r.Message.Text, "/usr/bin/passwd") {
			t.Error("a waived finding must not be a SARIF result")
		}
	}
	// One SARIF result per reported finding (info findings are not results),
	// each with its own fingerprint: no duplicates.
	want := 0
	for _, res := range rep.Results {
		if res.Status != finding.Fail {
			continue
		}
		for _, f := range res.Findings {
			if f.Severity > finding.Info || f.Veto {
				want++
			}
		}
	}
	if len(run.Results) != want {
		t.Errorf("SARIF has %d results for %d findings", len(run.Results), want)
	}
	seen := map[string]bool{}
	for _, r := range run.Results {
		fp := r.PartialFingerprints["shipshapeFinding/v2"]
		if fp == "" || seen[fp] {
			t.Errorf("result %s: fingerprint %q missing or repeated", *r.RuleID, fp)
		}
		seen[fp] = true
	}
	for _, rule := range run.Tool.Driver.Rules {
		if rule.Help == nil || rule.Help.Markdown == nil || rule.ShortDescription == nil {
			t.Fatalf("rule %s lacks help for code scanning", *rule.ID)
		}
	}
}

func TestJUnitParsesWithARealParser(t *testing.T) {
	rep := sample(t)
	data := render(t, rep, "junit")
	suites, err := junit.Ingest(data)
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]bool{}
	total := 0
	for _, s := range suites {
		for _, tc := range s.Tests {
			total++
			if tc.Status == junit.StatusFailed {
				failed[strings.Fields(tc.Name)[0]] = true
			}
		}
	}
	if total != len(rep.Results) {
		t.Errorf("one test case per check: %d cases, %d checks", total, len(rep.Results))
	}
	for _, id := range []string{"SEC-001", "REL-001", "CMP-005", "SEC-003"} {
		if !failed[id] {
			t.Errorf("%s should be a failed test case", id)
		}
	}
	var probe struct{ XMLName xml.Name }
	if err := xml.Unmarshal(data, &probe); err != nil || probe.XMLName.Local != "testsuites" {
		t.Errorf("root element %v %v", probe.XMLName, err)
	}
}

func TestJSONCarriesPolicyAndWaivers(t *testing.T) {
	rep := sample(t)
	var m map[string]any
	if err := json.Unmarshal(render(t, rep, "json"), &m); err != nil {
		t.Fatal(err)
	}
	pol := m["policy"].(map[string]any)
	if !strings.HasPrefix(pol["digest"].(string), "sha256:") || pol["source"] != "policy.yaml" {
		t.Errorf("policy %v", pol)
	}
	applied := m["exceptions"].(map[string]any)["applied"].([]any)
	if len(applied) != 1 || !strings.Contains(applied[0].(map[string]any)["reason"].(string), "removed next release") {
		t.Errorf("waivers %v", applied)
	}
	if bytes.Contains(render(t, rep, "json"), []byte("AKIAZ7QX4B2M9KLP3WQE")) {
		t.Error("the report leaks the AWS key")
	}
}

func TestMarkdownFitsAComment(t *testing.T) {
	md := string(render(t, sample(t), "markdown"))
	for _, want := range []string{"**FAIL**", "**Vetoes**", "SEC-001", "<details>", "waived by exceptions"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if len(md) > 65000 {
		t.Errorf("markdown is %d bytes, over a PR comment's limit", len(md))
	}
}

func TestHTMLIsSelfContained(t *testing.T) {
	html := string(render(t, sample(t), "html"))
	for _, bad := range []string{"http://", "https://", "src=\"//"} {
		for _, line := range strings.Split(html, "\n") {
			if strings.Contains(line, bad) && (strings.Contains(line, "<script src") || strings.Contains(line, "<link") || strings.Contains(line, "<img")) {
				t.Errorf("the page fetches from the network: %s", line)
			}
		}
	}
	if !strings.Contains(html, `id="verdict">FAIL<`) || !strings.Contains(html, "<svg") {
		t.Error("verdict or chart missing")
	}
}

// Every failing finding shows its fix in the table, also when the finding
// above it has the same one (SEC-020 lists many advisories of one package).
func TestTableShowsEveryFix(t *testing.T) {
	rep := sample(t)
	out := string(render(t, rep, "table"))
	checked := 0
	for _, r := range rep.Results {
		if r.Status != finding.Fail || len(r.Findings) < 2 {
			continue
		}
		fix := r.Findings[0].Remediation
		same := 0
		for _, f := range r.Findings {
			if f.Remediation == fix && f.Severity > finding.Info {
				same++
			}
		}
		if same < 2 {
			continue
		}
		checked++
		// Vetoes and failing findings are listed twice (verdict and dimension).
		if n := strings.Count(out, "fix: "+fix); n < same {
			t.Errorf("%s: %d findings with the fix %q, shown %d times", r.Check.ID, same, fix, n)
		}
	}
	if checked == 0 {
		t.Fatal("the sample has no check with two findings that share a fix")
	}
}
