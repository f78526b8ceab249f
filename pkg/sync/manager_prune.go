package sync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/addonsync/addonsync/pkg/render"
)

// pruneAll executes the prune steps of every synced add-on, then removes every add-on the
// cluster no longer renders. Failures of one add-on do not stop the others.
func (m *Manager) pruneAll(ctx context.Context, c *render.Cluster, runs []*addonRun, removed []AddonPlan, res *Result, o SyncOptions) error {
	var errs []error
	for i, r := range runs {
		if !o.Prune || r.addon.Spec.Prune.Disabled {
			continue
		}
		start := time.Now()
		err := m.pruneAddon(ctx, r, o)
		res.Addons[i].ChangeSet = r.changes
		res.Addons[i].Duration += time.Since(start)
		if err != nil {
			res.Addons[i].Err = err
			errs = append(errs, err)
		}
	}
	for i := range removed {
		ap := &removed[i]
		start := time.Now()
		o.Progress(Event{Type: EventAddonStarted, Addon: ap.Addon})
		cs, err := m.removeAddon(ctx, ap, o)
		res.Addons = append(res.Addons, AddonResult{Addon: ap.Addon, ChangeSet: cs, Duration: time.Since(start), Err: err, Removed: true})
		o.Progress(Event{Type: EventAddonFinished, Addon: ap.Addon, Result: &res.Addons[len(res.Addons)-1]})
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cluster %q: prune: %w", c.Name, err)
	}
	return nil
}

// pruneAddon executes the planned prune (refused as a whole when over the limit) and
// narrows the parent to the new set.
func (m *Manager) pruneAddon(ctx context.Context, r *addonRun, o SyncOptions) error {
	if r.plan.PruneRefused != nil {
		return r.plan.PruneRefused
	}
	steps := append(append([]ObjectStep(nil), r.plan.Prune...), helmLeftoverPrunes(r.plan)...)
	entries, err := m.executePrune(ctx, r.addon.Name, steps, o)
	r.changes.Add(entries...)
	if err != nil {
		return fmt.Errorf("add-on %q: %w", r.addon.Name, err)
	}
	gks, nss := scopeOf(r.objects)
	rec := r.plan.Record
	return m.writeParent(ctx, r.set, r.state.Inventory, gks, nss, &rec)
}

// executePrune deletes the prune steps stage by stage in reverse apply order (Background
// propagation) and releases the keep steps from the inventory.
func (m *Manager) executePrune(ctx context.Context, addon string, steps []ObjectStep, o SyncOptions) ([]ChangeSetEntry, error) {
	var entries []ChangeSetEntry
	var errs []error
	var del []ObjectID
	for _, s := range steps {
		if s.Verb != VerbKeep {
			del = append(del, s.ID)
			continue
		}
		e := stepEntry(addon, s)
		if err := m.release(ctx, s.ID); err != nil {
			e = newEntry(addon, s.ID, ActionFailed, err.Error())
			errs = append(errs, err)
		}
		entries = append(entries, e)
		o.Progress(Event{Type: EventPrune, Addon: addon, Entry: &e})
	}
	for _, group := range byStage(del) {
		batch := make([]ChangeSetEntry, len(group))
		berrs := make([]error, len(group))
		g := errgroup.Group{}
		g.SetLimit(m.opts.Concurrency)
		for i, id := range group {
			g.Go(func() error {
				err := ctx.Err()
				if err == nil {
					err = m.deleteObject(ctx, id)
				}
				batch[i], berrs[i] = newEntry(addon, id, ActionPruned, ""), err
				if err != nil {
					batch[i] = newEntry(addon, id, ActionFailed, err.Error())
				}
				o.Progress(Event{Type: EventPrune, Addon: addon, Entry: &batch[i]})
				return nil
			})
		}
		_ = g.Wait()
		entries = append(entries, batch...)
		if err := errors.Join(berrs...); err != nil {
			return entries, errors.Join(append(errs, err)...)
		}
	}
	return entries, errors.Join(errs...)
}

// byStage splits ids (already in deletion order) where the stage changes.
func byStage(ids []ObjectID) [][]ObjectID {
	var out [][]ObjectID
	for i, id := range ids {
		if i == 0 || stageOf(id.GroupKind()) != stageOf(ids[i-1].GroupKind()) {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], id)
	}
	return out
}

func (m *Manager) resourceForID(id ObjectID) (interface {
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions, sub ...string) error
	Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, sub ...string) (*unstructured.Unstructured, error)
}, error,
) {
	mapping, err := m.mapper.RESTMapping(id.GroupKind())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return m.dynamic.Resource(mapping.Resource).Namespace(id.Namespace), nil
	}
	return m.dynamic.Resource(mapping.Resource), nil
}

// deleteObject deletes one object with Background propagation; a missing object is fine.
func (m *Manager) deleteObject(ctx context.Context, id ObjectID) error {
	ri, err := m.resourceForID(id)
	if err != nil {
		return err
	}
	bg := metav1.DeletePropagationBackground
	if err := ri.Delete(ctx, id.Name, metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("%s: prune failed: %w", id, err)
	}
	return nil
}

// release removes the part-of label from a kept object, so it leaves the inventory.
func (m *Manager) release(ctx context.Context, id ObjectID) error {
	ri, err := m.resourceForID(id)
	if err != nil {
		return err
	}
	patch := []byte(`{"metadata":{"labels":{"` + LabelApplySetPartOf + `":null}}}`)
	_, err = ri.Patch(ctx, id.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: m.opts.FieldManager + "-prune"})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("%s: releasing kept object from the inventory failed: %w", id, err)
	}
	return nil
}

// inventoryListKeys are the lists that find an inventory's members: each recorded group-kind
// once per recorded namespace, once cluster-wide for cluster-scoped kinds. Kinds the server no
// longer serves (their CRD was deleted, and so were their objects) are left out.
func (m *Manager) inventoryListKeys(inv *Inventory) ([]listKey, error) {
	var keys []listKey
	for _, gk := range inv.GroupKinds {
		mapping, err := m.mapper.RESTMapping(gk)
		if meta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("inventory %s: %s: %w", inv.Parent, gk, err)
		}
		gvk := mapping.GroupVersionKind
		if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
			keys = append(keys, listKey{gvk: gvk})
			continue
		}
		for _, ns := range inv.Namespaces {
			keys = append(keys, listKey{gvk: gvk, namespace: ns})
		}
	}
	return keys, nil
}

// listInventory lists the members of an inventory: each group-kind once per recorded
// namespace (once cluster-wide for cluster-scoped kinds), skipping lists already made.
func (m *Manager) listInventory(ctx context.Context, inv *Inventory, skip map[listKey]bool) ([]*unstructured.Unstructured, error) {
	keys, err := m.inventoryListKeys(inv)
	if err != nil {
		return nil, err
	}
	results := make([][]*unstructured.Unstructured, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.opts.Concurrency)
	for i, k := range keys {
		if skip[listKey{gvk: k.gvk.GroupKind().WithVersion(""), namespace: k.namespace}] {
			continue
		}
		g.Go(func() error {
			objs, err := m.listMembers(gctx, inv.ID, k)
			results[i] = objs
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("inventory %s: %w", inv.Parent, err)
	}
	var out []*unstructured.Unstructured
	for _, objs := range results {
		out = append(out, objs...)
	}
	return out, nil
}

// removeAddon executes the plan of a removed add-on: its members, its last hook objects, the
// namespace addonsync created for it (when its prune policy allowed that), then its parent.
func (m *Manager) removeAddon(ctx context.Context, ap *AddonPlan, o SyncOptions) (ChangeSet, error) {
	var cs ChangeSet
	if ap.PruneRefused != nil {
		return cs, ap.PruneRefused
	}
	entries, err := m.executePrune(ctx, ap.Addon, ap.Prune, o)
	cs.Add(entries...)
	if err != nil {
		return cs, fmt.Errorf("removed add-on %q: %w", ap.Addon, err)
	}
	extra := append([]ObjectID{}, ap.DeleteHooks...)
	if ap.DeleteNamespace != "" {
		extra = append(extra, ObjectID{Kind: "Namespace", Name: ap.DeleteNamespace})
	}
	for _, id := range extra {
		if err := m.deleteObject(ctx, id); err != nil {
			return cs, fmt.Errorf("removed add-on %q: %w", ap.Addon, err)
		}
		e := newEntry(ap.Addon, id, ActionDeleted, "removed with the add-on")
		cs.Add(e)
		o.Progress(Event{Type: EventPrune, Addon: ap.Addon, Entry: &e})
	}
	parent := m.applySetFor(ap.Addon).parent
	bg := metav1.DeletePropagationBackground
	err = m.dynamic.Resource(configMapGVR).Namespace(parent.Namespace).Delete(ctx, parent.Name, metav1.DeleteOptions{PropagationPolicy: &bg})
	if err != nil && !apierrors.IsNotFound(err) {
		return cs, fmt.Errorf("removed add-on %q: inventory %s: delete failed: %w", ap.Addon, parent, err)
	}
	return cs, nil
}
