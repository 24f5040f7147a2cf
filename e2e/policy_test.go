package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	return writeFile(t, t.TempDir(), name, content)
}

func TestPolicyRulesAndExceptions(t *testing.T) {
	webapp := fixture(t, "webapp")
	pol := writeTemp(t, "policy.yaml", `apiVersion: shipshape.dev/v1
kind: Policy
failOn: veto
thresholds:
  maxImageAgeDays: 30
rules:
  - id: TEAM-001
    message: services must expose port 9090 for the mesh
    severity: high
    veto: true
    dimension: reliability
    expr: '!("9090/tcp" in report.image.config.exposed_ports)'
`)
	rep := checkJSON(t, 1, "--policy", pol, webapp)
	vetoed := false
	for _, v := range rep.Verdict.Vetoes {
		vetoed = vetoed || v.CheckID == "TEAM-001"
	}
	if !vetoed {
		t.Fatalf("the custom rule must veto: %+v", rep.Verdict.Vetoes)
	}
	// A reasoned exception waives it, and the report says so.
	ignore := writeTemp(t, "ignore.yaml", "exceptions:\n  - check: TEAM-001\n    image: shipshape-fixture/webapp:*\n    reason: the mesh sidecar exposes 9090 (PLAT-42)\n    expires: 2099-01-01\n")
	r := shipshape(t, "check", "--format", "json", "--policy", pol, "--ignore-file", ignore, webapp)
	if r.code != 0 {
		t.Fatalf("with the exception the image passes: %d %s", r.code, r.stderr)
	}
	var raw struct {
		Exceptions struct {
			Applied []struct {
				Reason  string `json:"reason"`
				Finding struct {
					CheckID string `json:"check_id"`
				} `json:"finding"`
			} `json:"applied"`
		} `json:"exceptions"`
		Policy struct {
			Digest string `json:"digest"`
		} `json:"policy"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Exceptions.Applied) != 1 || raw.Exceptions.Applied[0].Finding.CheckID != "TEAM-001" || !strings.HasPrefix(raw.Policy.Digest, "sha256:") {
		t.Errorf("waiver and policy digest must be in the report: %+v", raw)
	}
	// The default exceptions file in the working directory is read too.
	dir := t.TempDir()
	writeFile(t, dir, ".shipshape-ignore.yaml", "exceptions:\n  - check: TEAM-001\n    reason: sidecar\n")
	cmd := exec.Command(bin, "check", "--policy", pol, webapp)
	cmd.Dir = dir
	if err := cmd.Run(); err != nil {
		t.Errorf("the .shipshape-ignore.yaml in the working directory must apply: %v", err)
	}
}

func TestBadPolicyFailsBeforeReadingTheImage(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"failOn: high\nchecks:\n  SEC-001: {sevrity: low}\n", ":3"},
		{"exceptions:\n  - check: SEC-003\n", "needs a reason"},
		{"rules:\n  - id: TEAM-1\n    message: m\n    severity: high\n    expr: 'report.('\n", "invalid CEL"},
		{"exceptions:\n  - check: SEC-003\n    reason: r\n    expires: tomorrow\n", "YYYY-MM-DD"},
	} {
		pol := writeTemp(t, "bad.yaml", c.yaml)
		r := shipshape(t, "check", "--policy", pol, "/nonexistent/image.tar")
		if r.code != 2 || !strings.Contains(r.stderr, "bad.yaml") || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stderr, "image.tar") {
			t.Errorf("%q: code %d stderr %s", c.yaml, r.code, r.stderr)
		}
		v := shipshape(t, "policy", "validate", pol)
		if v.code != 2 {
			t.Errorf("policy validate must fail with 2: %d", v.code)
		}
	}
}

func TestPolicyInitValidateExplain(t *testing.T) {
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if r := shipshape(t, "policy", "init", p); r.code != 0 {
		t.Fatalf("init: %s", r.stderr)
	}
	if r := shipshape(t, "policy", "init", p); r.code != 2 {
		t.Errorf("init must not overwrite without --force: %d", r.code)
	}
	r := shipshape(t, "policy", "validate", p)
	if r.code != 0 || !strings.Contains(r.stdout, "valid") {
		t.Fatalf("validate: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = shipshape(t, "policy", "explain", "sec-001")
	if r.code != 0 || !strings.Contains(r.stdout, "can veto: true") || !strings.Contains(r.stdout, "USER") {
		t.Errorf("explain: %s", r.stdout)
	}
	if r := shipshape(t, "policy", "explain", "NOPE-1"); r.code != 2 {
		t.Errorf("unknown check: %d", r.code)
	}
}

func TestSeveralOutputsInOneRun(t *testing.T) {
	dir := t.TempDir()
	r := shipshape(t, "check", fixture(t, "rootlatest"),
		"-o", "json="+dir+"/r.json", "-o", "sarif="+dir+"/r.sarif", "-o", "junit="+dir+"/j.xml", "-o", "markdown="+dir+"/r.md", "-o", "html="+dir+"/r.html")
	if r.code != 1 || r.stdout != "" {
		t.Fatalf("code %d stdout %q stderr %s", r.code, r.stdout, r.stderr)
	}
	for _, f := range []string{"r.json", "r.sarif", "j.xml", "r.md", "r.html"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() < 500 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func chromium() string {
	for _, c := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	return ""
}

// The HTML report opened in a real browser: the page renders offline, shows
// the verdict, and a screenshot is taken.
func TestHTMLInHeadlessChromium(t *testing.T) {
	browser := chromium()
	if browser == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must install chromium")
		}
		t.Skip("no chromium")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if r := shipshape(t, "check", "-o", "html="+page, fixture(t, "rootlatest")); r.code != 1 {
		t.Fatalf("code %d %s", r.code, r.stderr)
	}
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + filepath.Join(dir, "profile")}
	dom, err := exec.Command(browser, append(args, "--dump-dom", "file://"+page)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	for _, want := range []string{`id="verdict">FAIL<`, "Vetoes", "SEC-001", "REL-001", "<svg"} {
		if !strings.Contains(string(dom), want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
	shot := filepath.Join(dir, "shot.png")
	if out, err := exec.Command(browser, append(args, "--screenshot="+shot, "--window-size=1280,1600", "file://"+page)...).CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v %s", err, out)
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10000 {
		t.Fatalf("screenshot missing or empty: %v", err)
	}
	if keep := os.Getenv("SHIPSHAPE_KEEP_SCREENSHOT"); keep != "" {
		data, _ := os.ReadFile(shot)
		os.WriteFile(keep, data, 0o644)
	}
}

func TestDiff(t *testing.T) {
	prod, cand := fixture(t, "rootlatest"), fixture(t, "webapp")
	r := shipshape(t, "diff", "--format", "json", prod, cand)
	if r.code != 0 {
		t.Fatalf("the candidate passes: %d %s", r.code, r.stderr)
	}
	var d struct {
		Verdict          []struct{ Field, Baseline, Candidate string } `json:"verdict"`
		Config           []struct{ Field, Baseline, Candidate string } `json:"config"`
		FindingsResolved []finding                                     `json:"findings_resolved"`
		PackagesAdded    []struct{ Name string }                       `json:"packages_added"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, c := range append(d.Verdict, d.Config...) {
		fields[c.Field] = c.Baseline + " -> " + c.Candidate
	}
	if fields["verdict"] != "FAIL -> PASS" || fields["user"] != " -> app" || !strings.Contains(fields["healthcheck"], "-healthcheck") {
		t.Errorf("changes: %v", fields)
	}
	resolvedVeto := false
	for _, f := range d.FindingsResolved {
		resolvedVeto = resolvedVeto || f.CheckID == "SEC-001" && f.Veto
	}
	if !resolvedVeto {
		t.Errorf("the root veto is resolved by the candidate")
	}
	// Swapped, the candidate fails; the same image twice changes nothing.
	if r := shipshape(t, "diff", cand, prod); r.code != 1 || !strings.Contains(r.stdout, "New findings") {
		t.Errorf("reverse diff: %d %s", r.code, r.stdout)
	}
	same := shipshape(t, "diff", "--format", "markdown", cand, cand)
	if same.code != 0 || strings.Contains(same.stdout, "New findings") || strings.Contains(same.stdout, "Resolved findings") {
		t.Errorf("identical images: %s", same.stdout)
	}
}

// The CI examples in examples/ci run as documented.
func TestCIExamples(t *testing.T) {
	good, bad := fixture(t, "webapp"), fixture(t, "rootlatest")
	gate, _ := filepath.Abs("../examples/ci/gate.sh")
	for _, c := range []struct {
		image string
		code  int
	}{{good, 0}, {bad, 1}, {"/nonexistent.tar", 2}} {
		out := t.TempDir()
		cmd := exec.Command(gate)
		cmd.Env = append(os.Environ(), "IMAGE="+c.image, "OUT="+out, "SHIPSHAPE="+bin)
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != c.code {
			t.Errorf("gate.sh on %s: exit %d, want %d", c.image, code, c.code)
		}
		if c.code < 2 {
			for _, f := range []string{"report.json", "shipshape.sarif", "junit.xml", "summary.md", "report.html"} {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Errorf("gate.sh did not write %s", f)
				}
			}
		}
	}
	// The shipshape commands of the GitHub and GitLab examples, run as written.
	for _, file := range []string{"../examples/ci/github-actions.yml", "../examples/ci/gitlab-ci.yml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s is not valid YAML: %v", file, err)
		}
		var cmds []string
		collectCommands(doc, &cmds)
		if len(cmds) == 0 {
			t.Fatalf("%s has no shipshape check command", file)
		}
		for _, line := range cmds {
			dir := t.TempDir()
			sh := exec.Command("sh", "-c", line)
			sh.Dir = dir
			sh.Env = append(os.Environ(), "IMAGE="+bad, "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
			err := sh.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Errorf("%s: %q on a failing image: %v", file, line, err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) < 3 {
				t.Errorf("%s: %q wrote %d report files", file, line, len(entries))
			}
		}
	}
}

// collectCommands finds the shell lines that run `shipshape check` in a CI file.
func collectCommands(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for _, c := range x {
			collectCommands(c, out)
		}
	case []any:
		for _, c := range x {
			collectCommands(c, out)
		}
	case string:
		for _, line := range strings.Split(x, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "shipshape check") {
				*out = append(*out, strings.TrimSpace(line))
			}
		}
	}
}
