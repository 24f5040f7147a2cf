package secrets

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rules.toml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func ruleIDs(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID)
	}
	return out
}

func TestCustomConfig(t *testing.T) {
	cfg := writeConfig(t, `
title = "acme"

[extend]
disabledRules = ["jwt"]

[shipshape]
maxFileSize = 4096

[[rules]]
id = "acme-api-key"
description = "ACME API key"
regex = '''\bacme_[a-z0-9]{24}\b'''
entropy = 3
keywords = ["acme_"]

[[rules.allowlists]]
stopwords = ["acme_test"]

[[allowlists]]
description = "vendored fixtures"
paths = ['''^/app/fixtures/''']
`)
	s, err := WithConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxFileSize != 4096 {
		t.Errorf("maxFileSize %d", s.MaxFileSize)
	}
	key := "acme_" + strings.ToLower(randomFrom("abcdefghijklmnopqrstuvwxyz0123456789", 24))
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	ghp := "ghp_" + randomFrom(alnum, 36)
	data := []byte("key=" + key + "\ntest=acme_testabcdefghijklmnopq1\ntoken=" + jwt + "\ngh=" + ghp + "\n")
	fs, err := s.Scan(Input{Path: "/app/config", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ruleIDs(fs), ","); got != "acme-api-key,github-pat" {
		t.Errorf("rules %s, want the custom rule (not its stopword match), the built-in github-pat, and no disabled jwt", got)
	}
	if !s.SkipPath("/app/fixtures/a.pem") || s.SkipPath("/app/a.pem") {
		t.Error("the config's path allowlist must skip /app/fixtures/ only")
	}
	// Past maxFileSize nothing is seen.
	long := append([]byte(strings.Repeat("x", 5000)+"\n"), data...)
	if fs, _ := s.Scan(Input{Path: "/app/config", Data: long}); len(fs) != 0 {
		t.Errorf("found %v past maxFileSize", ruleIDs(fs))
	}
	// The default scanner has none of this.
	if fs, _ := mustDefault(t).Scan(Input{Path: "/app/config", Data: data}); strings.Join(ruleIDs(fs), ",") != "jwt,github-pat" {
		t.Errorf("default scanner: %v", ruleIDs(fs))
	}
}

func TestOnlyCustomRules(t *testing.T) {
	cfg := writeConfig(t, `
[extend]
useDefault = false

[[rules]]
id = "internal-host"
description = "Internal host name"
regex = '''\b[a-z]+\.corp\.example\b'''
keywords = [".corp."]
`)
	s, err := WithConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rules()) != 1 {
		t.Fatalf("%d rules, want only the custom one", len(s.Rules()))
	}
	fs, _ := s.Scan(Input{Path: "/x", Data: []byte("db.corp.example ghp_" + randomFrom(alnum, 36))})
	if strings.Join(ruleIDs(fs), ",") != "internal-host" {
		t.Errorf("got %v", ruleIDs(fs))
	}
}

func TestBadConfigs(t *testing.T) {
	for name, body := range map[string]string{
		"unknown key":      "[[rules]]\nid = \"x\"\nregex = 'a'\nkeywords = [\"a\"]\nkeyword = \"typo\"\n",
		"bad regex":        "[[rules]]\nid = \"x\"\nregex = '(unclosed'\n",
		"no id":            "[[rules]]\nregex = 'a'\n",
		"nothing to match": "[[rules]]\nid = \"x\"\n",
		"bad kind":         "[[rules]]\nid = \"x\"\nregex = 'a'\nkind = \"virus\"\n",
		"bad scope":        "[[rules]]\nid = \"x\"\nregex = 'a'\nscope = \"binaries\"\n",
		"bad secretGroup":  "[[rules]]\nid = \"x\"\nregex = '(a)'\nsecretGroup = 2\n",
		"empty allowlist":  "[[allowlists]]\ndescription = \"nothing\"\n",
		"bad condition":    "[[allowlists]]\ncondition = \"XOR\"\npaths = ['a']\n",
		"bad regexTarget":  "[[allowlists]]\nregexTarget = \"file\"\nregexes = ['a']\n",
		"extend path":      "[extend]\npath = \"other.toml\"\n",
		"not TOML":         "[[rules]\n",
	} {
		if _, err := WithConfig(writeConfig(t, body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := WithConfig(filepath.Join(t.TempDir(), "missing.toml")); err == nil {
		t.Error("a missing file must be an error")
	}
}

func TestAllowlistConditions(t *testing.T) {
	and := &allowlist{and: true, paths: []pathRe{newPathRe(mustRe(`^/test/`))}, stopwords: []string{"dummy"}}
	if and.allows("/test/a", "realsecret", "", "") || !and.allows("/test/a", "dummy-secret", "", "") || and.allows("/app/a", "dummy-secret", "", "") {
		t.Error("AND needs every criterion")
	}
	or := &allowlist{paths: []pathRe{newPathRe(mustRe(`^/test/`))}, stopwords: []string{"dummy"}}
	if !or.allows("/test/a", "realsecret", "", "") || !or.allows("/app/a", "dummy", "", "") || or.allows("/app/a", "real", "", "") {
		t.Error("OR needs one criterion")
	}
	line := &allowlist{target: targetLine, regexes: []*regexpT{mustRe(`# nosecret`)}}
	if !line.allows("/a", "s", "m", "key = s # nosecret") || line.allows("/a", "s", "m", "key = s") {
		t.Error("a line target matches the line")
	}
}

func TestBuiltinRulesCompile(t *testing.T) {
	s := mustDefault(t)
	ids := map[string]bool{}
	for _, r := range s.Rules() {
		if ids[r.ID] {
			t.Errorf("duplicate rule %s", r.ID)
		}
		ids[r.ID] = true
		if r.Name() == "" || len(r.Name()) > 60 {
			t.Errorf("rule %s: name %q", r.ID, r.Name())
		}
	}
	for _, id := range []string{"private-key", "aws-access-key-id", "gcp-service-account-key", "azure-storage-account-key", "docker-config-auth", "npmrc-auth", "pypirc-password", "netrc-password", "git-credentials", "database-url-password", "jwt", "slack-bot-token", "github-pat", "gitlab-pat", "stripe-access-token", "reverse-shell-dev-tcp", "sudoers-nopasswd-all"} {
		if !ids[id] {
			t.Errorf("rule %s missing", id)
		}
	}
	// shipshape's own rules have descriptions short enough for titles.
	own, err := ParseFile(mustRead(t, "data/shipshape.toml"), "shipshape.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range own.Rules {
		if len(r.Description) > 60 || strings.HasSuffix(r.Description, ".") {
			t.Errorf("rule %s: description %q is not a short name", r.ID, r.Description)
		}
	}
	if ids["generic-api-key"] {
		t.Error("generic-api-key is left out of the built-in rules")
	}
	if len(ids) < 200 {
		t.Errorf("%d rules", len(ids))
	}
}

type regexpT = regexp.Regexp

func mustRe(s string) *regexp.Regexp { return regexp.MustCompile(s) }

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := builtin.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRequiredLiteral(t *testing.T) {
	for re, want := range map[string]string{
		`(?:^|/)node_modules(?:/.*)?$`:                       "node_modules",
		`(?i)\.(?:bmp|gif|jpe?g)$`:                           "",
		`^/usr/share/(?:doc|man)/`:                           "/usr/share/",
		`(?i)(?:^|/)[a-z0-9_.]+-[0-9.]+\.dist-info(?:/.+)?$`: ".dist-info",
		`^/etc/ssh/sshd_config(?:\.d/[^/]+)?$`:               "/etc/ssh/sshd_config",
	} {
		p := newPathRe(regexp.MustCompile(re))
		if p.lit != want {
			t.Errorf("%s: literal %q, want %q", re, p.lit, want)
		}
	}
	// The prefilter never rejects a path the regex matches (case folded too).
	p := newPathRe(regexp.MustCompile(`(?i)/TestData/`))
	if !p.match("/usr/lib/x/testdata/k.pem", "/usr/lib/x/testdata/k.pem") {
		t.Error("case-insensitive literal rejected a match")
	}
}
