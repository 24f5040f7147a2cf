package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// withoutTimes drops what differs between two runs of the same judgement.
func withoutTimes(t *testing.T, js string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, js)
	}
	delete(m, "duration_seconds")
	delete(m, "time")
	b, _ := json.MarshalIndent(m, "", " ")
	return string(b)
}

// observe + check --facts gives the same report as check, on real fixture
// images; the second check of an image reads its layer facts from the cache.
func TestObserveThenCheckFacts(t *testing.T) {
	cache := t.TempDir()
	env := append(os.Environ(), "SHIPSHAPE_CACHE_DIR="+cache)
	for _, name := range []string{"rootlatest", "secrets", "langapps"} {
		t.Run(name, func(t *testing.T) {
			in := "docker-archive:" + fixture(t, name)
			ref := "registry.example/team/" + name + ":1.0"
			direct := runWith(t, env, "check", "--format", "json", "--log-level", "debug", "--ref", ref, in)
			if direct.code > 1 {
				t.Fatalf("check: exit %d\n%s", direct.code, direct.stderr)
			}
			if strings.Contains(direct.stderr, "layer facts from the cache") {
				t.Fatal("the first check came from the cache")
			}
			factsFile := filepath.Join(t.TempDir(), "facts.json")
			obs := runWith(t, env, "observe", "--log-level", "debug", "-o", factsFile, "--ref", ref, in)
			if obs.code != 0 {
				t.Fatalf("observe: exit %d\n%s", obs.code, obs.stderr)
			}
			if !strings.Contains(obs.stderr, "layer facts from the cache") {
				t.Errorf("the second reading did not use the cache:\n%s", obs.stderr)
			}
			judged := runWith(t, env, "check", "--format", "json", "--facts", factsFile)
			if judged.code != direct.code {
				t.Fatalf("check --facts: exit %d, check: exit %d\n%s", judged.code, direct.code, judged.stderr)
			}
			if a, b := withoutTimes(t, direct.stdout), withoutTimes(t, judged.stdout); a != b {
				t.Fatalf("check --facts differs from check:\n%s", lineDiff(a, b))
			}
			// --no-cache reads the layers again and judges the same.
			nc := runWith(t, env, "check", "--format", "json", "--no-cache", "--log-level", "debug", "--ref", ref, in)
			if strings.Contains(nc.stderr, "layer facts from the cache") {
				t.Fatal("--no-cache used the cache")
			}
			if a, b := withoutTimes(t, direct.stdout), withoutTimes(t, nc.stdout); a != b {
				t.Fatalf("--no-cache differs:\n%s", lineDiff(a, b))
			}
		})
	}
}

func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return "- " + al[i] + "\n+ " + bl[i]
		}
	}
	return "lengths differ"
}

// Bad facts files are input errors (exit 2) with a message that says what is wrong.
func TestBadFactsFile(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"newer.json":  `{"schema":"https://shipshape.dev/schemas/facts/v1","version":7}`,
		"broken.json": `{"schema":"https://shipshape.dev/schemas/facts/v1","version":1,"filesystem":{"root":`,
		"other.json":  `{"hello":"world"}`,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		r := shipshape(t, "check", "--facts", p)
		if r.code != 2 || !strings.Contains(r.stderr, p) {
			t.Errorf("%s: exit %d, stderr %q", name, r.code, r.stderr)
		}
	}
	if r := shipshape(t, "check", "--facts", filepath.Join(dir, "missing.json")); r.code != 2 {
		t.Errorf("missing facts file: exit %d", r.code)
	}
	if r := shipshape(t, "cache", "status"); r.code != 0 || !strings.Contains(r.stdout, "facts cache") {
		t.Errorf("cache status: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
}
