package policy

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/checks"
)

func TestDefaultYAMLIsTheDefault(t *testing.T) {
	p, err := Parse("default.yaml", []byte(DefaultYAML))
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if p.FailOn != nil || p.CVSS != d.CVSS || !reflect.DeepEqual(p.DeniedLicenses, d.DeniedLicenses) ||
		p.Settings.MaxImageAge != d.Settings.MaxImageAge || p.Settings.EOLWarning != d.Settings.EOLWarning ||
		len(p.Overrides) != 0 || len(p.Rules) != 0 || len(p.Exceptions) != 0 {
		t.Errorf("policy init's file differs from the built-in default: %+v", p)
	}
	if !strings.HasPrefix(p.Digest, "sha256:") {
		t.Errorf("digest %q", p.Digest)
	}
}

func TestParseErrorsPointAtLineAndKey(t *testing.T) {
	cases := []struct {
		yaml string
		line int
		has  string
	}{
		{"apiVersion: shipshape.dev/v1\nfailon: high\n", 2, "failon"},
		{"apiVersion: shipshape.dev/v9\n", 1, "unsupported version"},
		{"failOn: sometimes\n", 1, "unknown severity"},
		{"checks:\n  SEC-999: {severity: high}\n", 2, "no check"},
		{"checks:\n  SEC-001:\n    severity: urgent\n", 3, "unknown severity"},
		{"thresholds:\n  cvss: eleven\n", 2, "cannot unmarshal"},
		{"thresholds:\n  cvss: 11\n", 2, "between 0 and 10"},
		{"exceptions:\n  - check: SEC-003\n    path: /usr/bin/su\n", 2, "needs a reason"},
		{"exceptions:\n  - reason: because\n", 2, "at least one of"},
		{"exceptions:\n  - check: SEC-003\n    reason: r\n    expires: 31/12/2027\n", 4, "YYYY-MM-DD"},
		{"rules:\n  - id: TEAM-001\n    message: m\n    severity: high\n    expr: 'report.image.('\n", 2, "invalid CEL"},
		{"rules:\n  - id: SEC-001\n    message: m\n    severity: high\n    expr: 'true'\n", 2, "built-in check"},
		{"rules:\n  - id: TEAM-001\n    message: m\n    severity: high\n    expr: '1 + 2'\n", 2, "must be a bool"},
	}
	for _, c := range cases {
		_, err := Parse("p.yaml", []byte(c.yaml))
		pe, ok := err.(*Error)
		if !ok {
			t.Errorf("%q: want *Error, got %v", c.yaml, err)
			continue
		}
		if pe.Line != c.line || !strings.Contains(pe.Error(), c.has) || !strings.HasPrefix(pe.Error(), "p.yaml:") {
			t.Errorf("%q: got %q (line %d), want line %d containing %q", c.yaml, pe.Error(), pe.Line, c.line, c.has)
		}
	}
}

func mkFinding(id, path string, sev checks.Severity, veto bool) checks.Finding {
	return checks.Finding{CheckID: id, Severity: sev, Veto: veto, Title: id + " " + path, Evidence: []checks.Evidence{{Path: path}}}
}

func TestExceptionsAndOverrides(t *testing.T) {
	p, err := Parse("p.yaml", []byte(`
checks:
  SEC-007: {severity: high}
  MNT-005: {disabled: true}
  REL-002: {veto: true}
exceptions:
  - check: SEC-003
    path: /usr/bin/su
    reason: needed by the entrypoint
    expires: 2027-01-31
  - check: SEC-003
    path: /usr/bin/*
    reason: old waiver
    expires: 2026-01-01
  - vulnerability: CVE-2024-0001
    image: registry.example/team/*
    reason: not reachable
`))
	if err != nil {
		t.Fatal(err)
	}
	results := []checks.Result{
		{Check: checks.Meta{ID: "SEC-003"}, Status: checks.Fail, Findings: []checks.Finding{mkFinding("SEC-003", "/usr/bin/su", checks.Medium, false), mkFinding("SEC-003", "/usr/bin/passwd", checks.Medium, false)}},
		{Check: checks.Meta{ID: "SEC-007"}, Status: checks.Fail, Findings: []checks.Finding{mkFinding("SEC-007", "/usr/bin/curl", checks.Low, false)}},
		{Check: checks.Meta{ID: "MNT-005"}, Status: checks.Pass, Findings: []checks.Finding{mkFinding("MNT-005", "", checks.Info, false)}},
		{Check: checks.Meta{ID: "REL-002"}, Status: checks.Fail, Findings: []checks.Finding{mkFinding("REL-002", "", checks.High, false)}},
		{Check: checks.Meta{ID: "SEC-020"}, Status: checks.Fail, Findings: []checks.Finding{{CheckID: "SEC-020", Severity: checks.High, Veto: true, Vulnerability: "DSA-1", Aliases: []string{"CVE-2024-0001"}}}},
	}
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	out, w := p.Apply(results, "registry.example/team/app:1.0", now)
	if len(w.Applied) != 2 || w.Applied[0].Finding.Evidence[0].Path != "/usr/bin/su" || w.Applied[1].Finding.Vulnerability != "DSA-1" {
		t.Fatalf("applied: %+v", w.Applied)
	}
	if len(w.Expired) != 1 || w.Expired[0].Reason != "old waiver" {
		t.Fatalf("expired: %+v", w.Expired)
	}
	if len(out[0].Findings) != 1 || out[0].Findings[0].Evidence[0].Path != "/usr/bin/passwd" || out[0].Status != checks.Fail {
		t.Errorf("SEC-003 after exceptions: %+v", out[0])
	}
	if out[1].Findings[0].Severity != checks.High {
		t.Errorf("SEC-007 override: %+v", out[1].Findings[0])
	}
	if out[2].Status != checks.Skipped {
		t.Errorf("MNT-005 disabled: %+v", out[2])
	}
	if !out[3].Findings[0].Veto {
		t.Errorf("REL-002 veto override: %+v", out[3])
	}
	if out[4].Status != checks.Pass || len(out[4].Findings) != 0 {
		t.Errorf("SEC-020 waived by alias: %+v", out[4])
	}
	// The same exception on another image does not apply; past its expiry it stops applying.
	_, w2 := p.Apply(results, "docker.io/other/app:1.0", now)
	if len(w2.Applied) != 1 {
		t.Errorf("image selector: %+v", w2.Applied)
	}
	_, w3 := p.Apply(results, "registry.example/team/app:1.0", time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC))
	if len(w3.Applied) != 1 || len(w3.Expired) != 2 {
		t.Errorf("after 2027-01-31: applied %+v expired %+v", w3.Applied, w3.Expired)
	}
}

func TestCustomRule(t *testing.T) {
	p, err := Parse("p.yaml", []byte(`
rules:
  - id: TEAM-001
    message: the service must listen on 8080
    severity: high
    veto: true
    dimension: reliability
    expr: '!("8080/tcp" in report.image.config.exposed_ports)'
`))
	if err != nil {
		t.Fatal(err)
	}
	r := p.Rule("team-001")
	fired := r.Run(map[string]any{"image": map[string]any{"config": map[string]any{"exposed_ports": []any{"9090/tcp"}}}})
	if fired.Status != checks.Fail || !fired.Findings[0].Veto || fired.Findings[0].Dimension != checks.Reliability {
		t.Errorf("rule should fire: %+v", fired)
	}
	quiet := r.Run(map[string]any{"image": map[string]any{"config": map[string]any{"exposed_ports": []any{"8080/tcp"}}}})
	if quiet.Status != checks.Pass {
		t.Errorf("rule should not fire: %+v", quiet)
	}
	broken := r.Run(map[string]any{})
	if broken.Status != checks.Errored {
		t.Errorf("missing field must be an error, not a silent pass: %+v", broken)
	}
}

func TestParseExceptionsFile(t *testing.T) {
	ex, err := ParseExceptions(".shipshape-ignore.yaml", []byte("exceptions:\n  - check: SEC-005\n    reason: debug shell kept on purpose\n"))
	if err != nil || len(ex) != 1 {
		t.Fatalf("%v %+v", err, ex)
	}
	if _, err := ParseExceptions("x.yaml", []byte("failOn: high\nexceptions: []\n")); err == nil {
		t.Error("an exceptions file must not change the policy")
	}
}
