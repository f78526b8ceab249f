package reconcile

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMetricsText(t *testing.T) {
	m := NewMetrics()
	start := time.Unix(1_800_000_000, 0)
	m.Observe(&Report{Start: start, Duration: 20 * time.Second, Clusters: []ClusterResult{
		{Cluster: "prod", Counts: Counts{Created: 1, Configured: 2, Unchanged: 40, Pruned: 3}, Status: StatusSynced},
		{Cluster: "dev", Status: StatusFailed, Err: errors.New("boom")},
	}})
	m.Observe(&Report{Start: start.Add(time.Hour), Duration: 2500 * time.Millisecond, Clusters: []ClusterResult{
		{Cluster: "prod", Counts: Counts{Unchanged: 46}, Status: StatusSynced},
	}})
	m.Skipped()
	m.Started()
	var b strings.Builder
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP addonsync_reconcile_runs_total Reconcile runs by result (skipped: the previous run was still going).
# TYPE addonsync_reconcile_runs_total counter
addonsync_reconcile_runs_total{result="failure"} 1
addonsync_reconcile_runs_total{result="skipped"} 1
addonsync_reconcile_runs_total{result="success"} 1
# HELP addonsync_reconcile_duration_seconds Duration of reconcile runs.
# TYPE addonsync_reconcile_duration_seconds histogram
addonsync_reconcile_duration_seconds_bucket{le="5"} 1
addonsync_reconcile_duration_seconds_bucket{le="15"} 1
addonsync_reconcile_duration_seconds_bucket{le="30"} 2
addonsync_reconcile_duration_seconds_bucket{le="60"} 2
addonsync_reconcile_duration_seconds_bucket{le="120"} 2
addonsync_reconcile_duration_seconds_bucket{le="300"} 2
addonsync_reconcile_duration_seconds_bucket{le="600"} 2
addonsync_reconcile_duration_seconds_bucket{le="1200"} 2
addonsync_reconcile_duration_seconds_bucket{le="1800"} 2
addonsync_reconcile_duration_seconds_bucket{le="3600"} 2
addonsync_reconcile_duration_seconds_bucket{le="+Inf"} 2
addonsync_reconcile_duration_seconds_sum 22.5
addonsync_reconcile_duration_seconds_count 2
# HELP addonsync_reconcile_running 1 while a reconcile run is going.
# TYPE addonsync_reconcile_running gauge
addonsync_reconcile_running 1
# HELP addonsync_last_success_timestamp_seconds Unix time the last successful run finished (0: none yet).
# TYPE addonsync_last_success_timestamp_seconds gauge
addonsync_last_success_timestamp_seconds 1800003602.5
# HELP addonsync_cluster_sync_objects Objects by action in the last sync of each cluster.
# TYPE addonsync_cluster_sync_objects gauge
addonsync_cluster_sync_objects{cluster="dev",action="created"} 0
addonsync_cluster_sync_objects{cluster="dev",action="configured"} 0
addonsync_cluster_sync_objects{cluster="dev",action="unchanged"} 0
addonsync_cluster_sync_objects{cluster="dev",action="pruned"} 0
addonsync_cluster_sync_objects{cluster="prod",action="created"} 0
addonsync_cluster_sync_objects{cluster="prod",action="configured"} 0
addonsync_cluster_sync_objects{cluster="prod",action="unchanged"} 46
addonsync_cluster_sync_objects{cluster="prod",action="pruned"} 0
# HELP addonsync_cluster_sync_success 1 when the last sync of the cluster succeeded.
# TYPE addonsync_cluster_sync_success gauge
addonsync_cluster_sync_success{cluster="dev"} 0
addonsync_cluster_sync_success{cluster="prod"} 1
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}
