package reconcile

import (
	"errors"
	"time"

	"github.com/addonsync/addonsync/pkg/sync"
)

// Status is how a cluster's sync ended.
type Status string

// Statuses of a ClusterResult.
const (
	// StatusSynced: rendered, applied and pruned.
	StatusSynced Status = "synced"
	// StatusFailed: the config, render, connection or sync failed.
	StatusFailed Status = "failed"
	// StatusLocked: another addonsync held the cluster's sync lease; nothing was done.
	StatusLocked Status = "locked"
)

// String returns the status as printed.
func (s Status) String() string { return string(s) }

// Counts are the objects of one sync by action.
type Counts struct {
	// Created, Configured, Unchanged and Pruned count the objects per action.
	Created, Configured, Unchanged, Pruned int
}

// ClusterResult is the outcome of one cluster in a run.
type ClusterResult struct {
	// Cluster is the cluster's name.
	Cluster string
	// Branch is the config branch the cluster was rendered from ("" for the working tree).
	Branch string
	// Revision is the commit rendered ("" for the working tree).
	Revision string
	// Counts are the objects by action.
	Counts Counts
	// ChangeSet is every object of the sync with its action (nil when nothing was synced).
	ChangeSet sync.ChangeSet
	// Duration is how long the cluster took.
	Duration time.Duration
	// Status is how it ended.
	Status Status
	// Err is why it failed.
	Err error
}

// Report is the outcome of one reconcile run.
type Report struct {
	// Start is when the run started.
	Start time.Time
	// Duration is how long it took.
	Duration time.Duration
	// Clusters are the per-cluster results, in the order synced.
	Clusters []ClusterResult
	// Steps are the outcomes of the steps after the clusters, in order.
	Steps []StepReport
	// Err is a failure before or between the clusters (fetching the repo, loading the config,
	// a cancelled run).
	Err error
}

// Failed reports whether the run or any cluster failed.
func (r *Report) Failed() bool { return r.Error() != nil }

// Error joins the run's error, every cluster's and every step's.
func (r *Report) Error() error {
	errs := []error{r.Err}
	for _, c := range r.Clusters {
		errs = append(errs, c.Err)
	}
	for _, s := range r.Steps {
		errs = append(errs, s.Err)
	}
	return errors.Join(errs...)
}
