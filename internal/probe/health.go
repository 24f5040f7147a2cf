package probe

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var httpClient = &http.Client{Timeout: 3 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// waitHealthy waits up to the start period for the container to be healthy,
// giving up early when it exits.
func (p *prober) waitHealthy(ctx context.Context, id, method string) HealthObs {
	h := HealthObs{Method: method}
	if method == "none" {
		return h
	}
	start := time.Now()
	deadline := start.Add(p.o.StartPeriod)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		insp, err := p.e.inspect(ctx, id)
		if err != nil {
			h.Status = err.Error()
			return h
		}
		if insp.State == nil || !insp.State.Running {
			h.Status = "the container exited"
			return h
		}
		switch method {
		case "engine":
			if hs := insp.State.Health; hs != nil {
				h.Status = string(hs.Status)
				h.Log = nil
				seen := map[string]bool{}
				for _, l := range hs.Log {
					line := fmt.Sprintf("exit %d: %s", l.ExitCode, strings.TrimSpace(l.Output))
					if !seen[line] {
						seen[line] = true
						h.Log = append(h.Log, line)
					}
				}
				h.Log = lastN(h.Log, 5)
				if hs.Status == "healthy" {
					h.Healthy, h.After = true, time.Since(start)
					return h
				}
			}
		case "http":
			code, err := get(ctx, p.url(p.o.HTTPPath))
			if err == nil && code < 400 {
				h.Healthy, h.After, h.Status = true, time.Since(start), fmt.Sprintf("HTTP %d", code)
				return h
			}
			h.Status = fmt.Sprintf("HTTP %d %v", code, errString(err))
		case "tcp":
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p.o.Port), time.Second)
			if err == nil {
				c.Close()
				h.Healthy, h.After, h.Status = true, time.Since(start), "TCP connect ok"
				return h
			}
			h.Status = err.Error()
		}
		sleep(ctx, 500*time.Millisecond)
	}
	if h.Status == "" {
		h.Status = "not healthy within " + p.o.StartPeriod.String()
	}
	return h
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func get(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// maxMetrics bounds a metrics page.
const maxMetrics = 16 << 20

// scrapeMetrics fetches a Prometheus text endpoint and parses it with the
// Prometheus library.
func scrapeMetrics(ctx context.Context, url string) MetricsObs {
	m := MetricsObs{URL: url}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		m.Error = err.Error()
		return m
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := httpClient.Do(req)
	if err != nil {
		m.Error = err.Error()
		return m
	}
	defer resp.Body.Close()
	m.Status = resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		m.Error = "HTTP " + resp.Status
		return m
	}
	families, samples, err := ParseMetrics(io.LimitReader(resp.Body, maxMetrics))
	m.Families, m.Samples = families, samples
	if err != nil {
		m.Error = err.Error()
	}
	return m
}

// ParseMetrics parses Prometheus text exposition format and counts metric
// families and samples.
func ParseMetrics(r io.Reader) (families, samples int, err error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return 0, 0, fmt.Errorf("not valid Prometheus text format: %w", err)
	}
	for _, f := range mf {
		samples += len(f.GetMetric())
	}
	if len(mf) == 0 {
		return 0, 0, fmt.Errorf("no metrics in the response")
	}
	return len(mf), samples, nil
}
