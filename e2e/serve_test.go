package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipshape-dev/shipshape/internal/imagetest"
)

// serveProc is one running `shipshape serve` process.
type serveProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string // http://host:port; empty for a worker
	log  string // its stderr
	done chan struct{}
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// startServe starts `shipshape serve ARGS --listen ADDR` with env and, unless
// it is a worker, waits until /readyz answers 200. The process is killed
// when the test ends.
func startServe(t *testing.T, env []string, addr string, args ...string) *serveProc {
	t.Helper()
	logf, err := os.CreateTemp(t.TempDir(), "serve-*.log")
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{"serve", "--listen", addr}, args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{t: t, cmd: cmd, log: logf.Name(), done: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() { p.kill9() })
	worker := false
	for i, a := range args {
		worker = worker || (a == "--role" && i+1 < len(args) && args[i+1] == "worker")
	}
	if worker {
		return p
	}
	p.url = "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("serve %q exited before it was ready:\n%s", args, p.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve %q not ready in 60 s:\n%s", args, p.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *serveProc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// kill9 kills the process with SIGKILL and waits for it.
func (p *serveProc) kill9() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// apiCall sends one request to the API; err is a transport error (the
// server died), a status >= 500 fails the test.
func apiCall(t *testing.T, base, token, method, path string, body any, out any) (int, []byte, error) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		js, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, data, err
	}
	if resp.StatusCode >= 500 {
		t.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return resp.StatusCode, data, nil
}

// mustAPI is apiCall that wants the status want.
func mustAPI(t *testing.T, base, token, method, path string, body any, want int, out any) {
	t.Helper()
	code, data, err := apiCall(t, base, token, method, path, body, out)
	if err != nil || code != want {
		t.Fatalf("%s %s: %d %s %v, want %d", method, path, code, data, err, want)
	}
}

// createToken runs `serve token create` on dsn ("" for the default) and
// returns the token.
func createToken(t *testing.T, env []string, dsn, name, role string) string {
	t.Helper()
	args := []string{"serve", "token", "create", "--name", name, "--role", role}
	if dsn != "" {
		args = append(args, "--db", dsn)
	}
	r := runWith(t, env, args...)
	tok := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(tok, "ssp_") {
		t.Fatalf("token create: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return tok
}

// serveSpec is a small passing Debian image, made distinct by tag.
func serveSpec(tag string, extra ...imagetest.File) imagetest.Spec {
	return imagetest.Spec{Layers: [][]imagetest.File{imagetest.Debian(), append([]imagetest.File{imagetest.Text("/app/README", "app "+tag)}, extra...)},
		Config: v1.Config{Entrypoint: []string{"/usr/bin/dash"}, User: "app",
			Labels: map[string]string{"org.opencontainers.image.source": "https://github.com/example/app", "org.opencontainers.image.version": "1.0"}}}
}

type jobJSON struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	Queue       string          `json:"queue"`
	State       string          `json:"state"`
	Attempt     int             `json:"attempt"`
	Errors      []string        `json:"errors"`
	Args        json.RawMessage `json:"args"`
	Output      json.RawMessage `json:"output"`
	CreatedAt   time.Time       `json:"created_at"`
	FinalizedAt time.Time       `json:"finalized_at"`
}

type submitAnswer struct {
	Job        *jobJSON `json:"job"`
	Evaluation *struct {
		Digest       string `json:"digest"`
		EvaluationID int64  `json:"evaluation_id"`
		Pass         bool   `json:"pass"`
		State        string `json:"state"`
	} `json:"evaluation"`
}

type imageDetail struct {
	Image struct {
		Digest  string `json:"digest"`
		State   string `json:"state"`
		Verdict string `json:"verdict"`
	} `json:"image"`
	Approval *struct {
		State string `json:"state"`
	} `json:"approval"`
	Evaluations []struct {
		ID      int64  `json:"id"`
		Verdict string `json:"verdict"`
	} `json:"evaluations"`
}

// allJobs lists every job (the API pages by 1000, newest first).
func allJobs(t *testing.T, base, token string, states string) []jobJSON {
	t.Helper()
	var r struct {
		Jobs []jobJSON `json:"jobs"`
	}
	path := "/api/v1/jobs?limit=1000"
	if states != "" {
		path += "&state=" + states
	}
	mustAPI(t, base, token, "GET", path, nil, 200, &r)
	return r.Jobs
}

// waitJobsSettled waits until no job is left to run, and fails if a job
// stays running longer than lease (it would be stuck).
func waitJobsSettled(t *testing.T, base, token string, lease, timeout time.Duration) []jobJSON {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		open := allJobs(t, base, token, "available,running,retryable,scheduled,pending")
		if len(open) == 0 {
			return allJobs(t, base, token, "")
		}
		if time.Now().After(deadline) {
			var s []string
			for _, j := range open {
				s = append(s, fmt.Sprintf("%d %s %s attempt %d errors %q", j.ID, j.Kind, j.State, j.Attempt, j.Errors))
			}
			t.Fatalf("jobs not settled after %s:\n%s", timeout, strings.Join(s, "\n"))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// processEnv is the test environment with overrides (KEY=VALUE; KEY= alone
// removes KEY).
func processEnv(overrides ...string) []string {
	drop := map[string]bool{}
	for _, o := range overrides {
		k, _, _ := strings.Cut(o, "=")
		drop[k] = true
	}
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		if !drop[k] {
			env = append(env, e)
		}
	}
	for _, o := range overrides {
		if !strings.HasSuffix(o, "=") {
			env = append(env, o)
		}
	}
	return env
}
