package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// secretsReport is the part of the JSON report the secret checks fill.
type secretsReport struct {
	Image struct {
		Layers []struct {
			Digest    string `json:"digest"`
			CreatedBy string `json:"created_by"`
		} `json:"layers"`
	} `json:"image"`
	Results []struct {
		Check struct {
			ID string `json:"id"`
		} `json:"check"`
		Status   string `json:"status"`
		Findings []struct {
			Severity string `json:"severity"`
			Title    string `json:"title"`
			Evidence []struct {
				Path        string `json:"path"`
				Layer       *int   `json:"layer"`
				LayerDigest string `json:"layer_digest"`
				Line        int    `json:"line"`
				Field       string `json:"field"`
				Value       string `json:"value"`
			} `json:"evidence"`
		} `json:"findings"`
	} `json:"results"`
}

// judgeSecrets runs `shipshape check --format json` and returns the parsed
// report and its raw text. The verdict may pass or fail (exit 0 or 1); an
// input or internal error (2, 3) fails the test.
func judgeSecrets(t *testing.T, args ...string) (secretsReport, string) {
	t.Helper()
	r := shipshape(t, append([]string{"check", "--format", "json"}, args...)...)
	if r.code != 0 && r.code != 1 {
		t.Fatalf("exit code %d\nstderr: %s", r.code, r.stderr)
	}
	var rep secretsReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%.500s", err, r.stdout)
	}
	return rep, r.stdout
}

// layerOf returns the index of the first layer whose history line contains s.
func (r secretsReport) layerOf(t *testing.T, s string) int {
	t.Helper()
	for i, l := range r.Image.Layers {
		if strings.Contains(l.CreatedBy, s) {
			return i
		}
	}
	t.Fatalf("no layer was made by %q", s)
	return -1
}

type secretFinding struct {
	title, path, field, value, digest string
	layer, line                       int
}

// findings flattens one check's findings to one entry per evidence.
func (r secretsReport) findings(id string) (string, []secretFinding) {
	for _, res := range r.Results {
		if res.Check.ID != id {
			continue
		}
		var out []secretFinding
		for _, f := range res.Findings {
			for _, e := range f.Evidence {
				sf := secretFinding{title: f.Title, path: e.Path, field: e.Field, value: e.Value, digest: e.LayerDigest, line: e.Line, layer: -1}
				if e.Layer != nil {
					sf.layer = *e.Layer
				}
				out = append(out, sf)
			}
		}
		return res.Status, out
	}
	return "", nil
}

func TestSecretsInDeletedLayers(t *testing.T) {
	archive := fixture(t, "secrets")
	rep, raw := judgeSecrets(t, "docker-archive:"+archive)
	added := rep.layerOf(t, "COPY dir:")
	deleted := rep.layerOf(t, "rm -rf /root/.aws/credentials")
	overwritten := rep.layerOf(t, "in /app")
	if !(added < deleted && deleted < overwritten) {
		t.Fatalf("layers: added %d, deleted %d, overwritten %d", added, deleted, overwritten)
	}

	status, got := rep.findings("CMP-004")
	if status != "fail" {
		t.Fatalf("CMP-004: %s", status)
	}
	for _, want := range []struct {
		path, rule, removal string
		line                int
	}{
		{"/root/.aws/credentials", "aws-access-key-id", "deleted by layer", 2},
		{"/root/.aws/credentials", "aws-secret-access-key", "deleted by layer", 3},
		{"/root/.ssh/id_rsa", "private-key", "deleted by layer", 1},
		{"/app/.env", "database-url-password", "deleted by layer", 1},
		{"/app/config.yml", "slack-bot-token", "overwritten by layer", 4},
	} {
		found := false
		for _, f := range got {
			if f.path != want.path || f.field != "rule "+want.rule {
				continue
			}
			found = true
			removedBy := deleted
			if want.removal == "overwritten by layer" {
				removedBy = overwritten
			}
			wording := want.removal + " " + itoa(removedBy) + " but still recoverable from layer " + itoa(added)
			if f.layer != added || f.digest != rep.Image.Layers[added].Digest || f.line != want.line || !strings.Contains(f.title, wording) {
				t.Errorf("%s %s: layer %d %s line %d %q; want layer %d, line %d, %q", want.path, want.rule, f.layer, f.digest, f.line, f.title, added, want.line, wording)
			}
			if !strings.Contains(f.value, "*") {
				t.Errorf("%s: value %q is not masked", want.path, f.value)
			}
		}
		if !found {
			t.Errorf("CMP-004 misses %s (%s): %+v", want.path, want.rule, got)
		}
	}

	// The report never shows a planted secret.
	for _, file := range []string{"rootfs/root/.aws/credentials", "rootfs/app/.env", "rootfs/app/config.yml", "Dockerfile"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", "images", "secrets", file))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range plantedValues(string(data)) {
			if strings.Contains(raw, v) {
				t.Errorf("the report leaks %q from %s", v, file)
			}
		}
	}
	if key, err := os.ReadFile(filepath.Join(filepath.Dir(archive), "secrets-id_rsa")); err == nil {
		body := strings.Split(string(key), "\n")[1]
		if strings.Contains(raw, body[4:]) {
			t.Error("the report leaks the private key")
		}
	}

	// The build ARG token and the ENV secret are CMP-005's.
	rep5 := checkJSONAny(t, archive)
	rep5.mustHave(t, "CMP-005", "fail", "Stripe key in Config.Env: STRIPE_API_KEY", "GitHub token in history")

	status, files := rep.findings("CMP-006")
	if status != "fail" {
		t.Fatalf("CMP-006: %s", status)
	}
	for _, p := range []string{"/root/.ssh/id_rsa", "/app/.env", "/root/.aws/credentials"} {
		ok := false
		for _, f := range files {
			ok = ok || f.path == p && f.layer == added && strings.Contains(f.title, "Recoverable") && strings.Contains(f.title, "deleted by layer "+itoa(deleted))
		}
		if !ok {
			t.Errorf("CMP-006 misses %s as recoverable from layer %d: %+v", p, added, files)
		}
	}

	status, back := rep.findings("CMP-007")
	if status != "fail" {
		t.Fatalf("CMP-007: %s", status)
	}
	for _, want := range []struct{ path, what string }{
		{"/root/.ssh/authorized_keys", "authorized_keys"},
		{"/etc/sudoers.d/deploy", "NOPASSWD"},
		{"/usr/local/bin/healthcheck.sh", "Reverse shell"},
	} {
		ok := false
		for _, f := range back {
			ok = ok || f.path == want.path && strings.Contains(f.title, want.what) && f.digest != ""
		}
		if !ok {
			t.Errorf("CMP-007 misses %s: %+v", want.path, back)
		}
	}
}

// plantedValues picks the secret values out of a fixture file.
func plantedValues(s string) []string {
	re := regexp.MustCompile(`AKIA[A-Z0-9]{16}|aws_secret_access_key = (\S+)|:(S3cr3t[^@]+)@|xoxb-\S+|ghp_\w+|sk_live_\w+`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		v := m[0]
		for _, g := range m[1:] {
			if g != "" {
				v = g
			}
		}
		out = append(out, v)
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

// checkJSONAny is checkJSON for a verdict that may pass or fail.
func checkJSONAny(t *testing.T, archive string) jsonReport {
	t.Helper()
	r := shipshape(t, "check", "--format", "json", archive)
	if r.code != 0 && r.code != 1 {
		t.Fatalf("exit code %d: %s", r.code, r.stderr)
	}
	var rep jsonReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestNoSecretsInCleanFixtures: the fixtures that plant nothing get nothing
// from CMP-004, CMP-006 and CMP-007.
func TestNoSecretsInCleanFixtures(t *testing.T) {
	for _, name := range []string{"base", "webapp", "nginx", "brokenhealth", "scratch"} {
		t.Run(name, func(t *testing.T) {
			rep, _ := judgeSecrets(t, fixture(t, name))
			for _, id := range []string{"CMP-004", "CMP-006", "CMP-007"} {
				if status, fs := rep.findings(id); status != "pass" {
					t.Errorf("%s: %s %+v", id, status, fs)
				}
			}
		})
	}
	// rootlatest ships its Dockerfile (with the npm and GitHub tokens of its
	// ARG and ENV lines, and the ENV DB_PASSWORD that the generic
	// password-variable rule finds) and a .git directory in /src: all are
	// real findings.
	rep, _ := judgeSecrets(t, fixture(t, "rootlatest"))
	_, got := rep.findings("CMP-004")
	var rules []string
	for _, f := range got {
		if f.path != "/src/Dockerfile" {
			t.Errorf("unexpected CMP-004 finding %+v", f)
		}
		rules = append(rules, f.field)
	}
	if strings.Join(rules, ",") != "rule npm-access-token,rule password-variable,rule github-pat" {
		t.Errorf("rootlatest /src/Dockerfile: %v", rules)
	}
	_, files := rep.findings("CMP-006")
	if len(files) != 1 || files[0].path != "/src/.git" {
		t.Errorf("rootlatest CMP-006: %+v", files)
	}
}

// TestSecretConfig: --secret-config adds a rule and a path allowlist.
func TestSecretConfig(t *testing.T) {
	archive := fixture(t, "secrets")
	cfg := filepath.Join(t.TempDir(), "rules.toml")
	err := os.WriteFile(cfg, []byte(`
[[rules]]
id = "fixture-deploy-key"
description = "Deploy key of the fixtures"
regex = '''deploy@shipshape-fixture'''
keywords = ["shipshape-fixture"]

[[allowlists]]
description = "the .env of the fixture is known"
paths = ['''^/app/\.env$''']
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := judgeSecrets(t, "--secret-config", cfg, archive)
	_, got := rep.findings("CMP-004")
	custom, env := false, false
	for _, f := range got {
		custom = custom || f.path == "/root/.ssh/authorized_keys" && f.field == "rule fixture-deploy-key"
		env = env || f.path == "/app/.env"
	}
	if !custom || env {
		t.Errorf("custom rule found: %v, allowlisted .env reported: %v; %+v", custom, env, got)
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(bad, []byte("[[rules]]\nid = \"x\"\nregex = '(unclosed'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := shipshape(t, "check", "--secret-config", bad, archive); r.code != 2 || !strings.Contains(r.stderr, "--secret-config") {
		t.Errorf("a bad --secret-config: exit %d, stderr %q; want 2", r.code, r.stderr)
	}
}
