package probe

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// Label marks every container and volume the probe creates, so that a later
// run can remove what an interrupted one left behind.
const Label = "dev.shipshape.probe"

// EngineError says no container engine could be reached.
type EngineError struct {
	Host string
	Err  error
}

func (e *EngineError) Error() string {
	return fmt.Sprintf("no container engine answers at %s: %v (start dockerd, or point DOCKER_HOST at a Docker or podman socket)", e.Host, e.Err)
}

func (e *EngineError) Unwrap() error { return e.Err }

// engine wraps the Docker Engine API client with the probe's conventions.
type engine struct {
	cli     *client.Client
	run     string
	network string
	created []string
	volumes []string
}

func newEngine(ctx context.Context, network string) (*engine, error) {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, &EngineError{Host: "DOCKER_HOST", Err: err}
	}
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		host := cli.DaemonHost()
		cli.Close()
		return nil, &EngineError{Host: host, Err: err}
	}
	b := make([]byte, 4)
	rand.Read(b)
	e := &engine{cli: cli, run: hex.EncodeToString(b), network: network}
	e.sweep(ctx)
	return e, nil
}

// sweep removes containers and volumes left by earlier probe runs that are
// no longer alive: the run's process is gone (same host), or, for another
// host, the container is over a day old. Runs going on in parallel keep theirs.
func (e *engine) sweep(ctx context.Context) {
	f := make(client.Filters).Add("label", Label)
	if list, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f}); err == nil {
		for _, c := range list.Items {
			if orphaned(c.Labels, time.Unix(c.Created, 0)) {
				e.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
			}
		}
	}
	if vols, err := e.cli.VolumeList(ctx, client.VolumeListOptions{Filters: f}); err == nil {
		for _, v := range vols.Items {
			created, _ := time.Parse(time.RFC3339, v.CreatedAt)
			if orphaned(v.Labels, created) {
				e.cli.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true})
			}
		}
	}
}

// labels marks what this run creates: the run id, and the process that owns it.
func (e *engine) labels() map[string]string {
	host, _ := os.Hostname()
	return map[string]string{Label: e.run, Label + ".pid": strconv.Itoa(os.Getpid()), Label + ".host": host}
}

func orphaned(labels map[string]string, created time.Time) bool {
	host, _ := os.Hostname()
	if labels[Label+".host"] != host || labels[Label+".pid"] == "" {
		return !created.IsZero() && time.Since(created) > 24*time.Hour
	}
	pid, err := strconv.Atoi(labels[Label+".pid"])
	if err != nil {
		return true
	}
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

// close removes everything this run created, even when ctx is done.
func (e *engine) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, id := range e.created {
		e.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	}
	for _, v := range e.volumes {
		e.cli.VolumeRemove(ctx, v, client.VolumeRemoveOptions{Force: true})
	}
	e.cli.Close()
}

// spec describes one container to start.
type spec struct {
	Image      string
	User       string
	ReadOnly   bool
	Tmpfs      bool
	Volume     string // a named volume mounted at VolumeAt
	VolumeAt   string
	Entrypoint []string
	Cmd        []string
	Env        []string
}

func (e *engine) create(ctx context.Context, s spec) (string, error) {
	cfg := &container.Config{Image: s.Image, User: s.User, Labels: e.labels(), Env: s.Env}
	if s.Entrypoint != nil {
		cfg.Entrypoint = s.Entrypoint
	}
	if s.Cmd != nil {
		cfg.Cmd = s.Cmd
	}
	hc := &container.HostConfig{NetworkMode: container.NetworkMode(e.network), ReadonlyRootfs: s.ReadOnly}
	if s.Tmpfs {
		hc.Tmpfs = map[string]string{"/tmp": "rw,size=64m"}
	}
	if s.Volume != "" {
		hc.Binds = []string{s.Volume + ":" + s.VolumeAt}
	}
	res, err := e.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Config: cfg, HostConfig: hc, Name: "shipshape-probe-" + e.run + "-" + fmt.Sprint(len(e.created))})
	if err != nil {
		return "", fmt.Errorf("creating a container of %s: %w", s.Image, err)
	}
	e.created = append(e.created, res.ID)
	return res.ID, nil
}

func (e *engine) start(ctx context.Context, s spec) (string, error) {
	id, err := e.create(ctx, s)
	if err != nil {
		return "", err
	}
	if _, err := e.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return id, fmt.Errorf("starting the container: %w", err)
	}
	return id, nil
}

func (e *engine) volume(ctx context.Context) (string, error) {
	name := "shipshape-probe-" + e.run + "-data"
	if _, err := e.cli.VolumeCreate(ctx, client.VolumeCreateOptions{Name: name, Labels: e.labels()}); err != nil {
		return "", err
	}
	e.volumes = append(e.volumes, name)
	return name, nil
}

func (e *engine) inspect(ctx context.Context, id string) (container.InspectResponse, error) {
	r, err := e.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	return r.Container, err
}

func (e *engine) remove(ctx context.Context, id string) {
	e.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true})
}

// logs returns the container's stdout and stderr lines (the last tail lines; "all" for every line).
func (e *engine) logs(ctx context.Context, id, tail string) (stdout, stderr []string, err error) {
	rc, err := e.cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: tail})
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	var o, x bytes.Buffer
	if _, err := stdcopy.StdCopy(&limitWriter{w: &o, n: 4 << 20}, &limitWriter{w: &x, n: 4 << 20}, rc); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	return lines(o.Bytes()), lines(x.Bytes()), nil
}

func lines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if l := strings.TrimRight(sc.Text(), "\r"); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// limitWriter keeps at most n bytes and drops the rest (a flooding container must not exhaust memory).
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	q := p
	if len(q) > l.n {
		q = q[:l.n]
	}
	l.n -= len(q)
	l.w.Write(q)
	return len(p), nil
}

func lastN(s []string, n int) []string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
