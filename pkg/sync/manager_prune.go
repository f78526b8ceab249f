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

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

// pruneAll prunes every synced add-on, then every add-on no longer rendered (unless the render
// is partial). Failures of one add-on do not stop the others.
func (m *Manager) pruneAll(ctx context.Context, c *render.Cluster, runs []*addonRun, res *Result, o SyncOptions) error {
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
	if o.Prune && !o.Partial {
		removed, err := m.pruneRemoved(ctx, c, o)
		res.Addons = append(res.Addons, removed...)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cluster %q: prune: %w", c.Name, err)
	}
	return nil
}

// pruneAddon deletes the members the render lacks and narrows the parent to the new set.
func (m *Manager) pruneAddon(ctx context.Context, r *addonRun, o SyncOptions) error {
	skip := map[listKey]bool{}
	for k := range r.listed {
		skip[listKey{gvk: k.gvk.GroupKind().WithVersion(""), namespace: k.namespace}] = true
	}
	more, err := m.listInventory(ctx, r.inv, skip)
	if err != nil {
		return fmt.Errorf("add-on %q: prune: %w", r.addon.Name, err)
	}
	objs := append(liveValues(r), more...)
	r.inv.Members = membersOf(objs)
	plan := PruneCandidates(r.inv, r.objects, r.addon.Spec.Prune)
	limit := effectiveLimit(o.PruneLimits, r.addon.Spec.Prune.Limits, o.MaxPrune)
	if err := limit.check(r.addon.Name, len(plan.Delete), len(r.inv.Members)); err != nil {
		return err
	}
	entries, err := m.executePrune(ctx, r.addon.Name, plan, o)
	r.changes.Add(entries...)
	if err != nil {
		return fmt.Errorf("add-on %q: %w", r.addon.Name, err)
	}
	gks, nss := scopeOf(r.objects)
	return m.writeParent(ctx, r.set, r.inv, gks, nss, o.DryRun)
}

func liveValues(r *addonRun) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, 0, len(r.live))
	for _, o := range r.live {
		out = append(out, o)
	}
	return out
}

// executePrune deletes plan.Delete stage by stage in reverse apply order (Background
// propagation) and releases plan.Keep from the inventory. In a dry run nothing is written.
func (m *Manager) executePrune(ctx context.Context, addon string, plan PrunePlan, o SyncOptions) ([]ChangeSetEntry, error) {
	var entries []ChangeSetEntry
	var errs []error
	for _, k := range plan.Keep {
		e := newEntry(addon, k.ID, ActionSkipped, "kept: "+k.Reason)
		if !o.DryRun {
			if err := m.release(ctx, k.ID); err != nil {
				e = newEntry(addon, k.ID, ActionFailed, err.Error())
				errs = append(errs, err)
			}
		}
		entries = append(entries, e)
		o.Progress(Event{Type: EventPrune, Addon: addon, Entry: &e})
	}
	for _, group := range byStage(plan.Delete) {
		batch := make([]ChangeSetEntry, len(group))
		berrs := make([]error, len(group))
		g := errgroup.Group{}
		g.SetLimit(m.opts.Concurrency)
		for i, id := range group {
			g.Go(func() error {
				err := ctx.Err()
				if err == nil && !o.DryRun {
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

// listInventory lists the members of an inventory: each group-kind once per recorded
// namespace (once cluster-wide for cluster-scoped kinds), skipping lists already made.
func (m *Manager) listInventory(ctx context.Context, inv *Inventory, skip map[listKey]bool) ([]*unstructured.Unstructured, error) {
	var keys []listKey
	for _, gk := range inv.GroupKinds {
		mapping, err := m.mapper.RESTMapping(gk)
		if meta.IsNoMatchError(err) {
			continue // the kind is gone (its CRD was deleted), and so are its objects
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

// pruneRemoved prunes every add-on whose parent is in the inventory namespace but which the
// cluster no longer renders, then deletes its parent. Only the count limit applies: removing
// an add-on removes all of it by intent.
func (m *Manager) pruneRemoved(ctx context.Context, c *render.Cluster, o SyncOptions) ([]AddonResult, error) {
	rendered := map[string]bool{}
	for _, a := range c.Addons {
		rendered[a.Name] = true
	}
	list, err := m.dynamic.Resource(configMapGVR).Namespace(m.opts.InventoryNamespace).List(ctx,
		metav1.ListOptions{LabelSelector: LabelApplySetID + "," + render.LabelAddon})
	if err != nil {
		return nil, fmt.Errorf("inventory namespace %q: list parents: %w", m.opts.InventoryNamespace, err)
	}
	var results []AddonResult
	var errs []error
	for _, p := range list.Items {
		addon := p.GetLabels()[render.LabelAddon]
		if rendered[addon] || p.GetName() != ParentPrefix+addon {
			continue
		}
		start := time.Now()
		o.Progress(Event{Type: EventAddonStarted, Addon: addon})
		cs, err := m.removeAddon(ctx, addon, o)
		results = append(results, AddonResult{Addon: addon, ChangeSet: cs, Duration: time.Since(start), Err: err, Removed: true})
		o.Progress(Event{Type: EventAddonFinished, Addon: addon, Result: &results[len(results)-1]})
		errs = append(errs, err)
	}
	return results, errors.Join(errs...)
}

// removeAddon prunes all of a removed add-on's members, then its parent.
func (m *Manager) removeAddon(ctx context.Context, addon string, o SyncOptions) (ChangeSet, error) {
	var cs ChangeSet
	inv, err := m.Inventory(ctx, addon)
	if err != nil {
		return cs, fmt.Errorf("removed add-on %q: %w", addon, err)
	}
	plan := PruneCandidates(inv, nil, config.PrunePolicy{})
	limit := effectiveLimit(o.PruneLimits, config.PruneLimits{}, o.MaxPrune)
	limit.maxPercent = -1
	if err := limit.check(addon, len(plan.Delete), len(inv.Members)); err != nil {
		return cs, err
	}
	entries, err := m.executePrune(ctx, addon, plan, o)
	cs.Add(entries...)
	if err != nil {
		return cs, fmt.Errorf("removed add-on %q: %w", addon, err)
	}
	if o.DryRun {
		return cs, nil
	}
	bg := metav1.DeletePropagationBackground
	err = m.dynamic.Resource(configMapGVR).Namespace(inv.Parent.Namespace).Delete(ctx, inv.Parent.Name, metav1.DeleteOptions{PropagationPolicy: &bg})
	if err != nil && !apierrors.IsNotFound(err) {
		return cs, fmt.Errorf("removed add-on %q: inventory %s: delete failed: %w", addon, inv.Parent, err)
	}
	return cs, nil
}
