package server

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shipshape-dev/shipshape/internal/fleet"
)

// metrics are the Prometheus metrics of one serve process. Counts that live
// in the store (images by state, evaluations, findings, queue depth, data
// age) are read when scraped, so every process reports the same truth.
type metrics struct {
	reg              *prometheus.Registry
	handler          http.Handler
	allowed          *prometheus.CounterVec
	allowedLatency   prometheus.Histogram
	admission        *prometheus.CounterVec
	admissionLatency *prometheus.HistogramVec
	droppedEvents    prometheus.Counter
	submissions      *prometheus.CounterVec
}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.allowed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shipshape_allowed_decisions_total",
		Help: "GET /api/v1/allowed answers, by decision and approval state."}, []string{"allowed", "state"})
	m.allowedLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "shipshape_allowed_duration_seconds",
		Help: "Time to answer GET /api/v1/allowed.", Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .1}})
	m.admission = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shipshape_admission_decisions_total",
		Help: "Admission reviews, by outcome (allowed, denied, warned, audited, invalid), namespace and reason."}, []string{"outcome", "namespace", "reason"})
	m.admissionLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "shipshape_admission_duration_seconds",
		Help: "Time to decide one admission review.", Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 3}}, []string{"endpoint"})
	m.droppedEvents = prometheus.NewCounter(prometheus.CounterOpts{Name: "shipshape_admission_events_dropped_total",
		Help: "Admission denials not written to the event log because its buffer was full."})
	m.submissions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shipshape_facts_submissions_total",
		Help: "Submissions with facts judged by this process, by verdict."}, []string{"verdict"})
	m.reg.MustRegister(m.allowed, m.allowedLatency, m.admission, m.admissionLatency, m.droppedEvents, m.submissions,
		&storeCollector{s: s}, prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return m
}

func (m *metrics) serve(w http.ResponseWriter, r *http.Request) { m.handler.ServeHTTP(w, r) }

func (m *metrics) evaluated(ev *fleet.Evaluation) { m.submissions.WithLabelValues(ev.Verdict).Inc() }

var (
	descImages      = prometheus.NewDesc("shipshape_images", "Images by approval state (none: never decided).", []string{"state"}, nil)
	descEvaluations = prometheus.NewDesc("shipshape_evaluations", "Evaluations stored, by verdict.", []string{"verdict"}, nil)
	descFindings    = prometheus.NewDesc("shipshape_findings", "Findings of each image's latest evaluation, by severity.", []string{"severity"}, nil)
	descQueue       = prometheus.NewDesc("shipshape_jobs", "Jobs by queue and state (discarded: failed for good, see GET /api/v1/jobs?state=discarded).", []string{"queue", "state"}, nil)
	descOldest      = prometheus.NewDesc("shipshape_job_oldest_waiting_seconds", "Age of the oldest job waiting to run, by queue.", []string{"queue"}, nil)
	descDataAge     = prometheus.NewDesc("shipshape_advisory_data_age_seconds", "Age of the newest advisory record, by source.", []string{"source"}, nil)
	descRefreshed   = prometheus.NewDesc("shipshape_advisory_data_refreshed_seconds", "Time since each advisory source was imported or found current.", []string{"source"}, nil)
	descViewAge     = prometheus.NewDesc("shipshape_view_approvals", "Approvals held in memory by the allow decision.", nil, nil)
)

// storeCollector reads the store's counts at scrape time.
type storeCollector struct{ s *Server }

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descImages, descEvaluations, descFindings, descQueue, descOldest, descDataAge, descRefreshed, descViewAge} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st := c.s.fleet.Store()
	snap := c.s.view.Snapshot()
	ch <- prometheus.MustNewConstMetric(descViewAge, prometheus.GaugeValue, float64(len(snap)))
	if counts, err := c.s.fleet.StateCounts(ctx); err == nil {
		for state, n := range counts {
			ch <- prometheus.MustNewConstMetric(descImages, prometheus.GaugeValue, float64(n), state)
		}
	}
	if counts, err := st.Counts(ctx); err == nil {
		for v, n := range counts.Evaluations {
			ch <- prometheus.MustNewConstMetric(descEvaluations, prometheus.GaugeValue, float64(n), v)
		}
		for sev, n := range counts.Findings {
			ch <- prometheus.MustNewConstMetric(descFindings, prometheus.GaugeValue, float64(n), sev)
		}
	}
	if q := st.Queue(); q != nil {
		if stats, err := q.Stats(ctx); err == nil {
			for _, qs := range stats {
				for state, n := range qs.Counts {
					ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(n), qs.Queue, state)
				}
				ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, qs.OldestAvailable.Seconds(), qs.Queue)
			}
		}
	}
	now := time.Now()
	for _, src := range c.s.fleet.DataSources() {
		if !src.Newest.IsZero() {
			ch <- prometheus.MustNewConstMetric(descDataAge, prometheus.GaugeValue, now.Sub(src.Newest).Seconds(), src.Name)
		}
		ch <- prometheus.MustNewConstMetric(descRefreshed, prometheus.GaugeValue, now.Sub(src.Refreshed()).Seconds(), src.Name)
	}
}
