package reconcile

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// Run results as the runs_total metric labels them.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
	ResultSkipped = "skipped"
)

// durationBuckets are the upper bounds (seconds) of the run duration histogram.
var durationBuckets = []float64{5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600}

// Metrics are what runs did, in a registry of their own (with the Go and process
// collectors), served by Handler in the Prometheus exposition format. Safe for concurrent
// use.
type Metrics struct {
	reg            *prometheus.Registry
	runs           *prometheus.CounterVec
	duration       prometheus.Histogram
	running        prometheus.Gauge
	lastSuccess    prometheus.Gauge
	objects        *prometheus.GaugeVec
	clusterSuccess *prometheus.GaugeVec
	clusterSeconds *prometheus.GaugeVec
}

// NewMetrics returns metrics with every run result at 0.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "addonsync_reconcile_runs_total",
			Help: "Reconcile runs by result (skipped: the previous run was still going).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "addonsync_reconcile_duration_seconds", Help: "Duration of reconcile runs.", Buckets: durationBuckets,
		}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "addonsync_reconcile_running", Help: "1 while a reconcile run is going.",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "addonsync_reconcile_last_success_timestamp_seconds",
			Help: "Unix time the last successful run finished (0: none yet).",
		}),
		objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "addonsync_cluster_sync_objects", Help: "Objects by action in the last sync of each cluster.",
		}, []string{"cluster", "action"}),
		clusterSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "addonsync_cluster_sync_success", Help: "1 when the last sync of the cluster succeeded.",
		}, []string{"cluster"}),
		clusterSeconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "addonsync_cluster_sync_duration_seconds", Help: "Duration of the last sync of each cluster.",
		}, []string{"cluster"}),
	}
	for _, r := range []string{ResultSuccess, ResultFailure, ResultSkipped} {
		m.runs.WithLabelValues(r)
	}
	m.reg.MustRegister(m.runs, m.duration, m.running, m.lastSuccess, m.objects, m.clusterSuccess, m.clusterSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry the metrics are in, for a caller to add its own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Started marks a run as going.
func (m *Metrics) Started() { m.running.Set(1) }

// Observe records a finished run and the last sync of each of its clusters.
func (m *Metrics) Observe(r *Report) {
	m.running.Set(0)
	if r.Failed() {
		m.runs.WithLabelValues(ResultFailure).Inc()
	} else {
		m.runs.WithLabelValues(ResultSuccess).Inc()
		end := r.Start.Add(r.Duration)
		m.lastSuccess.Set(float64(end.UnixMilli()) / 1000)
	}
	m.duration.Observe(r.Duration.Seconds())
	for _, c := range r.Clusters {
		for action, n := range map[string]int{
			"created": c.Counts.Created, "configured": c.Counts.Configured,
			"unchanged": c.Counts.Unchanged, "pruned": c.Counts.Pruned,
		} {
			m.objects.WithLabelValues(c.Cluster, action).Set(float64(n))
		}
		m.clusterSuccess.WithLabelValues(c.Cluster).Set(boolFloat(c.Err == nil))
		m.clusterSeconds.WithLabelValues(c.Cluster).Set(c.Duration.Seconds())
	}
}

// Skipped records a scheduled run skipped because the previous one was still going.
func (m *Metrics) Skipped() { m.runs.WithLabelValues(ResultSkipped).Inc() }

// Runs returns the number of runs with result (ResultSuccess, ResultFailure, ResultSkipped).
func (m *Metrics) Runs(result string) int {
	var d dto.Metric
	if err := m.runs.WithLabelValues(result).Write(&d); err != nil {
		return 0
	}
	return int(d.GetCounter().GetValue())
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
