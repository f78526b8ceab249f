package helmrelease

import (
	"sort"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/objref"
)

// Plan is how an add-on takes over its Helm release's objects. It is pure data: Classify
// and NewPlan compute it from identities only, the sync engine carries it out.
type Plan struct {
	// Adopted are objects of the release that the render has too: server-side apply takes
	// them over in place (after TransferPatch moved Helm's field ownership).
	Adopted []ObjectID
	// Leftovers are objects of the release the render lacks ("left by Helm release").
	Leftovers []Leftover
}

// Leftover is an object of the release that addonsync does not render.
type Leftover struct {
	// ID of the object.
	ID ObjectID
	// Prune is true when the sync deletes it.
	Prune bool
	// Reason says why it is kept or pruned, for diff and sync output.
	Reason string
}

// Classify splits the release's objects into those the render has too (adopted) and those
// it lacks (left by the Helm release), both sorted. Rendered objects the release lacks are
// ordinary creations and not part of either list.
func Classify(release, rendered []ObjectID) (adopted, leftovers []ObjectID) {
	inRender := make(map[ObjectID]bool, len(rendered))
	for _, id := range rendered {
		inRender[id] = true
	}
	seen := make(map[ObjectID]bool, len(release))
	for _, id := range release {
		if seen[id] {
			continue
		}
		seen[id] = true
		if inRender[id] {
			adopted = append(adopted, id)
		} else {
			leftovers = append(leftovers, id)
		}
	}
	sort.Slice(adopted, func(i, j int) bool { return objref.Less(adopted[i], adopted[j]) })
	sort.Slice(leftovers, func(i, j int) bool { return objref.Less(leftovers[i], leftovers[j]) })
	return adopted, leftovers
}

// Reasons a leftover is kept or pruned.
const (
	ReasonLeftoverPruned        = "left by Helm release, pruned (--prune-helm-leftovers)"
	ReasonLeftoverNoFlag        = "left by Helm release, kept: pass --prune-helm-leftovers to delete it"
	ReasonLeftoverPruneDisabled = "left by Helm release, kept: the add-on's prune policy is disabled"
	ReasonLeftoverResourceKeep  = "left by Helm release, kept: annotated helm.sh/resource-policy: keep"
	ReasonLeftoverNamespace     = "left by Helm release, kept: set prune.allowNamespaces to delete Namespaces"
	ReasonLeftoverCRD           = "left by Helm release, kept: set prune.allowCRDs to delete CustomResourceDefinitions"
	ReasonLeftoverVolume        = "left by Helm release, kept: set prune.allowPersistentVolumes to delete volumes"
)

// PruneLeftover decides whether a sync deletes an object left by a Helm release: only when
// the operator passed --prune-helm-leftovers (pruneHelmLeftovers) AND the add-on's prune
// policy allows deleting it (pruning not disabled, and Namespaces, CRDs and volumes only
// when their allow* switch is on), and never an object Helm itself keeps on uninstall
// (keep: helm.sh/resource-policy: keep). It returns the decision and the reason to show.
func PruneLeftover(id ObjectID, keep bool, policy config.PrunePolicy, pruneHelmLeftovers bool) (bool, string) {
	switch {
	case !pruneHelmLeftovers:
		return false, ReasonLeftoverNoFlag
	case policy.Disabled:
		return false, ReasonLeftoverPruneDisabled
	case keep:
		return false, ReasonLeftoverResourceKeep
	case id.Group == "" && id.Kind == "Namespace" && !policy.AllowNamespaces:
		return false, ReasonLeftoverNamespace
	case id.Group == "apiextensions.k8s.io" && id.Kind == "CustomResourceDefinition" && !policy.AllowCRDs:
		return false, ReasonLeftoverCRD
	case id.Group == "" && (id.Kind == "PersistentVolume" || id.Kind == "PersistentVolumeClaim") && !policy.AllowPersistentVolumes:
		return false, ReasonLeftoverVolume
	}
	return true, ReasonLeftoverPruned
}

// NewPlan classifies rel's objects against the rendered ones and decides each leftover with
// PruneLeftover. A nil rel gives an empty plan.
func NewPlan(rel *Release, rendered []ObjectID, policy config.PrunePolicy, pruneHelmLeftovers bool) Plan {
	if rel == nil {
		return Plan{}
	}
	keep := make(map[ObjectID]bool, len(rel.Keep))
	for _, id := range rel.Keep {
		keep[id] = true
	}
	adopted, left := Classify(rel.Objects, rendered)
	p := Plan{Adopted: adopted}
	for _, id := range left {
		prune, reason := PruneLeftover(id, keep[id], policy, pruneHelmLeftovers)
		p.Leftovers = append(p.Leftovers, Leftover{ID: id, Prune: prune, Reason: reason})
	}
	return p
}
