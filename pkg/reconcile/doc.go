// Package reconcile runs addonsync's reconcile on a schedule and reports on it: which
// clusters a shard syncs, the per-cluster results of a run, Prometheus metrics and health.
//
// The reconcile itself (fetch the config repo, render and sync each cluster under its sync
// lease, open upgrade pull requests) is the caller's RunFunc; this package decides when it
// runs and what the runs add up to.
//
// # Sharding
//
// Shard(clusters, index, count) sorts the cluster names and gives the i-th to shard
// i % count, so an Indexed Job of count pods covers every cluster exactly once, and adding a
// cluster moves few others.
//
// # Schedule
//
// A Loop runs the RunFunc at each time a cron schedule (robfig/cron syntax: five fields, or
// @hourly, @every 10m) names. Runs never overlap: a run still going when the next one is due
// makes the loop skip that time (logged and counted as result="skipped") and wait for the
// following one. Cancelling the Loop's context cancels the current run and returns once it
// has returned.
//
// # Health and metrics
//
// Loop.Handler serves:
//
//	/healthz  200 "ok" once the loop runs; 503 before, after it stopped, and when the
//	          last UnhealthyAfter runs all failed (0: never for failures)
//	/metrics  Prometheus text format:
//	          addonsync_reconcile_runs_total{result="success"|"failure"|"skipped"}
//	          addonsync_reconcile_duration_seconds (histogram of run durations)
//	          addonsync_reconcile_running (1 while a run is going)
//	          addonsync_last_success_timestamp_seconds
//	          addonsync_cluster_sync_objects{cluster,action} (last sync of each cluster)
//	          addonsync_cluster_sync_success{cluster} (1 when its last sync succeeded)
//
// A run fails when it returns an error or any of its clusters failed.
package reconcile
