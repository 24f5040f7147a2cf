package cli

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/report"
)

// rootImage is tinyImage without USER: SEC-001 vetoes it (exit 1).
func rootImage(t *testing.T) string {
	t.Helper()
	img := imagetest.Image(t, imagetest.Spec{
		Layers: [][]imagetest.File{{
			imagetest.Dir("/app"),
			imagetest.Exec("/app/server", imagetest.ELF(62, "")),
		}},
		Config: v1.Config{Entrypoint: []string{"/app/server"}},
	})
	return imagetest.WriteLayout(t, filepath.Join(t.TempDir(), "layout"), img, "1.0.0")
}

func readReport(t *testing.T, s string) *report.Report {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	return &r
}

// --exit-code is the code of a policy failure; 0 reports without failing.
// The environment sets it too, and the command line wins over it.
func TestExitCode(t *testing.T) {
	isolate(t)
	img := rootImage(t)
	wantCode(t, run(t, "check", img), ExitPolicy)
	r := run(t, "check", "--exit-code", "0", img)
	wantCode(t, r, ExitPass)
	if !strings.Contains(r.stdout, "FAIL") || strings.Contains(r.stderr, "policy failed") {
		t.Errorf("report-only mode: stdout %q stderr %q", r.stdout, r.stderr)
	}
	wantCode(t, run(t, "check", "--exit-code", "7", img), 7)
	t.Setenv("SHIPSHAPE_EXIT_CODE", "0")
	wantCode(t, run(t, "check", img), ExitPass)
	wantCode(t, run(t, "check", "--exit-code", "5", img), 5)
	wantCode(t, run(t, "diff", img, img), ExitPass)
	for _, c := range []string{"2", "3", "-1", "300"} {
		wantCode(t, run(t, "check", "--exit-code", c, img), ExitInput)
	}
	// A passing image exits 0 whatever --exit-code says.
	wantCode(t, run(t, "check", "--exit-code", "9", tinyImage(t)), ExitPass)
}

// --severity hides findings of other severities from what is shown, never
// from the verdict.
func TestSeverityFilter(t *testing.T) {
	isolate(t)
	img := rootImage(t)
	all := readReport(t, run(t, "check", "--format", "json", img).stdout)
	r := run(t, "check", "--format", "json", "--severity", "critical", img)
	wantCode(t, r, ExitPolicy)
	got := readReport(t, r.stdout)
	lower := 0
	for _, res := range all.Results {
		for _, f := range res.Findings {
			if f.Severity.String() != "critical" {
				lower++
			}
		}
	}
	if lower == 0 {
		t.Fatal("the image has no finding below critical: the test shows nothing")
	}
	for _, res := range got.Results {
		for _, f := range res.Findings {
			if f.Severity.String() != "critical" {
				t.Errorf("shown: %s %s %s", f.Severity, f.CheckID, f.Title)
			}
		}
	}
	if got.Verdict.Pass || len(got.Verdict.Vetoes) != len(all.Verdict.Vetoes) || got.Verdict.Score != all.Verdict.Score {
		t.Errorf("verdict changed: %+v, was %+v", got.Verdict, all.Verdict)
	}
	if !strings.Contains(strings.Join(got.Warnings, "\n"), "not shown (the verdict was judged on all of them)") {
		t.Errorf("no warning: %q", got.Warnings)
	}
	wantCode(t, run(t, "check", "--severity", "critical,urgent", img), ExitInput)
	t.Setenv("SHIPSHAPE_SEVERITY", "critical,high")
	if r := run(t, "check", img); strings.Contains(r.stdout, "\n  low ") || !strings.Contains(r.stdout, "critical,high") {
		t.Errorf("SHIPSHAPE_SEVERITY not applied:\n%s", r.stdout)
	}
}

// .shipshapeignore waives by check or advisory id, with expiry dates and
// comments as reasons, beside the YAML exceptions.
func TestIgnoreList(t *testing.T) {
	isolate(t)
	img := rootImage(t)
	if err := os.WriteFile(".shipshapeignore", []byte("# the init system needs root\nSEC-001\nCVE-2024-0001 exp:2099-01-01 # not reachable\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "check", "--format", "json", img)
	wantCode(t, r, ExitPass)
	rep := readReport(t, r.stdout)
	if len(rep.Exceptions.Applied) == 0 || rep.Exceptions.Applied[0].Reason != "the init system needs root" {
		t.Errorf("waivers: %+v", rep.Exceptions.Applied)
	}
	// An expired entry no longer applies and is reported.
	os.WriteFile("list", []byte("SEC-001 exp:2020-01-01\n"), 0o644)
	r = run(t, "check", "--ignore-list", "list", img)
	wantCode(t, r, ExitPolicy)
	if !strings.Contains(r.stdout, "Expired exception") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	// Mistakes name the file and the line.
	os.WriteFile("bad", []byte("CVE-1\nCVE-2 exp:tomorrow\n"), 0o644)
	r = run(t, "check", "--ignore-list", "bad", img)
	wantCode(t, r, ExitInput)
	if !strings.Contains(r.stderr, "bad:2: exp:tomorrow") {
		t.Errorf("stderr: %s", r.stderr)
	}
	wantCode(t, run(t, "check", "--ignore-list", "missing", img), ExitInput)
}

func TestParseIgnoreList(t *testing.T) {
	ex, err := parseIgnoreList("x", []byte("\n# reason above\nGHSA-xxxx-yyyy-zzzz\n\nCVE-2023-1 exp:2030-02-03\nsec-009 # weak\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 3 {
		t.Fatalf("%+v", ex)
	}
	if ex[0].Vulnerability != "GHSA-xxxx-yyyy-zzzz" || ex[0].Reason != "reason above" {
		t.Errorf("%+v", ex[0])
	}
	if ex[1].Vulnerability != "CVE-2023-1" || ex[1].Expires != "2030-02-03" || ex[1].Reason != "listed in x (line 5)" {
		t.Errorf("%+v", ex[1])
	}
	if ex[2].Check != "SEC-009" || ex[2].Reason != "weak" {
		t.Errorf("%+v", ex[2])
	}
}

// --timeout bounds the whole run: exceeding it is exit 2, with the flag named.
func TestTimeout(t *testing.T) {
	isolate(t)
	img := rootImage(t)
	r := run(t, "check", "--timeout", "1ns", img)
	wantCode(t, r, ExitInput)
	if !strings.Contains(r.stderr, "timed out after 1ns (--timeout)") {
		t.Errorf("stderr: %s", r.stderr)
	}
	wantCode(t, run(t, "check", "--timeout", "-1s", img), ExitInput)
	wantCode(t, run(t, "check", "--timeout", "10m", img), ExitPolicy)
	t.Setenv("SHIPSHAPE_TIMEOUT", "1ns")
	wantCode(t, run(t, "check", img), ExitInput)
}

// Every flag can come from SHIPSHAPE_<FLAG>; the command line wins.
func TestFlagsFromEnvironment(t *testing.T) {
	isolate(t)
	img := tinyImage(t)
	t.Setenv("SHIPSHAPE_FORMAT", "json")
	r := run(t, "check", img)
	wantCode(t, r, ExitPass)
	readReport(t, r.stdout)
	if r := run(t, "check", "--format", "table", img); !strings.Contains(r.stdout, "Verdict") {
		t.Errorf("the command line did not win:\n%s", r.stdout)
	}
	t.Setenv("SHIPSHAPE_VERBOSE", "maybe")
	r = run(t, "check", img)
	wantCode(t, r, ExitInput)
	if !strings.Contains(r.stderr, `SHIPSHAPE_VERBOSE="maybe" (for --verbose)`) {
		t.Errorf("stderr: %s", r.stderr)
	}
	t.Setenv("SHIPSHAPE_VERBOSE", "yes")
	t.Setenv("SHIPSHAPE_FORMAT", "")
	if r := run(t, "check", img); !strings.Contains(r.stdout, "pass ") {
		t.Errorf("SHIPSHAPE_VERBOSE=yes: no passed checks listed:\n%s", r.stdout)
	}
	t.Setenv("SHIPSHAPE_LOG_LEVEL", "loud")
	wantCode(t, run(t, "db", "status"), ExitInput)
}

// --color is auto, always or never; NO_COLOR turns auto off on a terminal.
func TestColor(t *testing.T) {
	isolate(t)
	img := tinyImage(t)
	r := run(t, "check", "--color", "sometimes", img)
	wantCode(t, r, ExitInput)
	if !strings.Contains(r.stderr, "want auto, always or never") {
		t.Errorf("stderr: %s", r.stderr)
	}
	old := isTerminal
	defer func() { isTerminal = old }()
	isTerminal = func(io.Writer) bool { return true }
	if r := run(t, "check", img); !strings.Contains(r.stdout, "\x1b[") {
		t.Error("no colour on a terminal")
	}
	t.Setenv("NO_COLOR", "1")
	if r := run(t, "check", img); strings.Contains(r.stdout, "\x1b[") {
		t.Error("colour with NO_COLOR")
	}
	if r := run(t, "check", "--color", "always", img); !strings.Contains(r.stdout, "\x1b[") {
		t.Error("--color always beats NO_COLOR")
	}
}

// `shipshape --version` works like `shipshape version`.
func TestVersionFlag(t *testing.T) {
	a, b := run(t, "--version"), run(t, "version")
	wantCode(t, a, ExitPass)
	if a.stdout != b.stdout || !strings.HasPrefix(a.stdout, "shipshape ") {
		t.Errorf("--version %q, version %q", a.stdout, b.stdout)
	}
}
