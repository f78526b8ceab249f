package sync

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/helmrelease"
	"github.com/addonsync/addonsync/pkg/render"
)

// Verb is what a plan does to one object.
type Verb string

// Verbs of a plan.
const (
	// VerbCreate creates an object that does not exist.
	VerbCreate Verb = "create"
	// VerbConfigure applies an object addonsync owns whose live copy differs.
	VerbConfigure Verb = "configure"
	// VerbUnchanged leaves an up-to-date object alone: nothing is sent.
	VerbUnchanged Verb = "unchanged"
	// VerbAdopt applies an object that exists but is not a member of the add-on's inventory
	// (made by kubectl, by a Helm release, or by another add-on before a rename).
	VerbAdopt Verb = "adopt"
	// VerbPrune deletes an inventory member the render no longer has.
	VerbPrune Verb = "prune"
	// VerbKeep keeps a member the render no longer has (prune rules) and releases it.
	VerbKeep Verb = "keep"
)

// String returns the verb.
func (v Verb) String() string { return string(v) }

// action is the ChangeSet action the verb reports once done.
func (v Verb) action() Action {
	switch v {
	case VerbCreate:
		return ActionCreated
	case VerbConfigure:
		return ActionConfigured
	case VerbAdopt:
		return ActionAdopted
	case VerbPrune:
		return ActionPruned
	case VerbKeep:
		return ActionSkipped
	}
	return ActionUnchanged
}

// HookPhase is the Helm release phase whose hooks a sync runs for an add-on.
type HookPhase string

// Hook phases.
const (
	// HookPhaseNone runs no hook: the add-on is installed and its render did not change.
	HookPhaseNone HookPhase = ""
	// HookPhaseInstall runs pre-install and post-install hooks: no install completed yet.
	HookPhaseInstall HookPhase = "install"
	// HookPhaseUpgrade runs pre-upgrade and post-upgrade hooks: the render changed since the
	// last successful sync.
	HookPhaseUpgrade HookPhase = "upgrade"
)

// String returns the phase, "none" for HookPhaseNone.
func (p HookPhase) String() string {
	if p == HookPhaseNone {
		return "none"
	}
	return string(p)
}

// events returns the hook events of the phase, before and after the objects are applied.
func (p HookPhase) events() (pre, post render.HookEvent) {
	switch p {
	case HookPhaseInstall:
		return render.HookPreInstall, render.HookPostInstall
	case HookPhaseUpgrade:
		return render.HookPreUpgrade, render.HookPostUpgrade
	}
	return "", ""
}

// ObjectState is what the gather step found for one rendered object.
type ObjectState struct {
	// Desired is the object as it will be applied (namespace, ApplySet label, applied hash).
	Desired *unstructured.Unstructured
	// Live is the object on the cluster; nil when it does not exist.
	Live *unstructured.Unstructured
	// Member is true when Live carries the add-on's part-of label (listed by the inventory).
	Member bool
	// Owner says who else holds Live when it is not a member, e.g. `add-on "web"`,
	// `Helm release "web"` or `field manager "kubectl"`.
	Owner string
	// Unserved is true when the cluster does not serve the object's kind (yet).
	Unserved bool
	// DryRun is the result of a server-side dry-run apply, when the gather step made one.
	DryRun *unstructured.Unstructured
	// DryRunErr is why the dry-run apply failed.
	DryRunErr error

	// owned caches ownsDesired(Desired, Live) for the gather step's field manager.
	owned *ownership
}

// ownership is the result of ownsDesired.
type ownership struct {
	manager string
	path    string
	ok      bool
}

// owns returns ownsDesired(Desired, Live, manager), computed once per state.
func (os *ObjectState) owns(manager string) (string, bool) {
	if os.owned == nil || os.owned.manager != manager {
		path, ok := ownsDesired(os.Desired, os.Live, manager)
		os.owned = &ownership{manager: manager, path: path, ok: ok}
	}
	return os.owned.path, os.owned.ok
}

// NamespaceState is what the gather step found for one namespace the add-on's objects use.
type NamespaceState struct {
	// Exists is true when the namespace exists and is not terminating.
	Exists bool
	// Terminating is true when it is being deleted.
	Terminating bool
}

// AddonState is the live state of one rendered add-on, as the gather step found it.
type AddonState struct {
	// Addon is the rendered add-on.
	Addon *render.Addon
	// Objects are the rendered objects, in render order.
	Objects []ObjectState
	// Inventory is the ApplySet parent and its members (Exists false before the first sync).
	Inventory *Inventory
	// Record is the release record of the parent; nil when it holds none.
	Record *ReleaseRecord
	// Digest identifies the rendered add-on: objects and hooks (addonDigest).
	Digest string
	// Namespaces maps each namespace the objects or the add-on use to its state.
	Namespaces map[string]NamespaceState
	// Helm is the takeover of the add-on's Helm release; nil when it has none.
	Helm *helmrelease.Adoption
}

// RemovedState is an add-on whose parent exists but which the cluster no longer renders.
type RemovedState struct {
	// Inventory is its parent and members.
	Inventory *Inventory
	// Record is its release record; nil when it holds none.
	Record *ReleaseRecord
}

// PlanOptions are the sync options the planner applies.
type PlanOptions struct {
	// Prune deletes members the render lacks.
	Prune bool
	// MaxPrune overrides the prune limits (see SyncOptions.MaxPrune).
	MaxPrune int
	// PruneLimits are the repository's prune limits.
	PruneLimits config.PruneLimits
	// Partial means add-ons missing from the render are left alone (not removed).
	Partial bool
	// FieldManager is the server-side apply field manager whose ownership is checked.
	FieldManager string
}

// PlanInput is everything the planner decides from; it is gathered by one pass of reads.
type PlanInput struct {
	// Cluster name.
	Cluster string
	// Addons in sync order.
	Addons []AddonState
	// Removed add-ons, when the render is complete.
	Removed []RemovedState
	// Options of the sync.
	Options PlanOptions
}

// ObjectStep is what the plan does to one object, and why.
type ObjectStep struct {
	// ID of the object.
	ID ObjectID
	// Verb is what is done.
	Verb Verb
	// Reason says why, e.g. "field spec.replicas changed by someone else".
	Reason string
	// Desired is the object to apply; nil for prune and keep.
	Desired *unstructured.Unstructured
	// Live is the object on the cluster, if any.
	Live *unstructured.Unstructured
	// Merged is what a dry-run apply made of the object, when one was made.
	Merged *unstructured.Unstructured
}

// AddonPlan is what a sync does to one add-on.
type AddonPlan struct {
	// Addon name.
	Addon string
	// Removed is true for an add-on no longer in the cluster config.
	Removed bool
	// Namespace the add-on installs into.
	Namespace string
	// CreateNamespace is true when the sync creates the add-on namespace first.
	CreateNamespace bool
	// Objects are the rendered objects' steps, in render order.
	Objects []ObjectStep
	// Hooks is the hook phase that runs.
	Hooks HookPhase
	// Prune are the prune and keep steps, in deletion order.
	Prune []ObjectStep
	// PruneRefused is set when the prune is over the limit: nothing is pruned then.
	PruneRefused *PruneLimitError
	// Record is the release record the sync writes once the add-on applied.
	Record ReleaseRecord
	// OldRecord is the record found (zero when none).
	OldRecord ReleaseRecord
	// DeleteHooks are the last hook objects of a removed add-on, deleted with it.
	DeleteHooks []ObjectID
	// DeleteNamespace is the namespace addonsync created for a removed add-on, when its
	// prune policy allowed deleting it.
	DeleteNamespace string
	// Err is why the add-on cannot be synced as rendered; nothing of it is applied then.
	Err error
	// Helm is the takeover of the add-on's Helm release; nil when it has none.
	Helm *helmrelease.Adoption
	// HelmLeftovers are the objects of the Helm release the render lacks: VerbPrune when
	// the sync deletes them (with the add-on's prune), VerbKeep when it leaves them.
	HelmLeftovers []ObjectStep
}

// Changes reports whether the add-on's sync writes anything.
func (p *AddonPlan) Changes() bool {
	if p.Hooks != HookPhaseNone || p.CreateNamespace || p.Record != p.OldRecord || p.Removed {
		return true
	}
	for _, s := range p.Objects {
		if s.Verb != VerbUnchanged {
			return true
		}
	}
	return p.PruneRefused == nil && (len(p.Prune) > 0 || len(helmLeftoverPrunes(p)) > 0)
}

// Plan is what a sync does to a cluster.
type Plan struct {
	// Cluster name.
	Cluster string
	// Addons in sync order, then removed add-ons.
	Addons []AddonPlan
}

// Err joins the errors of the plan: add-ons that cannot be synced and refused prunes.
func (p *Plan) Err() error {
	var errs []error
	for _, a := range p.Addons {
		if a.Err != nil {
			errs = append(errs, a.Err)
		}
		if a.PruneRefused != nil {
			errs = append(errs, a.PruneRefused)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("cluster %q: %w", p.Cluster, errors.Join(errs...))
}

// Decide is the planner: from the gathered state alone, without I/O, it decides per object
// create, configure, unchanged, adopt, prune or keep, per add-on the hook phase and the
// release record, and applies the prune limits. Diff renders its result, sync --dry-run
// prints it and sync executes it.
func Decide(in PlanInput) *Plan {
	plan := &Plan{Cluster: in.Cluster}
	renderedBy := renderedObjects(in.Addons)
	crdKinds := renderedKinds(in.Addons)
	created := createdNamespaces(in.Addons)
	for i := range in.Addons {
		plan.Addons = append(plan.Addons, decideAddon(&in.Addons[i], renderedBy, crdKinds, created, in.Options))
	}
	if !in.Options.Partial && in.Options.Prune {
		for i := range in.Removed {
			plan.Addons = append(plan.Addons, decideRemoved(&in.Removed[i], renderedBy, in.Options))
		}
	}
	return plan
}

// renderedObjects maps every rendered object to the add-on rendering it.
func renderedObjects(addons []AddonState) map[ObjectID]string {
	out := map[ObjectID]string{}
	for _, a := range addons {
		for _, o := range a.Objects {
			if _, dup := out[IDOf(o.Desired)]; !dup {
				out[IDOf(o.Desired)] = a.Addon.Name
			}
		}
	}
	return out
}

// createdNamespaces are the namespaces a sync of the add-ons creates if missing: rendered
// Namespaces and each add-on's own namespace.
func createdNamespaces(addons []AddonState) map[string]bool {
	out := map[string]bool{}
	for _, a := range addons {
		if ns := addonNamespace(a.Addon); ns != "" {
			out[ns] = true
		}
		for _, o := range a.Objects {
			if IDOf(o.Desired).GroupKind() == gkNamespace {
				out[o.Desired.GetName()] = true
			}
		}
	}
	return out
}

// renderedKinds are the kinds defined by CRDs the render has.
func renderedKinds(addons []AddonState) map[schema.GroupKind]bool {
	out := map[schema.GroupKind]bool{}
	for _, a := range addons {
		for _, o := range a.Objects {
			if o.Desired.GroupVersionKind().GroupKind() != gkCRD {
				continue
			}
			group, _, _ := unstructured.NestedString(o.Desired.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(o.Desired.Object, "spec", "names", "kind")
			out[schema.GroupKind{Group: group, Kind: kind}] = true
		}
	}
	return out
}

// decideAddon plans one rendered add-on.
func decideAddon(a *AddonState, renderedBy map[ObjectID]string, crdKinds map[schema.GroupKind]bool, created map[string]bool, o PlanOptions) AddonPlan {
	ap := AddonPlan{Addon: a.Addon.Name, Namespace: addonNamespace(a.Addon)}
	if a.Record != nil {
		ap.OldRecord = *a.Record
	}
	var errs []error
	ap.CreateNamespace, errs = decideNamespaces(a, created)
	for _, os := range a.Objects {
		step, err := decideObject(a, os, renderedBy, crdKinds, o.FieldManager)
		if err != nil {
			errs = append(errs, err)
		}
		ap.Objects = append(ap.Objects, step)
	}
	if len(errs) > 0 {
		ap.Err = fmt.Errorf("add-on %q: %w", a.Addon.Name, errors.Join(errs...))
		return ap
	}
	ap.Hooks = decideHooks(a.Record, a.Digest)
	ap.Record = nextRecord(a, ap.Hooks)
	decideHelm(a, &ap, renderedBy)
	if o.Prune && !a.Addon.Spec.Prune.Disabled {
		ap.Prune, ap.PruneRefused = decidePrune(a.Addon.Name, a.Inventory, renderedBy,
			a.Addon.Spec.Prune, effectiveLimit(o.PruneLimits, a.Addon.Spec.Prune.Limits, o.MaxPrune))
	}
	return ap
}

// decideNamespaces tells whether the add-on namespace is to be created, and refuses objects
// in a namespace that neither exists nor is created by this sync (created: rendered
// Namespaces and add-on namespaces of the cluster's add-ons).
func decideNamespaces(a *AddonState, created map[string]bool) (bool, []error) {
	rendered := map[string]bool{}
	for _, o := range a.Objects {
		if IDOf(o.Desired).GroupKind() == gkNamespace {
			rendered[o.Desired.GetName()] = true
		}
	}
	own := addonNamespace(a.Addon)
	create := false
	if own != "" && !rendered[own] {
		st := a.Namespaces[own]
		if st.Terminating {
			return false, []error{fmt.Errorf("namespace %q: terminating; wait until it is gone and sync again", own)}
		}
		create = !st.Exists
	}
	var errs []error
	seen := map[string]bool{}
	for _, o := range a.Objects {
		ns := o.Desired.GetNamespace()
		if ns == "" || ns == own || rendered[ns] || created[ns] || seen[ns] {
			continue
		}
		seen[ns] = true
		st := a.Namespaces[ns]
		switch {
		case st.Terminating:
			errs = append(errs, fmt.Errorf("namespace %q: terminating; wait until it is gone and sync again", ns))
		case !st.Exists:
			errs = append(errs, fmt.Errorf("%s: namespace %q does not exist and this sync does not create it; render the Namespace or set the add-on's namespace", IDOf(o.Desired), ns))
		}
	}
	return create, errs
}
