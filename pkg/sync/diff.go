package sync

import "fmt"

// DiffOptions tune a Diff.
type DiffOptions struct {
	// Addons limits the diff to these add-ons, by name; empty means every add-on of the cluster.
	Addons []string
	// Concurrency bounds the dry-run requests in flight (default 16).
	Concurrency int
	// ContextLines is the number of unchanged lines shown around each change (default 3).
	ContextLines int
	// DryRunAll sends the dry-run apply for every object, also for those whose live copy
	// carries the desired applied hash and every desired value (which a sync would not write
	// either); slower, for when something outside addonsync may have changed the objects in
	// a way the comparison cannot see.
	DryRunAll bool
}

// DefaultDiffOptions returns the options `addonsync diff` uses.
func DefaultDiffOptions() DiffOptions {
	return DiffOptions{Concurrency: 16, ContextLines: 3}
}

// DiffResult says what a sync would do to one cluster. Its JSON form is the stable schema of
// `addonsync diff -o json`; fields are only ever added to it.
type DiffResult struct {
	// Cluster is the cluster's name.
	Cluster string `json:"cluster"`
	// Revision is the config commit the render came from; empty for a working tree.
	Revision string `json:"revision,omitempty"`
	// Addons in dependsOn order, as rendered.
	Addons []AddonDiff `json:"addons"`
	// Summary counts the objects of every add-on.
	Summary DiffSummary `json:"summary"`
}

// AddonDiff is what a sync would do to one add-on's objects.
type AddonDiff struct {
	// Name of the add-on.
	Name string `json:"name"`
	// Namespace the add-on installs into.
	Namespace string `json:"namespace,omitempty"`
	// Removed is true for an add-on the cluster no longer runs: a sync prunes all of it.
	Removed bool `json:"removed,omitempty"`
	// Create lists objects that do not exist yet; each carries its whole YAML.
	Create []ObjectDiff `json:"create"`
	// Change lists objects a sync would modify; each carries a unified diff of the change.
	Change []ObjectDiff `json:"change"`
	// Unchanged counts objects a sync would leave as they are.
	Unchanged int `json:"unchanged"`
	// Prune lists objects the inventory holds that the render no longer has.
	Prune []ObjectDiff `json:"prune"`
}

// Changes is the number of objects the add-on's sync would create, change or prune.
func (a AddonDiff) Changes() int { return len(a.Create) + len(a.Change) + len(a.Prune) }

// Summary counts the add-on's objects.
func (a AddonDiff) Summary() DiffSummary {
	return DiffSummary{Create: len(a.Create), Change: len(a.Change), Unchanged: a.Unchanged, Prune: len(a.Prune)}
}

// ObjectDiff is one object of a diff. Secret values never appear in it: Secret data and
// stringData values are replaced by "(added)", "(changed)", "(unchanged)" or "(removed)".
type ObjectDiff struct {
	// Subject is "Kind/namespace/name", or "Kind/name" for cluster-scoped objects.
	Subject string `json:"subject"`
	// APIVersion of the object; empty for objects to prune (the inventory records group-kinds).
	APIVersion string `json:"apiVersion,omitempty"`
	// Group of the object's kind, "" for the core group; set for objects to prune.
	Group string `json:"group,omitempty"`
	// Kind of the object.
	Kind string `json:"kind"`
	// Namespace of the object; empty for cluster-scoped objects.
	Namespace string `json:"namespace,omitempty"`
	// Name of the object.
	Name string `json:"name"`
	// YAML is the whole object, for objects to create.
	YAML string `json:"yaml,omitempty"`
	// Diff is a unified diff of the live object against what the sync would make of it
	// ("@@" hunks with context lines, no file header), for objects to change.
	Diff string `json:"diff,omitempty"`
	// Note explains something about the entry, e.g. "CRD not installed yet".
	Note string `json:"note,omitempty"`
}

// DiffSummary counts objects by what a sync would do to them.
type DiffSummary struct {
	// Create counts objects to create.
	Create int `json:"create"`
	// Change counts objects to change.
	Change int `json:"change"`
	// Unchanged counts objects left as they are.
	Unchanged int `json:"unchanged"`
	// Prune counts objects to delete.
	Prune int `json:"prune"`
}

// String reads like "2 to create, 1 to change, 40 unchanged, 1 to prune".
func (s DiffSummary) String() string {
	return fmt.Sprintf("%d to create, %d to change, %d unchanged, %d to prune", s.Create, s.Change, s.Unchanged, s.Prune)
}

// HasChanges reports whether a sync would create, change or prune anything.
func (r *DiffResult) HasChanges() bool {
	return r.Summary.Create+r.Summary.Change+r.Summary.Prune > 0
}

// summarize fills Summary from the add-ons.
func (r *DiffResult) summarize() {
	var s DiffSummary
	for _, a := range r.Addons {
		as := a.Summary()
		s.Create += as.Create
		s.Change += as.Change
		s.Unchanged += as.Unchanged
		s.Prune += as.Prune
	}
	r.Summary = s
}
