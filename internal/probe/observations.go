package probe

import "time"

// Observations are what the probe saw; the FIT checks judge them.
type Observations struct {
	Image   string `json:"image"`
	Network string `json:"network"`
	Port    int    `json:"port,omitempty"`
	// PortBusy: something already listened on the port before the container started.
	PortBusy  bool            `json:"port_busy,omitempty"`
	Start     StartObs        `json:"start"`
	Processes []Process       `json:"processes,omitempty"`
	NonRoot   *NonRootRun     `json:"non_root,omitempty"`
	Logs      *LogObs         `json:"logs,omitempty"`
	Metrics   *MetricsObs     `json:"metrics,omitempty"`
	Stop      *StopObs        `json:"stop,omitempty"`
	Load      *LoadComparison `json:"load,omitempty"`
	Upgrade   *UpgradeObs     `json:"upgrade,omitempty"`
	Tests     []TestResult    `json:"tests,omitempty"`
}

// StartObs is one start of a container.
type StartObs struct {
	Started   bool          `json:"started"`
	Running   bool          `json:"running"`
	Exited    bool          `json:"exited"`
	ExitCode  int           `json:"exit_code"`
	OOMKilled bool          `json:"oom_killed,omitempty"`
	Error     string        `json:"error,omitempty"`
	Window    time.Duration `json:"window_ns"`
	LastLogs  []string      `json:"last_logs,omitempty"`
	Health    HealthObs     `json:"health"`
	Processes []Process     `json:"processes,omitempty"`
}

// HealthObs is how and whether the container became healthy.
type HealthObs struct {
	// Method is "engine", "http", "tcp" or "none".
	Method  string        `json:"method"`
	Healthy bool          `json:"healthy"`
	After   time.Duration `json:"after_ns,omitempty"`
	// Status is the last engine health status or HTTP/TCP result.
	Status string   `json:"status,omitempty"`
	Log    []string `json:"log,omitempty"`
}

// Process is one process of the container, as the engine lists it.
type Process struct {
	PID     int    `json:"pid"`
	UID     int    `json:"uid"`
	GID     int    `json:"gid"`
	User    string `json:"user"`
	Command string `json:"command"`
}

// NonRootRun is the run forced to an unprivileged user with a read-only root filesystem.
type NonRootRun struct {
	Start StartObs `json:"start"`
	// Flags are the `docker run` flags that were used.
	Flags []string `json:"flags"`
}

// NonRootWorks reports whether the forced non-root run started, stayed up and
// became healthy; when the normal run itself never became healthy, health
// cannot tell the two runs apart and staying up is enough.
func (o *Observations) NonRootWorks() bool {
	n := o.NonRoot
	if n == nil || !n.Start.Running {
		return false
	}
	return n.Start.Health.Method == "none" || n.Start.Health.Healthy || !o.Start.Health.Healthy
}

// LogObs is where the container's logs went.
type LogObs struct {
	StartupLines int `json:"startup_lines"`
	// RequestLines are the lines that arrived after a request (-1 when no request could be made).
	RequestLines int `json:"request_lines"`
	// Files are log files written inside the container's writable layer, with sizes seen.
	Files []LogFile `json:"files,omitempty"`
}

// LogFile is a file written in the container's writable layer that looks like a log.
type LogFile struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	Growing bool   `json:"growing"`
}

// MetricsObs is the scrape of the metrics endpoint.
type MetricsObs struct {
	URL      string `json:"url"`
	Status   int    `json:"status"`
	Families int    `json:"families"`
	Samples  int    `json:"samples"`
	Error    string `json:"error,omitempty"`
}

// StopObs is the graceful stop.
type StopObs struct {
	Signal   string        `json:"signal"`
	Grace    time.Duration `json:"grace_ns"`
	Duration time.Duration `json:"duration_ns"`
	ExitCode int           `json:"exit_code"`
	Killed   bool          `json:"killed"`
	Error    string        `json:"error,omitempty"`
}

// LoadStats is one load run.
type LoadStats struct {
	Image      string        `json:"image"`
	Requests   uint64        `json:"requests"`
	Rate       float64       `json:"throughput"`
	P50        time.Duration `json:"p50_ns"`
	P95        time.Duration `json:"p95_ns"`
	P99        time.Duration `json:"p99_ns"`
	ErrorRate  float64       `json:"error_rate"`
	CPUPercent float64       `json:"cpu_percent"`
	MemoryMB   float64       `json:"memory_mb"`
	Error      string        `json:"error,omitempty"`
}

// LoadComparison is the candidate's load run and the baseline's.
type LoadComparison struct {
	Rate      int           `json:"rate"`
	Duration  time.Duration `json:"duration_ns"`
	Path      string        `json:"path"`
	Candidate LoadStats     `json:"candidate"`
	Baseline  *LoadStats    `json:"baseline,omitempty"`
}

// UpgradeObs is baseline -> candidate -> baseline on the same port and volume.
type UpgradeObs struct {
	Volume string        `json:"volume_at"`
	Steps  []UpgradeStep `json:"steps"`
}

// UpgradeStep is one step of the upgrade and rollback.
type UpgradeStep struct {
	Name     string        `json:"name"`
	Image    string        `json:"image"`
	OK       bool          `json:"ok"`
	Duration time.Duration `json:"duration_ns"`
	Detail   string        `json:"detail,omitempty"`
}

// TestResult is one container-structure-test test.
type TestResult struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail,omitempty"`
}
