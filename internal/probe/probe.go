// Package probe runs an image for real in a container engine and records
// what it observed: does it start and stay up, as which user, does it become
// healthy, where do its logs go, do its metrics answer, does it stop on
// SIGTERM, how does it behave under load against the image in production,
// and do upgrade and rollback work. The FIT checks judge the observations.
package probe

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/moby/client"
)

// Options say how to run the probe.
type Options struct {
	// Image is the candidate as the engine names it; Config is its config.
	Image  string
	Config *v1.ConfigFile
	// Baseline is the image in production (engine name), for FIT-007/FIT-008; empty skips them.
	Baseline       string
	BaselineConfig *v1.ConfigFile
	// Network is the container network mode (default "host"; servers are reached on 127.0.0.1).
	Network string
	// Port is the application's TCP port on 127.0.0.1; 0 takes the first exposed TCP port.
	Port int
	// HTTPPath is the health endpoint ("/healthz"); empty uses the image's HEALTHCHECK, else a TCP connect.
	HTTPPath string
	// MetricsPath is the Prometheus endpoint ("/metrics"); empty uses the prometheus.io/path label or skips FIT-005.
	MetricsPath string
	// SmokePath is requested to see logs and to check upgrades ("/" by default).
	SmokePath string
	// Window is how long the container must stay up (default 10s).
	Window time.Duration
	// StartPeriod bounds the wait for health (default 60s).
	StartPeriod time.Duration
	// Grace is the stop timeout after SIGTERM (default 10s).
	Grace time.Duration
	// LoadRate (requests/s) and LoadDuration set FIT-007's load; zero rate means 50/s when a baseline is given.
	LoadRate     int
	LoadDuration time.Duration
	// LoadPath is the path the load test requests (default SmokePath).
	LoadPath string
	// Tests is a container-structure-test YAML file for FIT-009.
	Tests string
	// Progress receives one line per step, when set.
	Progress func(string)
}

func (o *Options) defaults() {
	if o.Network == "" {
		o.Network = "host"
	}
	if o.Window == 0 {
		o.Window = 10 * time.Second
	}
	if o.StartPeriod == 0 {
		o.StartPeriod = 60 * time.Second
	}
	if o.Grace == 0 {
		o.Grace = 10 * time.Second
	}
	if o.SmokePath == "" {
		o.SmokePath = "/"
	}
	if o.LoadPath == "" {
		o.LoadPath = o.SmokePath
	}
	if o.LoadDuration == 0 {
		o.LoadDuration = 10 * time.Second
	}
	if o.LoadRate == 0 && o.Baseline != "" {
		o.LoadRate = 50
	}
	if o.Port == 0 && o.Config != nil {
		o.Port = firstTCPPort(o.Config.Config.ExposedPorts)
	}
	if o.MetricsPath == "" && o.Config != nil {
		if p := o.Config.Config.Labels["prometheus.io/path"]; p != "" {
			o.MetricsPath = p
		} else if o.Config.Config.Labels["prometheus.io/scrape"] == "true" {
			o.MetricsPath = "/metrics"
		}
	}
}

func firstTCPPort(ports map[string]struct{}) int {
	var ps []int
	for p := range ports {
		num, proto, _ := strings.Cut(p, "/")
		if proto != "" && proto != "tcp" {
			continue
		}
		if n, err := strconv.Atoi(num); err == nil {
			ps = append(ps, n)
		}
	}
	sort.Ints(ps)
	if len(ps) == 0 {
		return 0
	}
	return ps[0]
}

// Run starts the image (and the baseline) and records what happened.
// Everything it creates is removed before it returns, even on error or
// cancellation.
func Run(ctx context.Context, o Options) (*Observations, error) {
	o.defaults()
	e, err := newEngine(ctx, o.Network)
	if err != nil {
		return nil, err
	}
	defer e.close()
	p := &prober{e: e, o: o, obs: &Observations{Image: o.Image, Port: o.Port, Network: o.Network}}
	return p.run(ctx)
}

type prober struct {
	e   *engine
	o   Options
	obs *Observations
}

func (p *prober) step(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	slog.Debug("probe", "step", msg)
	if p.o.Progress != nil {
		p.o.Progress(msg)
	}
}

func (p *prober) run(ctx context.Context) (*Observations, error) {
	o, obs := p.o, p.obs
	if o.Port > 0 && portBusy(o.Port) {
		obs.PortBusy = true
	}
	p.step("starting %s", o.Image)
	id, err := p.e.start(ctx, spec{Image: o.Image})
	obs.Start = p.observeStart(ctx, id, err, true)
	if obs.Start.Running {
		p.step("reading processes")
		obs.Processes = p.processes(ctx, id)
		p.step("checking logs")
		obs.Logs = p.observeLogs(ctx, id)
		if o.MetricsPath != "" && o.Port > 0 {
			p.step("reading metrics")
			m := scrapeMetrics(ctx, p.url(o.MetricsPath))
			obs.Metrics = &m
		}
		p.step("stopping with %s", stopSignal(o.Config))
		st := p.stop(ctx, id, stopSignal(o.Config))
		obs.Stop = &st
	}
	p.e.remove(ctx, id)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	p.step("starting %s as 65534:65534 with a read-only root filesystem", o.Image)
	nid, err := p.e.start(ctx, spec{Image: o.Image, User: "65534:65534", ReadOnly: true, Tmpfs: true})
	nr := p.observeStart(ctx, nid, err, true)
	obs.NonRoot = &NonRootRun{Start: nr, Flags: []string{"--user", "65534:65534", "--read-only", "--tmpfs", "/tmp"}}
	if nr.Running {
		nr.Processes = p.processes(ctx, nid)
		obs.NonRoot.Start = nr
	}
	p.e.remove(ctx, nid)

	if o.LoadRate > 0 && o.Port > 0 {
		obs.Load = &LoadComparison{Rate: o.LoadRate, Duration: o.LoadDuration, Path: o.LoadPath}
		p.step("load test on %s: %d req/s for %s", o.Image, o.LoadRate, o.LoadDuration)
		obs.Load.Candidate = p.loadRun(ctx, o.Image)
		if o.Baseline != "" {
			p.step("load test on the baseline %s", o.Baseline)
			b := p.loadRun(ctx, o.Baseline)
			obs.Load.Baseline = &b
		}
	}
	if o.Baseline != "" {
		p.step("upgrade %s -> %s and rollback", o.Baseline, o.Image)
		obs.Upgrade = p.upgrade(ctx)
	}
	if o.Tests != "" {
		p.step("running %s", o.Tests)
		res, err := p.structureTests(ctx, o.Tests)
		if err != nil {
			return nil, err
		}
		obs.Tests = res
	}
	return obs, ctx.Err()
}

func (p *prober) url(pth string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", p.o.Port, pth)
}

func portBusy(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 300*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func stopSignal(cf *v1.ConfigFile) string {
	if cf != nil && cf.Config.StopSignal != "" {
		return cf.Config.StopSignal
	}
	return "SIGTERM"
}

// healthMethod says how health is judged: the engine's HEALTHCHECK, an HTTP
// GET, a TCP connect, or nothing.
func (p *prober) healthMethod(image string) string {
	cf := p.o.Config
	if image == p.o.Baseline {
		cf = p.o.BaselineConfig
	}
	switch {
	case p.o.HTTPPath != "" && p.o.Port > 0:
		return "http"
	case cf != nil && cf.Config.Healthcheck != nil && len(cf.Config.Healthcheck.Test) > 0 && cf.Config.Healthcheck.Test[0] != "NONE":
		return "engine"
	case p.o.Port > 0:
		return "tcp"
	}
	return "none"
}

// observeStart waits for health (within the start period) and then watches
// the container for the observation window.
func (p *prober) observeStart(ctx context.Context, id string, startErr error, watch bool) StartObs {
	s := StartObs{Window: p.o.Window}
	if startErr != nil {
		s.Error = startErr.Error()
		if id != "" {
			s.LastLogs = p.lastLogs(ctx, id)
		}
		return s
	}
	s.Started = true
	image := p.o.Image
	if insp, err := p.e.inspect(ctx, id); err == nil && insp.Config != nil {
		image = insp.Config.Image
	}
	s.Health = p.waitHealthy(ctx, id, p.healthMethod(image))
	deadline := time.Now().Add(p.o.Window)
	for watch {
		insp, err := p.e.inspect(ctx, id)
		if err != nil {
			s.Error = err.Error()
			return s
		}
		if insp.State != nil && !insp.State.Running {
			s.Exited = true
			s.ExitCode = insp.State.ExitCode
			s.OOMKilled = insp.State.OOMKilled
			s.Error = insp.State.Error
			s.LastLogs = p.lastLogs(ctx, id)
			return s
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		sleep(ctx, 500*time.Millisecond)
	}
	s.Running = true
	return s
}

func (p *prober) lastLogs(ctx context.Context, id string) []string {
	o, e, err := p.e.logs(ctx, id, "20")
	if err != nil {
		return nil
	}
	return lastN(append(o, e...), 20)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// processes lists the container's processes with their real UIDs.
func (p *prober) processes(ctx context.Context, id string) []Process {
	top, err := p.e.cli.ContainerTop(ctx, id, client.ContainerTopOptions{Arguments: []string{"-o", "pid,uid,gid,user,args"}})
	if err != nil {
		return nil
	}
	col := map[string]int{}
	for i, t := range top.Titles {
		col[strings.ToUpper(t)] = i
	}
	var out []Process
	for _, row := range top.Processes {
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(row) {
				return row[i]
			}
			return ""
		}
		uid, _ := strconv.Atoi(get("UID"))
		gid, _ := strconv.Atoi(get("GID"))
		pid, _ := strconv.Atoi(get("PID"))
		cmd := get("COMMAND")
		if cmd == "" {
			cmd = get("ARGS")
		}
		out = append(out, Process{PID: pid, UID: uid, GID: gid, User: get("USER"), Command: cmd})
	}
	return out
}

// stop sends the stop signal and measures how long the container takes to exit.
func (p *prober) stop(ctx context.Context, id, signal string) StopObs {
	secs := int(p.o.Grace / time.Second)
	start := time.Now()
	s := StopObs{Signal: signal, Grace: p.o.Grace}
	if _, err := p.e.cli.ContainerStop(ctx, id, client.ContainerStopOptions{Signal: signal, Timeout: &secs}); err != nil {
		s.Error = err.Error()
	}
	s.Duration = time.Since(start)
	if insp, err := p.e.inspect(ctx, id); err == nil && insp.State != nil {
		s.ExitCode = insp.State.ExitCode
		s.Killed = s.ExitCode == 137 && s.Duration >= p.o.Grace-500*time.Millisecond
	}
	return s
}

// logFile reports whether p is a file a server logs to inside the container.
func logFile(p string) bool {
	return strings.HasPrefix(p, "/var/log/") || strings.HasSuffix(p, ".log") || path.Base(path.Dir(p)) == "logs"
}
