package sync

import (
	"errors"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/pkg/config"
)

// decidePrune plans the prune of an add-on: members no add-on of the render has (an object
// another add-on renders is adopted there, not pruned), minus those the rules keep, refused
// as a whole when over the limit.
func decidePrune(addon string, inv *Inventory, renderedBy map[ObjectID]string, p config.PrunePolicy, limit pruneLimit) ([]ObjectStep, *PruneLimitError) {
	if inv == nil || len(inv.Members) == 0 {
		return nil, nil
	}
	var rendered []*unstructured.Unstructured
	for _, m := range inv.Members {
		if renderedBy[m.ID] != "" {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(m.ID.GroupKind().WithVersion("v"))
			u.SetNamespace(m.ID.Namespace)
			u.SetName(m.ID.Name)
			rendered = append(rendered, u)
		}
	}
	plan := PruneCandidates(inv, rendered, p)
	var steps []ObjectStep
	for _, k := range plan.Keep {
		steps = append(steps, ObjectStep{ID: k.ID, Verb: VerbKeep, Reason: "kept: " + k.Reason})
	}
	for _, id := range plan.Delete {
		steps = append(steps, ObjectStep{ID: id, Verb: VerbPrune, Reason: reasonNotRendered})
	}
	var refused *PruneLimitError
	if err := limit.check(addon, len(plan.Delete), len(inv.Members)); err != nil {
		errors.As(err, &refused)
	}
	return steps, refused
}

// decideRemoved plans an add-on the cluster no longer runs: all its members go (those
// another add-on now renders excepted: a renamed add-on adopts them), its last hook objects,
// the namespace addonsync created for it when its prune policy allowed that, and its parent.
// Only the count limit applies: removing an add-on removes all of it by intent.
func decideRemoved(r *RemovedState, renderedBy map[ObjectID]string, o PlanOptions) AddonPlan {
	ap := AddonPlan{Addon: r.Inventory.Addon, Removed: true}
	if r.Record != nil {
		ap.OldRecord = *r.Record
		for _, s := range splitList(r.Record.Hooks) {
			if id, ok := parseID(s); ok {
				ap.DeleteHooks = append(ap.DeleteHooks, id)
			}
		}
		if r.Record.PruneNamespace {
			ap.DeleteNamespace = r.Record.Namespace
		}
	}
	limit := effectiveLimit(o.PruneLimits, config.PruneLimits{}, o.MaxPrune)
	limit.maxPercent = -1
	steps, refused := decidePrune(ap.Addon, r.Inventory, renderedBy, config.PrunePolicy{}, limit)
	for i := range steps {
		if steps[i].Verb == VerbPrune {
			steps[i].Reason = reasonRemovedAddon
		}
	}
	ap.Prune, ap.PruneRefused = steps, refused
	return ap
}
