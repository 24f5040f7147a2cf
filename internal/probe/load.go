package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// loadRun starts image, waits for it to be healthy, sends a fixed-rate HTTP
// load at 127.0.0.1 and records latency, errors, CPU and memory.
func (p *prober) loadRun(ctx context.Context, image string) LoadStats {
	s := LoadStats{Image: image}
	id, err := p.e.start(ctx, spec{Image: image})
	if err != nil {
		s.Error = err.Error()
		return s
	}
	defer p.e.remove(ctx, id)
	h := p.waitHealthy(ctx, id, p.healthMethod(image))
	if h.Method != "none" && !h.Healthy {
		s.Error = "not healthy before the load test: " + h.Status
		return s
	}
	target := vegeta.Target{Method: http.MethodGet, URL: p.url(p.o.LoadPath)}
	attacker := vegeta.NewAttacker(vegeta.Timeout(5*time.Second), vegeta.KeepAlive(true), vegeta.Workers(8), vegeta.MaxWorkers(64))
	rate := vegeta.Rate{Freq: p.o.LoadRate, Per: time.Second}
	var m vegeta.Metrics
	statsDone := make(chan [2]float64, 1)
	sctx, stop := context.WithCancel(ctx)
	go func() { statsDone <- p.sampleStats(sctx, id) }()
	for res := range attacker.Attack(vegeta.NewStaticTargeter(target), rate, p.o.LoadDuration, "shipshape") {
		if ctx.Err() != nil {
			attacker.Stop()
			break
		}
		m.Add(res)
	}
	m.Close()
	stop()
	st := <-statsDone
	s.Requests = m.Requests
	s.Rate = m.Throughput
	s.P50, s.P95, s.P99 = m.Latencies.P50, m.Latencies.P95, m.Latencies.P99
	s.ErrorRate = 1 - m.Success
	s.CPUPercent, s.MemoryMB = st[0], st[1]
	return s
}

// sampleStats reads the engine's stats stream until ctx ends and returns the
// mean CPU percent and the peak memory in MB.
func (p *prober) sampleStats(ctx context.Context, id string) [2]float64 {
	res, err := p.e.cli.ContainerStats(ctx, id, client.ContainerStatsOptions{Stream: true})
	if err != nil {
		return [2]float64{}
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	var cpuSum float64
	var n int
	var peak uint64
	for ctx.Err() == nil {
		var s container.StatsResponse
		if err := dec.Decode(&s); err != nil {
			break
		}
		cpuDelta := float64(s.CPUStats.CPUUsage.TotalUsage) - float64(s.PreCPUStats.CPUUsage.TotalUsage)
		sysDelta := float64(s.CPUStats.SystemUsage) - float64(s.PreCPUStats.SystemUsage)
		if sysDelta > 0 && cpuDelta >= 0 {
			cpus := float64(s.CPUStats.OnlineCPUs)
			if cpus == 0 {
				cpus = float64(len(s.CPUStats.CPUUsage.PercpuUsage))
			}
			cpuSum += cpuDelta / sysDelta * cpus * 100
			n++
		}
		used := s.MemoryStats.Usage
		if cache, ok := s.MemoryStats.Stats["inactive_file"]; ok && cache < used {
			used -= cache
		}
		peak = max(peak, used)
	}
	mean := 0.0
	if n > 0 {
		mean = cpuSum / float64(n)
	}
	return [2]float64{mean, float64(peak) / (1 << 20)}
}

// String summarises a load run.
func (s LoadStats) String() string {
	if s.Error != "" {
		return s.Error
	}
	return fmt.Sprintf("%d requests, %.1f/s, p50 %s, p95 %s, p99 %s, errors %.2f%%, CPU %.1f%%, memory %.1f MB",
		s.Requests, s.Rate, s.P50.Round(time.Microsecond), s.P95.Round(time.Microsecond), s.P99.Round(time.Microsecond), s.ErrorRate*100, s.CPUPercent, s.MemoryMB)
}
