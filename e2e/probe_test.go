package e2e

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// requireEngine skips (or, in CI, fails) when no Docker engine answers.
func requireEngine(t *testing.T) {
	t.Helper()
	if !dockerAvailable() {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must start dockerd")
		}
		t.Skip("no Docker engine")
	}
}

// noProbeLeftovers fails when a finished probe run (its process gone) left a
// container or volume; runs of other processes going on meanwhile are ignored.
func noProbeLeftovers(t *testing.T) {
	t.Helper()
	for _, kind := range [][]string{
		{"ps", "-a", "--filter", "label=dev.shipshape.probe", "--format", `{{.ID}} {{.Label "dev.shipshape.probe.pid"}}`},
		{"volume", "ls", "--filter", "label=dev.shipshape.probe", "--format", `{{.Name}} {{.Label "dev.shipshape.probe.pid"}}`},
	} {
		out, err := exec.Command("docker", kind...).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			pid, _ := strconv.Atoi(append(f, "0")[1])
			if pid == 0 || syscall.Kill(pid, 0) == syscall.ESRCH {
				t.Errorf("a finished probe left %s %s behind", kind[0], f[0])
			}
		}
	}
}

var fastProbe = []string{"--window", "3s", "--start-period", "20s", "--grace", "3s"}

func probeJSON(t *testing.T, code int, args ...string) jsonReport {
	t.Helper()
	rep := checkJSONCmd(t, "probe", code, append(append([]string{}, fastProbe...), args...)...)
	noProbeLeftovers(t)
	return rep
}

func TestProbeGoodService(t *testing.T) {
	requireEngine(t)
	tests := writeTemp(t, "cst.yaml", `schemaVersion: 2.0.0
commandTests:
  - name: version flag answers
    command: /usr/local/bin/webapp
    args: ["-h"]
    exitCode: 0
    expectedError: ["healthcheck"]
fileExistenceTests:
  - name: the binary
    path: /usr/local/bin/webapp
    shouldExist: true
    permissions: "-rwxr-xr-x"
    uid: 0
  - name: no curl
    path: /usr/bin/curl
    shouldExist: false
fileContentTests:
  - name: the app user
    path: /etc/passwd
    expectedContents: ["(?m)^app:x:10001:"]
metadataTest:
  envVars:
    - key: LISTEN_ADDR
      value: 127.0.0.1:8080
  exposedPorts: ["8080"]
  user: app
`)
	rep := probeJSON(t, 0, "--metrics-path", "/metrics", "--tests", tests, fixture(t, "webapp"))
	for _, id := range []string{"FIT-001", "FIT-002", "FIT-003", "FIT-004", "FIT-005", "FIT-006", "FIT-009"} {
		rep.mustHave(t, id, "pass")
	}
	rep.mustHave(t, "FIT-002", "pass", "uid 10001")
	rep.mustHave(t, "FIT-009", "pass", "5 structure tests passed")
	rep.mustHave(t, "FIT-007", "skipped")
	for _, r := range rep.Results {
		if !strings.HasPrefix(r.Check.ID, "FIT-") {
			t.Errorf("probe reports only FIT checks, got %s", r.Check.ID)
		}
	}
}

func TestProbeFailures(t *testing.T) {
	requireEngine(t)
	crash := probeJSON(t, 1, fixture(t, "probe-crash"))
	crash.mustHave(t, "FIT-001", "fail", "exited", "exit code 3")
	sig := probeJSON(t, 0, fixture(t, "probe-sigterm"))
	fs := sig.mustHave(t, "FIT-006", "fail", "ignored SIGTERM")
	if fs[0].Severity != "medium" {
		t.Errorf("FIT-006 severity %s", fs[0].Severity)
	}
	nh := probeJSON(t, 1, fixture(t, "probe-nohealth"))
	nh.mustHave(t, "FIT-003", "fail", "not healthy")
	nh.mustHave(t, "FIT-002", "pass")
	lf := probeJSON(t, 0, fixture(t, "probe-logfile"))
	lf.mustHave(t, "FIT-004", "fail", "/var/log/webapp/access.log grows")
	bh := probeJSON(t, 1, fixture(t, "brokenhealth"))
	bh.mustHave(t, "FIT-001", "fail", "did not start")
}

// The root veto is downgraded only when the forced non-root run really works.
func TestCheckWithProbeDowngradesRootVeto(t *testing.T) {
	requireEngine(t)
	static := checkJSON(t, 1, fixture(t, "nginx"))
	if fs := static.mustHave(t, "SEC-001", "fail"); !fs[0].Veto {
		t.Fatal("without the probe, root is a veto")
	}
	rep := checkJSON(t, 0, append(append([]string{"--probe"}, fastProbe...), fixture(t, "nginx"))...)
	fs := rep.mustHave(t, "SEC-001", "fail", "root can be dropped")
	if fs[0].Veto || fs[0].Severity != "high" || !strings.Contains(fs[0].Remediation, "--user 65534:65534 --read-only --tmpfs /tmp") {
		t.Errorf("SEC-001 with a working non-root run: %+v", fs[0])
	}
	rep.mustHave(t, "FIT-002", "pass", "works as 65534:65534")
	rep.mustHave(t, "FIT-003", "pass", "tcp")
	noProbeLeftovers(t)
	// rootlatest's shell PID 1 cannot be stopped with SIGTERM and has no port: still a veto.
	rl := checkJSON(t, 1, append(append([]string{"--probe"}, fastProbe...), fixture(t, "rootlatest"))...)
	rl.mustHave(t, "FIT-006", "fail", "killed")
}

func TestProbeBaselineLoadAndUpgrade(t *testing.T) {
	requireEngine(t)
	rep := probeJSON(t, 1, "--baseline", fixture(t, "webapp"), "--load-rate", "40", "--load-duration", "4s", fixture(t, "probe-slow"))
	rep.mustHave(t, "FIT-007", "fail", "p99 latency")
	rep.mustHave(t, "FIT-008", "pass", "stayed healthy")
	// The other way round the candidate is faster: no regression.
	back := probeJSON(t, 0, "--baseline", fixture(t, "probe-slow"), "--load-rate", "40", "--load-duration", "4s", fixture(t, "webapp"))
	back.mustHave(t, "FIT-007", "pass")
}

func TestProbeWithoutEngine(t *testing.T) {
	r := shipshapeEnv(t, []string{"DOCKER_HOST=unix:///nonexistent/docker.sock"}, "probe", fixture(t, "webapp"))
	if r.code != 2 || !strings.Contains(r.stderr, "/nonexistent/docker.sock") || !strings.Contains(r.stderr, "dockerd") {
		t.Errorf("no engine: code %d stderr %s", r.code, r.stderr)
	}
	bad := writeTemp(t, "cst.yaml", "schemaVersion: 2.0.0\ncommandTests:\n  - name: x\n    command: /bin/true\n    expectedOutput: ['(']\n")
	r = shipshape(t, "probe", "--tests", bad, fixture(t, "webapp"))
	if r.code != 2 || !strings.Contains(r.stderr, "cst.yaml") {
		t.Errorf("bad structure test: %d %s", r.code, r.stderr)
	}
}
