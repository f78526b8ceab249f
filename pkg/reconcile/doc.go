// Package reconcile runs addonsync's reconcile, what the CronJob does: fetch the config
// repo, render and sync each cluster of this shard from its own branch under the cluster's
// sync lease, then open the upgrade pull requests (and any further Step); on a schedule
// with health and metrics when asked.
//
// # Runner
//
// A Runner takes its dependencies as interfaces, so each can be swapped and tested:
//
//	r, err := reconcile.NewRunner(reconcile.RunnerOptions{
//		Source:    reconcile.RepoSource{Dir: dir, Ref: config.RefAuto, Remote: remote}, // each cluster's branch
//		Connector: reconcile.KubeConnector{},                                          // one REST config per cluster
//		Renderer:  render.New(render.DefaultOptions()),
//		Engine:    reconcile.SyncEngine{},                                             // a sync.Manager per cluster
//		Steps:     []reconcile.Step{&reconcile.UpgradeStep{Remote: remote, Renderer: rr}},
//		Prune:     true,
//	})
//	rep := r.Run(ctx) // *Report: one ClusterResult per cluster, one StepReport per step
//
// Run fetches the Source, lists its clusters, keeps this shard's, and for each: loads the
// config from the cluster's branch, renders it (a render error applies nothing), builds
// the REST config, takes the sync lease (in the inventory namespace; a lease another
// addonsync holds makes the cluster StatusLocked), syncs, and releases the lease. A cluster
// that fails does not stop the others. Then each Step runs. Progress goes to
// RunnerOptions.Progress as Events; the Runner prints nothing.
//
// Errors: a run that cannot start because of the config (it does not load, an unknown
// cluster was asked for) has a *ConfigError as Report.Err; a cluster's failure is a
// *ClusterError naming the cluster once; a step's failure is its StepReport.Err.
// Report.Error joins them all.
//
// # Sharding
//
// Shard(clusters, index, count) sorts the cluster names and gives the i-th to shard
// i % count, so an Indexed Job of count pods covers every cluster exactly once, and adding a
// cluster moves few others.
//
// # Schedule
//
// A Loop runs a RunFunc (such as Runner.Run) at each time a cron schedule (robfig/cron
// syntax: five fields, or @hourly, @every 10m) names. Runs never overlap: a run still going
// when the next one is due makes the loop skip that time (logged and counted as
// result="skipped") and wait for the following one. Cancelling the Loop's context cancels
// the current run and returns once it has returned.
//
// # Health and metrics
//
// Loop.Handler serves:
//
//	/healthz  200 "ok" once the loop runs; 503 before, after it stopped, and when the
//	          last UnhealthyAfter runs all failed (0: never for failures)
//	/metrics  Prometheus exposition format (prometheus/client_golang, own registry):
//	          addonsync_reconcile_runs_total{result="success"|"failure"|"skipped"}
//	          addonsync_reconcile_duration_seconds (histogram of run durations)
//	          addonsync_reconcile_running (1 while a run is going)
//	          addonsync_reconcile_last_success_timestamp_seconds
//	          addonsync_cluster_sync_objects{cluster,action} (last sync of each cluster)
//	          addonsync_cluster_sync_success{cluster} (1 when its last sync succeeded)
//	          addonsync_cluster_sync_duration_seconds{cluster} (last sync of each cluster)
//	          and the Go runtime and process collectors (go_*, process_*)
//
// A run fails when it returns an error, any of its clusters failed or any step failed.
package reconcile
