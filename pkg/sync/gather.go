package sync

import (
	"context"
	"fmt"
	"sort"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/addonsync/addonsync/pkg/helmrelease"
	"github.com/addonsync/addonsync/pkg/render"
)

// gatherOptions say how much the gather step reads.
type gatherOptions struct {
	// dryRun selects the objects that get a server-side dry-run apply.
	dryRun dryRunPolicy
	// removed gathers the add-ons the cluster no longer renders.
	removed bool
	// pruneHelmLeftovers is SyncOptions.PruneHelmLeftovers (false when not pruning).
	pruneHelmLeftovers bool
}

// dryRunPolicy says which objects the gather step dry-runs.
type dryRunPolicy int

const (
	// dryRunUndecided: only members the cheap check cannot decide (sync).
	dryRunUndecided dryRunPolicy = iota
	// dryRunChanged: every object that is not unchanged, for its diff (diff).
	dryRunChanged
	// dryRunAll: every object (diff --dry-run-all).
	dryRunAll
)

// gather reads what the planner needs, and nothing more: the parents (with the release
// records) with one LIST of the inventory namespace, the members of every add-on with one
// LIST per kind of the rendered and recorded kinds (gather_lists.go), a GET per rendered
// object that is not a member (it may exist unlabelled; one unfiltered LIST per kind and
// namespace where many are not), one LIST of the namespaces if any namespace holds none of
// the objects found, and the dry-run applies the policy asks for. A no-op sync of an
// unchanged cluster therefore sends one LIST per kind and one for the parents, and writes
// nothing.
func (m *Manager) gather(ctx context.Context, c *render.Cluster, addons []*render.Addon, po PlanOptions, o gatherOptions) (*PlanInput, error) {
	in := &PlanInput{Cluster: c.Name, Options: po, Addons: make([]AddonState, len(addons))}
	scopes := map[schema.GroupKind]bool{}
	for _, a := range c.Addons {
		for gk, ns := range renderedCRDScopes(a.Objects) {
			scopes[gk] = ns
		}
	}
	releases, err := m.listHelmReleases(ctx)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: %w", c.Name, err)
	}
	runs, invs, removed, err := m.gatherParents(ctx, c, addons, scopes, o)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: %w", c.Name, err)
	}
	qs := make([]memberQuery, 0, len(runs)+len(removed))
	for i, r := range runs {
		keys, err := m.addonKeys(r.objects, invs[i])
		if err != nil {
			return nil, fmt.Errorf("cluster %q: add-on %q: %w", c.Name, r.addon.Name, err)
		}
		qs = append(qs, memberQuery{id: r.set.id, keys: keys})
	}
	for _, inv := range removed {
		keys, err := m.addonKeys(nil, inv)
		if err != nil {
			return nil, fmt.Errorf("cluster %q: removed add-on %q: %w", c.Name, inv.Addon, err)
		}
		qs = append(qs, memberQuery{id: inv.ID, keys: keys})
	}
	members, err := m.listMembersOf(ctx, qs)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: %w", c.Name, err)
	}
	for i, inv := range removed {
		inv.Members = membersOf(members[len(runs)+i])
		in.Removed = append(in.Removed, RemovedState{Inventory: inv, Record: inv.Record})
	}
	nss := &namespaceSnapshot{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, r := range runs {
		g.Go(func() error {
			st, err := m.gatherAddon(gctx, r, invs[i], members[i], releases.Find(releaseNameOf(r.addon), addonNamespace(r.addon)), nss, o)
			if err != nil {
				return fmt.Errorf("add-on %q: %w", r.addon.Name, err)
			}
			in.Addons[i] = *st
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("cluster %q: %w", c.Name, err)
	}
	return in, nil
}

// gatherParents prepares the add-ons and reads their parents, and those of the add-ons the
// cluster no longer renders when o.removed, from one LIST.
func (m *Manager) gatherParents(ctx context.Context, c *render.Cluster, addons []*render.Addon, scopes map[schema.GroupKind]bool, o gatherOptions) ([]*addonRun, []*Inventory, []*Inventory, error) {
	runs := make([]*addonRun, len(addons))
	var g errgroup.Group
	g.SetLimit(4)
	for i, a := range addons {
		runs[i] = &addonRun{addon: a, crdScopes: scopes}
		g.Go(func() error {
			if err := m.prepare(ctx, runs[i]); err != nil {
				return fmt.Errorf("add-on %q: %w", a.Name, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, nil, err
	}
	parents, err := m.listParents(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	invs := make([]*Inventory, len(runs))
	for i, r := range runs {
		if invs[i], err = parentFrom(r.set, parents[r.set.parent.Name]); err != nil {
			return nil, nil, nil, fmt.Errorf("add-on %q: %w", r.addon.Name, err)
		}
	}
	if !o.removed {
		return runs, invs, nil, nil
	}
	removed, err := m.removedParents(c, parents)
	return runs, invs, removed, err
}

// gatherAddon reads one add-on's live state from its parent and members.
func (m *Manager) gatherAddon(ctx context.Context, r *addonRun, inv *Inventory, members []*unstructured.Unstructured, rel *helmrelease.Release, nss *namespaceSnapshot, o gatherOptions) (*AddonState, error) {
	a := r.addon
	adoption, err := planAdoption(a, rel, r.objects, o.pruneHelmLeftovers)
	if err != nil {
		return nil, err
	}
	st := &AddonState{Addon: a, Inventory: inv, Record: inv.Record, Objects: make([]ObjectState, len(r.objects)), Helm: adoption}
	inv.Members = membersOf(members)
	byID := make(map[ObjectID]*unstructured.Unstructured, len(members))
	for _, u := range members {
		byID[IDOf(u)] = u
	}
	for i, obj := range r.objects {
		os := ObjectState{Desired: obj, Live: byID[IDOf(obj)]}
		os.Member = os.Live != nil
		_, err := m.mapper.RESTMapping(obj.GroupVersionKind().GroupKind(), obj.GroupVersionKind().Version)
		os.Unserved = meta.IsNoMatchError(err)
		st.Objects[i] = os
	}
	if err := m.readNonMembers(ctx, st.Objects); err != nil {
		return nil, err
	}
	if st.Namespaces, err = m.readNamespaces(ctx, a, st.Objects, nss); err != nil {
		return nil, err
	}
	m.dryRunObjects(ctx, a, st, o.dryRun)
	st.Digest = addonDigest(st.Objects, a.Hooks)
	return st, nil
}

// listAllThreshold is how many non-members of one kind and namespace are read with one
// unfiltered LIST instead of a GET each (a first sync of a large add-on).
const listAllThreshold = 8

// readNonMembers reads the rendered objects that are not members: they may exist, made by
// hand, by Helm or by another add-on. Per kind and namespace a few are read by name, many
// with one LIST.
func (m *Manager) readNonMembers(ctx context.Context, objs []ObjectState) error {
	groups := map[listKey][]*ObjectState{}
	var keys []listKey
	for i := range objs {
		os := &objs[i]
		if os.Member || os.Unserved {
			continue
		}
		k := listKey{gvk: os.Desired.GroupVersionKind(), namespace: os.Desired.GetNamespace()}
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], os)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.opts.Concurrency)
	for _, k := range keys {
		if len(groups[k]) >= listAllThreshold {
			g.Go(func() error { return m.listNonMembers(gctx, k, groups[k]) })
			continue
		}
		for _, os := range groups[k] {
			g.Go(func() error { return m.getNonMember(gctx, os) })
		}
	}
	return g.Wait()
}

func (m *Manager) getNonMember(ctx context.Context, os *ObjectState) error {
	ri, err := m.resourceFor(os.Desired)
	if err != nil {
		return fmt.Errorf("%s: %w", IDOf(os.Desired), err)
	}
	live, err := ri.Get(ctx, os.Desired.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: read failed: %w", IDOf(os.Desired), err)
	}
	os.Live, os.Owner = live, ownerOf(live)
	return nil
}

// listNonMembers lists one kind in one namespace without a selector and picks the objects.
func (m *Manager) listNonMembers(ctx context.Context, k listKey, objs []*ObjectState) error {
	ri, err := m.resourceFor(objs[0].Desired)
	if err != nil {
		return fmt.Errorf("%s: %w", IDOf(objs[0].Desired), err)
	}
	list, err := ri.List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s in %q: %w", k.gvk.Kind, k.namespace, err)
	}
	byName := make(map[string]*unstructured.Unstructured, len(list.Items))
	for i := range list.Items {
		byName[list.Items[i].GetName()] = &list.Items[i]
	}
	for _, os := range objs {
		if live := byName[os.Desired.GetName()]; live != nil {
			os.Live, os.Owner = live, ownerOf(live)
		}
	}
	return nil
}

// ownerOf says who holds an object that is not a member of the add-on.
func ownerOf(u *unstructured.Unstructured) string {
	switch {
	case u.GetLabels()[LabelApplySetPartOf] != "":
		return "ApplySet " + u.GetLabels()[LabelApplySetPartOf]
	case u.GetLabels()["app.kubernetes.io/managed-by"] == "Helm":
		return fmt.Sprintf("Helm release %q", u.GetAnnotations()["meta.helm.sh/release-name"])
	}
	for _, mf := range u.GetManagedFields() {
		return fmt.Sprintf("field manager %q", mf.Manager)
	}
	return ""
}

// readNamespaces tells, for the add-on namespace and every namespace of its objects, whether
// it exists; a namespace an object was found in needs no request, the others are looked up
// in the namespaces listed once for all add-ons.
func (m *Manager) readNamespaces(ctx context.Context, a *render.Addon, objs []ObjectState, nss *namespaceSnapshot) (map[string]NamespaceState, error) {
	out := map[string]NamespaceState{}
	var names []string
	want := func(ns string) {
		if _, ok := out[ns]; ns != "" && !ok {
			out[ns] = NamespaceState{}
			names = append(names, ns)
		}
	}
	want(addonNamespace(a))
	for _, o := range objs {
		want(o.Desired.GetNamespace())
	}
	for _, o := range objs {
		if o.Live != nil && o.Live.GetNamespace() != "" {
			out[o.Live.GetNamespace()] = NamespaceState{Exists: true}
		}
	}
	for _, ns := range names {
		if out[ns].Exists {
			continue
		}
		listed, err := nss.get(ctx, m)
		if err != nil {
			return nil, err
		}
		out[ns] = listed[ns]
	}
	return out, nil
}

// dryRunObjects dry-run applies the objects the policy selects, with the sync's field
// manager and force; results and errors go into the object states.
func (m *Manager) dryRunObjects(ctx context.Context, a *render.Addon, st *AddonState, policy dryRunPolicy) {
	var g errgroup.Group
	g.SetLimit(m.opts.Concurrency)
	for i := range st.Objects {
		os := &st.Objects[i]
		if !m.wantsDryRun(st, os, policy) {
			continue
		}
		g.Go(func() error {
			ri, err := m.resourceFor(os.Desired)
			if err == nil {
				os.DryRun, err = m.applyObj(ctx, ri, os.Desired, forceConflicts(a), true)
			}
			os.DryRunErr = err
			return nil
		})
	}
	_ = g.Wait()
}

func (m *Manager) wantsDryRun(st *AddonState, os *ObjectState, policy dryRunPolicy) bool {
	if os.Unserved {
		return false
	}
	if ns := os.Desired.GetNamespace(); ns != "" && !st.Namespaces[ns].Exists {
		return false // created by this sync, or an error the planner reports
	}
	switch policy {
	case dryRunAll:
		return true
	case dryRunChanged:
		if !os.Member {
			return true
		}
		if needsDryRun(os, m.opts.FieldManager) {
			return true
		}
		verb, _ := objectVerdict(os, m.opts.FieldManager)
		return verb != VerbUnchanged
	case dryRunUndecided:
		if st.Helm != nil && !os.Member && os.Live != nil {
			return true // an adoption refuses immutable changes before anything is written
		}
	}
	return needsDryRun(os, m.opts.FieldManager)
}

// removedParents reads, from the listed ConfigMaps, the parents of the add-ons the cluster
// no longer renders, by name.
func (m *Manager) removedParents(c *render.Cluster, parents map[string]*unstructured.Unstructured) ([]*Inventory, error) {
	rendered := map[string]bool{}
	for _, a := range c.Addons {
		rendered[a.Name] = true
	}
	names := make([]string, 0, len(parents))
	for name := range parents {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []*Inventory
	for _, name := range names {
		labels := parents[name].GetLabels()
		addon, ok := labels[render.LabelAddon]
		if _, hasID := labels[LabelApplySetID]; !ok || !hasID || rendered[addon] || name != ParentPrefix+addon {
			continue
		}
		inv, err := parentFrom(m.applySetFor(addon), parents[name])
		if err != nil {
			return nil, fmt.Errorf("removed add-on %q: %w", addon, err)
		}
		out = append(out, inv)
	}
	return out, nil
}
