package reconcile

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"time"
)

// Run results as the runs_total metric labels them.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
	ResultSkipped = "skipped"
)

// durationBuckets are the upper bounds (seconds) of the run duration histogram.
var durationBuckets = []float64{5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600}

// Metrics accumulates what runs did, for /metrics. Safe for concurrent use.
type Metrics struct {
	mu          gosync.Mutex
	runs        map[string]int
	buckets     []int // per durationBuckets, cumulative on output
	count       int
	sum         float64
	running     bool
	lastSuccess time.Time
	clusters    map[string]ClusterResult
}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		runs:     map[string]int{ResultSuccess: 0, ResultFailure: 0, ResultSkipped: 0},
		buckets:  make([]int, len(durationBuckets)),
		clusters: map[string]ClusterResult{},
	}
}

// Started marks a run as going.
func (m *Metrics) Started() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.running = true
}

// Observe records a finished run.
func (m *Metrics) Observe(r *Report) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.running = false
	if r.Failed() {
		m.runs[ResultFailure]++
	} else {
		m.runs[ResultSuccess]++
		m.lastSuccess = r.Start.Add(r.Duration)
	}
	s := r.Duration.Seconds()
	m.count++
	m.sum += s
	for i, le := range durationBuckets {
		if s <= le {
			m.buckets[i]++
			break
		}
	}
	for _, c := range r.Clusters {
		m.clusters[c.Cluster] = c
	}
}

// Skipped records a scheduled run skipped because the previous one was still going.
func (m *Metrics) Skipped() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs[ResultSkipped]++
}

// Runs returns the number of runs with result (ResultSuccess, ResultFailure, ResultSkipped).
func (m *Metrics) Runs(result string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.runs[result]
}

// WriteTo writes the metrics in the Prometheus text exposition format (version 0.0.4).
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	help := func(name, typ, text string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, typ)
	}
	help("addonsync_reconcile_runs_total", "counter", "Reconcile runs by result (skipped: the previous run was still going).")
	for _, r := range slices.Sorted(maps.Keys(m.runs)) {
		fmt.Fprintf(&b, "addonsync_reconcile_runs_total{result=%q} %d\n", r, m.runs[r])
	}
	help("addonsync_reconcile_duration_seconds", "histogram", "Duration of reconcile runs.")
	cum := 0
	for i, le := range durationBuckets {
		cum += m.buckets[i]
		fmt.Fprintf(&b, "addonsync_reconcile_duration_seconds_bucket{le=%q} %d\n", formatFloat(le), cum)
	}
	fmt.Fprintf(&b, "addonsync_reconcile_duration_seconds_bucket{le=\"+Inf\"} %d\n", m.count)
	fmt.Fprintf(&b, "addonsync_reconcile_duration_seconds_sum %s\n", formatFloat(m.sum))
	fmt.Fprintf(&b, "addonsync_reconcile_duration_seconds_count %d\n", m.count)
	help("addonsync_reconcile_running", "gauge", "1 while a reconcile run is going.")
	fmt.Fprintf(&b, "addonsync_reconcile_running %d\n", boolInt(m.running))
	help("addonsync_last_success_timestamp_seconds", "gauge", "Unix time the last successful run finished (0: none yet).")
	fmt.Fprintf(&b, "addonsync_last_success_timestamp_seconds %s\n", unixSeconds(m.lastSuccess))
	m.writeClusters(&b)
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// writeClusters writes the per-cluster gauges. Label values are quoted with %q: cluster names
// are DNS labels, so Go's quoting equals Prometheus's.
func (m *Metrics) writeClusters(b *strings.Builder) {
	names := slices.Sorted(maps.Keys(m.clusters))
	fmt.Fprintf(b, "# HELP addonsync_cluster_sync_objects Objects by action in the last sync of each cluster.\n"+
		"# TYPE addonsync_cluster_sync_objects gauge\n")
	for _, name := range names {
		c := m.clusters[name].Counts
		for _, kv := range []struct {
			action string
			n      int
		}{{"created", c.Created}, {"configured", c.Configured}, {"unchanged", c.Unchanged}, {"pruned", c.Pruned}} {
			fmt.Fprintf(b, "addonsync_cluster_sync_objects{cluster=%q,action=%q} %d\n", name, kv.action, kv.n)
		}
	}
	fmt.Fprintf(b, "# HELP addonsync_cluster_sync_success 1 when the last sync of the cluster succeeded.\n"+
		"# TYPE addonsync_cluster_sync_success gauge\n")
	for _, name := range names {
		fmt.Fprintf(b, "addonsync_cluster_sync_success{cluster=%q} %d\n", name, boolInt(m.clusters[name].Err == nil))
	}
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func unixSeconds(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return formatFloat(float64(t.UnixMilli()) / 1000)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
