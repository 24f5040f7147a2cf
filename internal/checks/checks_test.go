package checks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/checks"
	"github.com/shipshape-dev/shipshape/internal/engine"
	"github.com/shipshape-dev/shipshape/internal/imagetest"
	"github.com/shipshape-dev/shipshape/internal/report"
	"github.com/shipshape-dev/shipshape/internal/source"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// judge builds the image, writes it as an OCI layout named ref and runs the whole scan on it.
func judge(t *testing.T, spec imagetest.Spec, ref string) *report.Report {
	t.Helper()
	if spec.Created.IsZero() {
		spec.Created = now.Add(-48 * time.Hour)
	}
	img := imagetest.Image(t, spec)
	input := imagetest.WriteLayout(t, t.TempDir(), img, ref)
	opened, err := source.Open(context.Background(), input, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	rep, err := scanWith(t, opened, engine.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func result(t *testing.T, rep *report.Report, id string) checks.Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Check.ID == id {
			return r
		}
	}
	t.Fatalf("no result for %s", id)
	return checks.Result{}
}

func expect(t *testing.T, rep *report.Report, id string, want checks.Status, titleHas ...string) checks.Result {
	t.Helper()
	r := result(t, rep, id)
	if r.Status != want {
		t.Fatalf("%s: status %s, want %s (note %q, findings %+v)", id, r.Status, want, r.Note, r.Findings)
	}
	for _, s := range titleHas {
		found := false
		for _, f := range r.Findings {
			if strings.Contains(f.Title, s) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no finding title contains %q; findings: %+v", id, s, r.Findings)
		}
	}
	return r
}

func base(extra ...[]imagetest.File) imagetest.Spec {
	s := imagetest.Spec{Layers: [][]imagetest.File{imagetest.Debian()}, Config: v1.Config{Entrypoint: []string{"/usr/bin/dash"}}}
	s.Layers = append(s.Layers, extra...)
	return s
}

func TestEffectiveUser(t *testing.T) {
	toor := []imagetest.File{imagetest.Text("/etc/passwd", "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\napp:x:10001:10001::/:/bin/false\n")}
	cases := []struct {
		user     string
		extra    [][]imagetest.File
		sec001   checks.Status
		sec002   checks.Status
		vetoOnly bool
	}{
		{user: "", sec001: checks.Fail, sec002: checks.Pass},
		{user: "0", sec001: checks.Fail, sec002: checks.Pass},
		{user: "root", sec001: checks.Fail, sec002: checks.Pass},
		{user: "0:0", sec001: checks.Fail, sec002: checks.Pass},
		{user: "root:root", sec001: checks.Fail, sec002: checks.Pass},
		{user: "toor", extra: [][]imagetest.File{toor}, sec001: checks.Fail, sec002: checks.Pass},
		{user: "app", sec001: checks.Pass, sec002: checks.Pass},
		{user: "10001:10001", sec001: checks.Pass, sec002: checks.Pass},
		{user: "4242", sec001: checks.Pass, sec002: checks.Pass},
		{user: "ghost", sec001: checks.Skipped, sec002: checks.Fail},
		{user: "app:nosuchgroup", sec001: checks.Pass, sec002: checks.Fail},
	}
	for _, c := range cases {
		t.Run("user="+c.user, func(t *testing.T) {
			spec := base(c.extra...)
			spec.Config.User = c.user
			rep := judge(t, spec, "registry.example/app@sha256:"+strings.Repeat("a", 64))
			r := expect(t, rep, "SEC-001", c.sec001)
			expect(t, rep, "SEC-002", c.sec002)
			if c.sec001 == checks.Fail {
				if !r.Findings[0].Veto || rep.Verdict.Pass {
					t.Errorf("root must be a veto that fails the verdict: %+v", rep.Verdict)
				}
			}
		})
	}
}

func TestHealthcheckAndEntrypoint(t *testing.T) {
	app := imagetest.Exec("/usr/local/bin/app", imagetest.ELF(62, "/lib64/ld-linux-x86-64.so.2"))
	cases := []struct {
		name   string
		files  []imagetest.File
		hc     []string
		entry  []string
		rel003 checks.Status
		rel004 checks.Status
		has3   string
		has4   string
	}{
		{name: "exec form ok", files: []imagetest.File{app}, hc: []string{"CMD", "/usr/local/bin/app", "-health"}, entry: []string{"/usr/local/bin/app"}, rel003: checks.Pass, rel004: checks.Pass},
		{name: "PATH lookup", files: []imagetest.File{app}, hc: []string{"CMD", "app", "-health"}, entry: []string{"app"}, rel003: checks.Pass, rel004: checks.Pass},
		{name: "missing binary", hc: []string{"CMD", "/usr/bin/curl", "-f", "http://127.0.0.1/"}, entry: []string{"/app"}, rel003: checks.Fail, rel004: checks.Fail, has3: "/usr/bin/curl", has4: "/app"},
		{name: "shell form word missing", files: []imagetest.File{app}, hc: []string{"CMD-SHELL", "curl -fsS http://127.0.0.1:8080/ || exit 1"}, entry: []string{"/bin/sh", "-c", "exec app"}, rel003: checks.Fail, rel004: checks.Pass, has3: "curl"},
		{name: "shell form words present", files: []imagetest.File{app}, hc: []string{"CMD-SHELL", "X=1 app -health && test -f /tmp/ok || exit 1"}, entry: []string{"/bin/sh", "-c", "exec app"}, rel003: checks.Pass, rel004: checks.Pass},
		{name: "missing loader", files: []imagetest.File{imagetest.Exec("/usr/local/bin/app", imagetest.ELF(62, "/lib/ld-musl-x86_64.so.1"))}, hc: []string{"CMD", "app"}, entry: []string{"app"}, rel003: checks.Fail, rel004: checks.Fail, has3: "ld-musl", has4: "ld-musl"},
		{name: "wrong architecture", files: []imagetest.File{imagetest.Exec("/usr/local/bin/app", imagetest.ELF(183, ""))}, hc: []string{"CMD", "app"}, entry: []string{"app"}, rel003: checks.Pass, rel004: checks.Fail, has4: "arm64"},
		{name: "script interpreter missing", files: []imagetest.File{imagetest.Exec("/opt/run.sh", "#!/usr/bin/python3\nprint(1)\n")}, hc: []string{"CMD", "/opt/run.sh"}, entry: []string{"/opt/run.sh"}, rel003: checks.Fail, rel004: checks.Fail, has3: "python3", has4: "python3"},
		{name: "env interpreter", files: []imagetest.File{imagetest.Exec("/opt/run.sh", "#!/usr/bin/env dash\nexit 0\n"), imagetest.Exec("/usr/bin/env", imagetest.ELF(62, ""))}, hc: []string{"CMD", "/opt/run.sh"}, entry: []string{"/opt/run.sh"}, rel003: checks.Pass, rel004: checks.Pass},
		{name: "symlink chain", files: []imagetest.File{app, imagetest.Symlink("/etc/alternatives/app", "/usr/local/bin/app"), imagetest.Symlink("/usr/bin/myapp", "../../etc/alternatives/app")}, hc: []string{"CMD", "myapp"}, entry: []string{"/usr/bin/myapp"}, rel003: checks.Pass, rel004: checks.Pass},
		{name: "not executable", files: []imagetest.File{imagetest.Text("/usr/local/bin/app", imagetest.ELF(62, ""))}, hc: []string{"CMD", "/usr/local/bin/app"}, entry: []string{"/usr/local/bin/app"}, rel003: checks.Fail, rel004: checks.Fail, has3: "not executable"},
		{name: "dangling symlink", files: []imagetest.File{imagetest.Symlink("/usr/local/bin/app", "/nowhere")}, hc: []string{"CMD", "/usr/local/bin/app"}, entry: []string{"/usr/local/bin/app"}, rel003: checks.Fail, rel004: checks.Fail},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := base(c.files)
			spec.Config.Healthcheck = &v1.HealthConfig{Test: c.hc}
			spec.Config.Entrypoint = c.entry
			rep := judge(t, spec, "")
			expect(t, rep, "REL-002", checks.Pass)
			r3 := expect(t, rep, "REL-003", c.rel003, nonEmpty(c.has3)...)
			r4 := expect(t, rep, "REL-004", c.rel004, nonEmpty(c.has4)...)
			if c.rel004 == checks.Fail && r4.Findings[0].Severity != checks.Critical {
				t.Errorf("REL-004 severity %s, want critical", r4.Findings[0].Severity)
			}
			_ = r3
		})
	}
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func TestNoHealthcheck(t *testing.T) {
	spec := base()
	rep := judge(t, spec, "")
	expect(t, rep, "REL-002", checks.Fail, "no HEALTHCHECK")
	expect(t, rep, "REL-003", checks.Skipped)
	spec.Config.Healthcheck = &v1.HealthConfig{Test: []string{"NONE"}}
	expect(t, judge(t, spec, ""), "REL-002", checks.Fail, "NONE")
}

func TestSignals(t *testing.T) {
	for _, c := range []struct {
		argv []string
		want checks.Status
	}{
		{[]string{"/bin/sh", "-c", "exec /usr/bin/dash"}, checks.Pass},
		{[]string{"/bin/sh", "-c", "dash -c true && sleep 1"}, checks.Fail},
		{[]string{"/usr/bin/dash"}, checks.Pass},
		{[]string{"/usr/bin/tini", "--", "/bin/sh", "-c", "x"}, checks.Pass},
	} {
		spec := base()
		spec.Config.Entrypoint = c.argv
		expect(t, judge(t, spec, ""), "REL-005", c.want)
	}
}

func TestSetuidAcrossLayers(t *testing.T) {
	spec := base(
		[]imagetest.File{
			{Path: "/usr/bin/su", Content: "su", Mode: 04755},
			{Path: "/usr/bin/wall", Content: "wall", Mode: 02755},
			{Path: "/opt/old/suid", Content: "x", Mode: 04755},
			{Path: "/opt/keep/suid", Content: "x", Mode: 04755},
		},
		[]imagetest.File{imagetest.Whiteout("/usr/bin/su"), imagetest.Opaque("/opt/old"), imagetest.Text("/opt/old/new", "n")},
	)
	rep := judge(t, spec, "")
	r := expect(t, rep, "SEC-003", checks.Fail, "/usr/bin/wall is setgid", "/opt/keep/suid is setuid")
	if len(r.Findings) != 2 {
		t.Fatalf("want the 2 setuid/setgid files left in the final filesystem, got %+v", r.Findings)
	}
	for _, f := range r.Findings {
		if f.Evidence[0].Layer == nil || *f.Evidence[0].Layer != 1 || !strings.HasPrefix(f.Evidence[0].LayerDigest, "sha256:") {
			t.Errorf("evidence must name layer 1 and its digest: %+v", f.Evidence[0])
		}
	}
}

func TestWorldWritable(t *testing.T) {
	spec := base([]imagetest.File{
		{Path: "/srv/shared", Type: '5', Mode: 0o777},
		{Path: "/srv/tmp", Type: '5', Mode: 01777},
		{Path: "/srv/file", Content: "x", Mode: 0o666},
	})
	r := expect(t, judge(t, spec, ""), "SEC-004", checks.Fail, "/srv/shared", "/srv/file")
	if len(r.Findings) != 2 {
		t.Errorf("sticky /srv/tmp must not be reported: %+v", r.Findings)
	}
}

func TestToolsAndBase(t *testing.T) {
	rep := judge(t, base([]imagetest.File{imagetest.Exec("/usr/bin/curl", "x"), imagetest.Exec("/usr/bin/sudo", "x"), imagetest.Exec("/usr/bin/apt-get", "x")}), "")
	expect(t, rep, "SEC-005", checks.Fail, "shell sh", "shell dash")
	expect(t, rep, "SEC-006", checks.Fail, "apt-get")
	r := expect(t, rep, "SEC-007", checks.Fail, "curl", "sudo")
	for _, f := range r.Findings {
		if strings.Contains(f.Title, "sudo") && f.Severity != checks.Medium {
			t.Errorf("sudo must be medium, got %s", f.Severity)
		}
	}
	expect(t, rep, "SEC-008", checks.Pass, "base: minimal", "Debian GNU/Linux 12")

	scratch := imagetest.Spec{Layers: [][]imagetest.File{{imagetest.Exec("/app", imagetest.ELF(62, ""))}}, Config: v1.Config{Entrypoint: []string{"/app"}, User: "65532"}}
	rep = judge(t, scratch, "")
	expect(t, rep, "SEC-008", checks.Pass, "base: scratch")
	expect(t, rep, "SEC-005", checks.Pass)
	expect(t, rep, "REL-004", checks.Pass)
	expect(t, rep, "MNT-003", checks.Skipped)

	distroless := imagetest.Spec{Layers: [][]imagetest.File{{
		imagetest.Text("/etc/os-release", "PRETTY_NAME=\"Distroless\"\nID=debian\nVERSION_ID=\"12\"\n"),
		imagetest.Text("/var/lib/dpkg/status.d/base-files", "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n"),
		imagetest.Text("/var/lib/dpkg/status.d/base-files.md5sums", "abc  etc/issue\n"),
		imagetest.Text("/var/lib/dpkg/status.d/libssl3", "Package: libssl3\nSource: openssl\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\n"),
		imagetest.Text("/etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n"),
		imagetest.Exec("/app", imagetest.ELF(62, "")),
	}}, Config: v1.Config{Entrypoint: []string{"/app"}, User: "nonroot"}}
	rep = judge(t, distroless, "")
	expect(t, rep, "SEC-008", checks.Pass, "base: distroless")
	expect(t, rep, "SEC-001", checks.Pass)
	if rep.Summary.Packages != 2 {
		t.Errorf("distroless status.d: want 2 packages, got %d", rep.Summary.Packages)
	}
}

func TestAccounts(t *testing.T) {
	spec := base([]imagetest.File{
		imagetest.Text("/etc/shadow", "root::19000:0:99999:7:::\napp:!:19000::::::\n"),
		imagetest.Text("/etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:10001:10001::/:/bin/false\nbackup:x:10001:10001::/:/bin/false\n"),
	})
	expect(t, judge(t, spec, ""), "SEC-009", checks.Fail, "account root has an empty password", "uid 10001 is shared by app, backup")
	expect(t, judge(t, base(), ""), "SEC-009", checks.Pass)
}

func TestPinning(t *testing.T) {
	cases := []struct {
		ref  string
		want checks.Status
		veto bool
		sev  checks.Severity
	}{
		{"registry.example/team/app:latest", checks.Fail, true, checks.Critical},
		{"registry.example/team/app", checks.Fail, true, checks.Critical},
		{"registry.example/team/app:1", checks.Fail, false, checks.High},
		{"registry.example/team/app:1.25", checks.Fail, false, checks.High},
		{"registry.example/team/app:1.4.2", checks.Fail, false, checks.Medium},
		{"registry.example/team/app:1.4.2@sha256:" + strings.Repeat("b", 64), checks.Pass, false, 0},
	}
	for _, c := range cases {
		rep := judge(t, base(), c.ref)
		r := expect(t, rep, "REL-001", c.want)
		if c.want == checks.Pass {
			continue
		}
		f := r.Findings[0]
		if f.Veto != c.veto || f.Severity != c.sev {
			t.Errorf("%s: veto=%v severity=%s, want veto=%v severity=%s", c.ref, f.Veto, f.Severity, c.veto, c.sev)
		}
		want := "registry.example/team/app@" + rep.Image.Digest
		if !strings.HasPrefix(rep.Image.Digest, "sha256:") || !strings.Contains(f.Remediation, want) {
			t.Errorf("%s: remediation must give %q: %s", c.ref, want, f.Remediation)
		}
	}
}

func TestSecretsInConfigAreMasked(t *testing.T) {
	key := "AKIA" + "Z7QX4B2M9KLP3WQE"
	spec := base()
	spec.Config.Env = []string{"PATH=/usr/bin:/bin", "AWS_ACCESS_KEY_ID=" + key, "DB_PASSWORD_FILE=/run/secrets/db", "LOG_LEVEL=info"}
	spec.Config.Labels = map[string]string{"deploy.token": "s3cr3t-t0ken-value"}
	spec.History = []v1.History{{CreatedBy: "RUN |1 NPM_TOKEN=npm_abcdefghijklmnopqrstuvwxyz0123456789 /bin/sh -c npm ci # buildkit"}, {CreatedBy: "RUN /bin/sh -c echo hi"}}
	spec.Layers = append(spec.Layers, []imagetest.File{imagetest.Text("/x", "x")})
	rep := judge(t, spec, "")
	r := expect(t, rep, "CMP-005", checks.Fail, "AWS access key ID", "npm token", "deploy.token")
	if len(r.Findings) != 3 {
		t.Errorf("want 3 secrets (the _FILE reference is not one), got %+v", r.Findings)
	}
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, rep); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{key, "npm_abcdefghijklmnopqrstuvwxyz0123456789", "s3cr3t-t0ken-value"} {
		if bytes.Contains(buf.Bytes(), []byte(secret)) {
			t.Errorf("the report leaks %q", secret)
		}
	}
}

func TestLogs(t *testing.T) {
	spec := base([]imagetest.File{
		imagetest.Symlink("/var/log/nginx/access.log", "/dev/stdout"),
		imagetest.Text("/var/log/nginx/error.log", ""),
	})
	r := expect(t, judge(t, spec, ""), "REL-006", checks.Fail, "/var/log/nginx/error.log")
	if len(r.Findings) != 1 {
		t.Errorf("the linked access.log is fine: %+v", r.Findings)
	}
}

func TestEndOfLife(t *testing.T) {
	spec := base([]imagetest.File{imagetest.Text("/usr/lib/os-release", "ID=debian\nVERSION_ID=\"10\"\nPRETTY_NAME=\"Debian GNU/Linux 10 (buster)\"\n")})
	r := expect(t, judge(t, spec, ""), "MNT-003", checks.Fail, "Debian 10")
	if r.Findings[0].Severity != checks.High {
		t.Errorf("buster is past all support: want high, got %s", r.Findings[0].Severity)
	}
	spec = base()
	spec.Config.Env = []string{"NODE_VERSION=16.20.2", "PYTHON_VERSION=3.13.1"}
	r = expect(t, judge(t, spec, ""), "MNT-004", checks.Fail, "Node.js 16.20.2")
	if len(r.Findings) != 1 {
		t.Errorf("python 3.13 is supported: %+v", r.Findings)
	}
}

func TestAgeAndLabels(t *testing.T) {
	spec := base()
	spec.Created = now.AddDate(-2, 0, 0)
	spec.Config.Labels = map[string]string{"org.opencontainers.image.source": "https://example.com/x", "org.opencontainers.image.version": "1"}
	rep := judge(t, spec, "")
	expect(t, rep, "MNT-002", checks.Fail, "days old")
	r := expect(t, rep, "MNT-001", checks.Fail, "no revision label")
	for _, f := range r.Findings {
		if strings.Contains(f.Title, "source") || strings.Contains(f.Title, "no version") {
			t.Errorf("present label reported missing: %s", f.Title)
		}
	}
}

func TestHygiene(t *testing.T) {
	spec := base([]imagetest.File{imagetest.Text("/src/.git/HEAD", "ref: refs/heads/main\n"), imagetest.Text("/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4", "x")})
	spec.History = []v1.History{
		{CreatedBy: "RUN /bin/sh -c apt-get update && apt-get install -y curl # buildkit"},
		{CreatedBy: "ADD https://example.com/tool.tgz /opt/ # buildkit"},
		{CreatedBy: "RUN /bin/sh -c apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/* # buildkit", EmptyLayer: true},
	}
	r := expect(t, judge(t, spec, ""), "MNT-008", checks.Fail, "without removing /var/lib/apt/lists", "ADD of a remote URL", ".git directory", "apt package lists left")
	n := 0
	for _, f := range r.Findings {
		if strings.Contains(f.Title, "without removing") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the RUN that cleans its lists must not be reported: %+v", r.Findings)
	}
}

func TestVerdictJSONRoundTrip(t *testing.T) {
	rep := judge(t, base(), "registry.example/app:latest")
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, rep); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back["schema"] != report.Schema {
		t.Errorf("schema %v", back["schema"])
	}
	v := back["verdict"].(map[string]any)
	if v["pass"] != false || v["grade"] != "F" {
		t.Errorf("verdict %v", v)
	}
}

func TestCatalogIsCurrent(t *testing.T) {
	var buf bytes.Buffer
	if err := checks.WriteCatalog(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/checks.md")
	if err != nil {
		t.Fatalf("docs/checks.md missing: run `go run ./cmd/shipshape docs checks > docs/checks.md` (%v)", err)
	}
	if !bytes.Equal(got, buf.Bytes()) {
		t.Fatal("docs/checks.md is stale: run `go run ./cmd/shipshape docs checks > docs/checks.md`")
	}
}

// scanWith observes and judges an opened image with an engine of deps at now.
func scanWith(t *testing.T, img *source.Image, deps engine.Deps) (*report.Report, error) {
	t.Helper()
	e, err := engine.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	return e.Scan(context.Background(), img, engine.ObserveOptions{}, nil, now)
}

// hostDebianFiles copies real Debian executables of this machine into an
// image layer (skips when the machine lacks them).
func hostDebianFiles(t *testing.T, paths ...string) []imagetest.File {
	t.Helper()
	var out []imagetest.File
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Skipf("needs the Debian file %s: %v", p, err)
		}
		out = append(out, imagetest.Exec(p, string(b)))
	}
	return out
}

// TestBashDevTCPHealthcheck: the usual bash health check without curl or
// wget, on real Debian bash, head and grep. The old splitter reported "3"
// (the file descriptor of `>&3` and `<&3`) as a missing program, twice.
func TestBashDevTCPHealthcheck(t *testing.T) {
	script := `exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && head -n1 <&3 | grep -q ' 200 '`
	files := hostDebianFiles(t, "/usr/bin/bash", "/usr/bin/head", "/usr/bin/grep")
	for name, test := range map[string][]string{
		"Dockerfile shell form": {"CMD-SHELL", `/bin/bash -c "` + script + `"`},
		"exec form":             {"CMD", "/bin/bash", "-c", script},
	} {
		t.Run(name, func(t *testing.T) {
			spec := base(files)
			spec.Config.Healthcheck = &v1.HealthConfig{Test: test}
			expect(t, judge(t, spec, ""), "REL-003", checks.Pass)

			// Without head in the image, the finding names head, once.
			spec = base(files[:1], files[2:])
			spec.Config.Healthcheck = &v1.HealthConfig{Test: test}
			r := expect(t, judge(t, spec, ""), "REL-003", checks.Fail, "head: not found")
			if len(r.Findings) != 1 {
				t.Errorf("want one finding, got %+v", r.Findings)
			}
		})
	}
}

// TestBashDevTCPCommand: issue 15's `CMD /bin/bash -c "exec 3<>/dev/tcp/...
// >&3 ... <&3 | grep ..."` as Docker stores it (the shell form wraps it in
// /bin/sh -c), and as `bash -ec` in exec form: REL-004 resolves bash, head
// and grep and nothing else, and names a missing program once.
func TestBashDevTCPCommand(t *testing.T) {
	script := `exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && head -n1 <&3 | grep -q ' 200 '`
	files := hostDebianFiles(t, "/usr/bin/bash", "/usr/bin/head", "/usr/bin/grep")
	for name, cmd := range map[string][]string{
		"Dockerfile shell form": {"/bin/sh", "-c", `/bin/bash -c "` + script + `"`},
		"exec form, bash -ec":   {"/bin/bash", "-ec", script},
	} {
		t.Run(name, func(t *testing.T) {
			spec := base(files)
			spec.Config.Entrypoint, spec.Config.Cmd = nil, cmd
			rep := judge(t, spec, "")
			expect(t, rep, "REL-004", checks.Pass)

			spec = base(files[:2])
			spec.Config.Entrypoint, spec.Config.Cmd = nil, cmd
			r := expect(t, judge(t, spec, ""), "REL-004", checks.Fail, "grep: not found")
			if len(r.Findings) != 1 {
				t.Errorf("want one finding, got %+v", r.Findings)
			}
			for _, f := range r.Findings {
				if strings.Contains(f.Title, "3:") || strings.Contains(f.Title, "printf") || strings.Contains(f.Title, "exec") {
					t.Errorf("a redirection or builtin reported as a program: %s", f.Title)
				}
			}
		})
	}
}
