package sync

import (
	"fmt"

	"github.com/addonsync/addonsync/pkg/config"
)

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
	// NoPrune leaves prunes out, as sync --prune=false does.
	NoPrune bool
	// MaxPrune overrides the prune limits as SyncOptions.MaxPrune does.
	MaxPrune int
	// PruneLimits are the repository's prune limits, as for a sync.
	PruneLimits config.PruneLimits
	// PruneHelmLeftovers shows the leftovers of adopted Helm releases as pruned, as
	// SyncOptions.PruneHelmLeftovers does.
	PruneHelmLeftovers bool
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
	// Adopt lists objects that exist but are not in the add-on's inventory (made by kubectl,
	// Helm or another add-on); each carries a unified diff of what the sync changes.
	Adopt []ObjectDiff `json:"adopt"`
	// Change lists objects a sync would modify; each carries a unified diff of the change.
	Change []ObjectDiff `json:"change"`
	// Unchanged counts objects a sync would leave as they are.
	Unchanged int `json:"unchanged"`
	// Prune lists objects the inventory holds that the render no longer has.
	Prune []ObjectDiff `json:"prune"`
	// PruneRefused lists the objects of a prune refused by the prune limits (Error says why).
	PruneRefused []ObjectDiff `json:"pruneRefused,omitempty"`
	// Keep lists members the render lacks that the prune rules keep; a sync releases them.
	Keep []ObjectDiff `json:"keep,omitempty"`
	// HelmRelease is the Helm release the sync takes over, e.g. "Helm release ingress-nginx
	// rev 7, chart 4.14.5: to adopt"; empty when the add-on has none.
	HelmRelease string `json:"helmRelease,omitempty"`
	// AdoptedAsIs counts the objects of Adopt the sync takes over without changing them.
	AdoptedAsIs int `json:"adoptedAsIs,omitempty"`
	// HelmLeftovers lists the objects of the Helm release the render lacks that the sync
	// keeps ("left by Helm release ..."); those it deletes are in Prune.
	HelmLeftovers []ObjectDiff `json:"helmLeftovers,omitempty"`
	// Hooks is the Helm hook phase a sync runs ("install" or "upgrade"); empty for none.
	Hooks string `json:"hooks,omitempty"`
	// Error says why a sync of the add-on would fail (e.g. a refused prune).
	Error string `json:"error,omitempty"`
}

// Changes is the number of objects the add-on's sync would create, change or prune.
// A hook phase to run counts as one.
func (a AddonDiff) Changes() int {
	n := len(a.Create) + len(a.Adopt) + len(a.Change) + len(a.Prune) + len(a.Keep)
	if a.Hooks != "" {
		n++
	}
	return n
}

// Summary counts the add-on's objects.
func (a AddonDiff) Summary() DiffSummary {
	s := DiffSummary{Create: len(a.Create), Adopt: len(a.Adopt), Change: len(a.Change), Unchanged: a.Unchanged, Prune: len(a.Prune), Keep: len(a.Keep)}
	if a.Hooks != "" {
		s.Hooks = 1
	}
	return s
}

// ObjectDiff is one object of a diff. Secret values never appear in it: Secret data and
// stringData values are replaced as secretmask.MaskPair does: "(masked)" for a value that
// stays, "(masked, changed)", "(masked, added)" or "(masked, removed)".
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
	// Adopt counts objects that exist but are not inventory members yet.
	Adopt int `json:"adopt"`
	// Keep counts members kept from the prune and released.
	Keep int `json:"keep,omitempty"`
	// Hooks counts the add-ons whose hooks run.
	Hooks int `json:"hooks,omitempty"`
}

// String reads like "2 to create, 1 to change, 40 unchanged, 1 to prune"; adoptions, kept
// objects and hooks are listed when there are any.
func (s DiffSummary) String() string {
	out := fmt.Sprintf("%d to create, ", s.Create)
	if s.Adopt > 0 {
		out += fmt.Sprintf("%d to adopt, ", s.Adopt)
	}
	out += fmt.Sprintf("%d to change, %d unchanged, %d to prune", s.Change, s.Unchanged, s.Prune)
	if s.Keep > 0 {
		out += fmt.Sprintf(", %d to keep", s.Keep)
	}
	if s.Hooks > 0 {
		out += fmt.Sprintf(", hooks in %d add-on(s)", s.Hooks)
	}
	return out
}

// HasChanges reports whether a sync would write anything: create, adopt, change, prune or
// release an object, or run a hook.
func (r *DiffResult) HasChanges() bool {
	s := r.Summary
	return s.Create+s.Adopt+s.Change+s.Prune+s.Keep+s.Hooks > 0
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
		s.Adopt += as.Adopt
		s.Keep += as.Keep
		s.Hooks += as.Hooks
	}
	r.Summary = s
}
