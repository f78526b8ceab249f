package reconcile

import (
	"fmt"
	"strings"
)

// ConfigError is a run that could not start because the config repo could not be read or
// the run's options do not fit it (an unknown --cluster): a config or usage problem, not a
// cluster's.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// ClusterError is why one cluster failed: `cluster "prod": nothing applied: <cause>`. The
// cluster is named once, however many layers below named it too.
type ClusterError struct {
	// Cluster is the cluster's name.
	Cluster string
	// Stage, when set, says what the failure means for the cluster ("nothing applied").
	Stage string
	// Err is the cause.
	Err error
}

func (e *ClusterError) Error() string {
	prefix := fmt.Sprintf("cluster %q: ", e.Cluster)
	msg := e.Err.Error()
	for strings.HasPrefix(msg, prefix) {
		msg = strings.TrimPrefix(msg, prefix)
	}
	if e.Stage != "" {
		return prefix + e.Stage + ": " + msg
	}
	return prefix + msg
}

func (e *ClusterError) Unwrap() error { return e.Err }
