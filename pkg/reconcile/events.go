package reconcile

import "github.com/addonsync/addonsync/pkg/sync"

// EventType says what an Event reports.
type EventType string

// Event types, in the order a run sends them.
const (
	// EventFetch: the run fetches its Source.
	EventFetch EventType = "fetch"
	// EventRunStarted: Clusters are the clusters this run syncs, in order.
	EventRunStarted EventType = "run-started"
	// EventClusterRendering: Cluster renders from Branch at Revision.
	EventClusterRendering EventType = "cluster-rendering"
	// EventSync: Sync is a progress event of Cluster's sync.
	EventSync EventType = "sync"
	// EventClusterFinished: Result is Cluster's outcome.
	EventClusterFinished EventType = "cluster-finished"
	// EventWarning: Err went wrong without failing Cluster (releasing its lease).
	EventWarning EventType = "warning"
	// EventStepStarted: Step starts.
	EventStepStarted EventType = "step-started"
	// EventStepFinished: StepReport is Step's outcome.
	EventStepFinished EventType = "step-finished"
)

// String returns the type.
func (t EventType) String() string { return string(t) }

// Event is a run's progress, for a caller to print.
type Event struct {
	// Type says what happened and which fields are set.
	Type EventType
	// Clusters are the run's clusters (EventRunStarted).
	Clusters []string
	// Cluster is the cluster concerned.
	Cluster string
	// Branch and Revision are the config a cluster renders from ("" for a working tree).
	Branch, Revision string
	// Sync is the sync's own event (EventSync).
	Sync sync.Event
	// Result is the cluster's outcome (EventClusterFinished).
	Result *ClusterResult
	// Step names the step (EventStepStarted, EventStepFinished).
	Step string
	// StepReport is the step's outcome (EventStepFinished).
	StepReport *StepReport
	// Err is the warning (EventWarning).
	Err error
}
