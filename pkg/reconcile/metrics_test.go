package reconcile

import (
	"errors"
	"math"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/addonsync/addonsync/internal/testutil/scrape"
)

func TestMetricsScrape(t *testing.T) {
	m := NewMetrics()
	start := time.Unix(1_800_000_000, 0)
	m.Observe(&Report{Start: start, Duration: 20 * time.Second, Clusters: []ClusterResult{
		{Cluster: "prod", Counts: Counts{Created: 1, Configured: 2, Unchanged: 40, Pruned: 3}, Status: StatusSynced, Duration: 12 * time.Second},
		{Cluster: "dev", Status: StatusFailed, Err: errors.New("boom"), Duration: time.Second},
	}})
	m.Observe(&Report{Start: start.Add(time.Hour), Duration: 2500 * time.Millisecond, Clusters: []ClusterResult{
		{Cluster: "prod", Counts: Counts{Unchanged: 46}, Status: StatusSynced, Duration: 2 * time.Second},
	}})
	m.Skipped()
	m.Started()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	f := scrape.Get(t, srv.URL)

	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"addonsync_reconcile_runs_total", map[string]string{"result": "success"}, 1},
		{"addonsync_reconcile_runs_total", map[string]string{"result": "failure"}, 1},
		{"addonsync_reconcile_runs_total", map[string]string{"result": "skipped"}, 1},
		{"addonsync_reconcile_running", map[string]string{}, 1},
		{"addonsync_reconcile_last_success_timestamp_seconds", map[string]string{}, 1_800_003_602.5},
		{"addonsync_cluster_sync_objects", map[string]string{"cluster": "prod", "action": "unchanged"}, 46},
		{"addonsync_cluster_sync_objects", map[string]string{"cluster": "prod", "action": "created"}, 0},
		{"addonsync_cluster_sync_objects", map[string]string{"cluster": "dev", "action": "pruned"}, 0},
		{"addonsync_cluster_sync_success", map[string]string{"cluster": "prod"}, 1},
		{"addonsync_cluster_sync_success", map[string]string{"cluster": "dev"}, 0},
		{"addonsync_cluster_sync_duration_seconds", map[string]string{"cluster": "prod"}, 2},
	} {
		if got, ok := f.Value(tc.name, tc.labels); !ok || got != tc.want {
			t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	buckets, sum, count, ok := f.Histogram("addonsync_reconcile_duration_seconds")
	if !ok || f.Type("addonsync_reconcile_duration_seconds") != "HISTOGRAM" {
		t.Fatalf("no histogram addonsync_reconcile_duration_seconds")
	}
	want := map[float64]uint64{5: 1, 15: 1, 30: 2, 60: 2, 120: 2, 300: 2, 600: 2, 1200: 2, 1800: 2, 3600: 2, math.Inf(1): 2}
	if diff := cmp.Diff(want, buckets); diff != "" || sum != 22.5 || count != 2 {
		t.Errorf("histogram sum %v count %d buckets (-want +got):\n%s", sum, count, diff)
	}
	if f.Type("addonsync_reconcile_runs_total") != "COUNTER" || f.Type("go_goroutines") != "GAUGE" {
		t.Errorf("types: runs_total %q, go_goroutines %q", f.Type("addonsync_reconcile_runs_total"), f.Type("go_goroutines"))
	}
	if got := m.Runs(ResultSkipped); got != 1 {
		t.Errorf("Runs(skipped) = %d, want 1", got)
	}
}
