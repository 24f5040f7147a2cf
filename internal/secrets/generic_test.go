package secrets

import (
	"strings"
	"testing"
)

// Secrets recognised by the variable that holds them: an AWS secret key
// with no AKIA key id beside it (and not the 40 characters the AWS rule
// wants), tokens, API keys and passwords in .env files, shell exports,
// Dockerfiles and compose files.
func TestSecretVariables(t *testing.T) {
	s := mustDefault(t)
	tok := func(n int) string { return randomFrom(alnum, n) }
	for _, c := range []struct{ name, path, content, rule, secret string }{
		{"AWS secret without a key id", "/app/.env", "AWS_SECRET_ACCESS_KEY=%s\n", "secret-variable", tok(36)},
		{"GitHub token, any shape", "/app/.env", "GITHUB_TOKEN=%s\n", "secret-variable", tok(30)},
		{"API key", "/srv/app/.env.production", "OPENAI_API_KEY=\"%s\"\n", "secret-variable", tok(48)},
		{"export", "/etc/profile.d/app.sh", "export STRIPE_SECRET_KEY=%s\n", "secret-variable", tok(24)},
		{"Dockerfile ENV", "/src/Dockerfile", "FROM debian\nENV SENDGRID_API_KEY=%s\n", "secret-variable", tok(40)},
		{"compose", "/app/docker-compose.yml", "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: %s\n", "password-variable", tok(14)},
		{"DB password", "/app/.env", "DB_HOST=db\nDB_PASSWORD=%s\n", "password-variable", "Xk9#mQ2!vL7p"},
		{"systemd unit", "/etc/systemd/system/app.service", "[Service]\nEnvironment=REDIS_PASSWORD=%s\n", "password-variable", tok(20)},
	} {
		t.Run(c.name, func(t *testing.T) {
			content := strings.Replace(c.content, "%s", c.secret, 1)
			fs, err := s.Scan(Input{Path: c.path, Data: []byte(content)})
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 1 || fs[0].RuleID != c.rule || fs[0].Secret != c.secret {
				t.Fatalf("got %+v, want one %s finding of %q in\n%s", fs, c.rule, c.secret, content)
			}
		})
	}
	// A rule that knows the token's shape wins over the generic one.
	ghp := "ghp_" + tok(36)
	fs, _ := s.Scan(Input{Path: "/app/.env", Data: []byte("GITHUB_TOKEN=" + ghp + "\n")})
	if len(fs) != 1 || fs[0].RuleID != "github-pat" {
		t.Errorf("GITHUB_TOKEN=ghp_...: %+v, want github-pat alone", fs)
	}
	aws := randomFrom(alnum+"/+", 40)
	fs, _ = s.Scan(Input{Path: "/app/.env", Data: []byte("AWS_SECRET_ACCESS_KEY=" + aws + "\n")})
	if len(fs) != 1 || fs[0].RuleID != "aws-secret-access-key" {
		t.Errorf("40-character AWS key: %+v, want aws-secret-access-key alone", fs)
	}
}

func TestSecretVariablesPlaceholders(t *testing.T) {
	s := mustDefault(t)
	for _, line := range []string{
		"GITHUB_TOKEN=${GITHUB_TOKEN}",
		"GITHUB_TOKEN=$GITHUB_TOKEN",
		"API_KEY=your-api-key-here",
		"OPENAI_API_KEY=<your key>",
		"DB_PASSWORD=changeme",
		"DB_PASSWORD=password123",
		"MYSQL_PWD=/run/secrets/mysql",
		"SECRET_KEY_FILE=/run/secrets/key",
		"SECRET_KEY=/etc/app/secret.key",
		"TOKEN=xxxxxxxxxxxxxxxxxxxxxxxx",
		"API_KEY=AAAAAAAAAAAAAAAAAAAAAAAA",
		"JWT_SECRET=please-change-this-secret",
		"AUTH_TOKEN_URL=https://auth.example.com/token",
		"PASSWORD: ********",
		"DEFAULT_PASSWORD=NONE_GIVEN_USE_VAULT",
		"password=Xk9mQ2vL7pR4",           // lower case: not an environment name
		"token: abcdefghijklmnopqrstuvwx", // lower case, and no entropy to speak of
		"PWD=/home/app/work/dir",
		"OLDPWD=/var/lib/app",
	} {
		fs, err := s.Scan(Input{Path: "/app/.env", Data: []byte(line + "\n")})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			t.Errorf("%q: reported %s %q", line, f.RuleID, f.Secret)
		}
	}
}

// TestGenericRulesQuietOnDebianBase scans every text file of a debootstrap
// minbase bookworm (the fixtures' base-rootfs.tar), documentation and
// other allowlisted trees included: the generic variable rules report
// nothing in a real Debian base.
func TestGenericRulesQuietOnDebianBase(t *testing.T) {
	files := readTar(t, cacheDir("fixtures")+"/base-rootfs.tar", false, DefaultMaxFileSize)
	s := mustDefault(t)
	n := 0
	for _, f := range files {
		if IsBinary(f.data) {
			continue
		}
		n++
		// Outside every path allowlist: the rule's own precision.
		fs, _ := s.Scan(Input{Path: "/app/" + strings.TrimPrefix(f.path, "/"), Data: f.data, Script: IsScript(f.path, f.data, false)})
		for _, x := range fs {
			if x.RuleID == "secret-variable" || x.RuleID == "password-variable" {
				t.Errorf("%s line %d: %s %q", f.path, x.Line, x.RuleID, MaskIn(x.Match, x.Secret, 80))
			}
		}
	}
	if n < 500 {
		t.Errorf("only %d text files scanned", n)
	}
	t.Logf("%d text files", n)
}
