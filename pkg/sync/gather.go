package sync

import (
	"context"
	"fmt"
	gosync "sync"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
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

// gather reads what the planner needs, and nothing more: per add-on the parent (with the
// release record), one LIST per kind and namespace of the rendered and recorded kinds, a GET
// per rendered object that is not a member (it may exist unlabelled; one unfiltered LIST
// per kind and namespace where many are not), a GET per namespace no
// object was found in, and the dry-run applies the policy asks for. A no-op sync of an
// unchanged cluster therefore reads the parents and lists, and writes nothing.
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
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, a := range addons {
		g.Go(func() error {
			st, err := m.gatherAddon(gctx, a, scopes, releases.Find(releaseNameOf(a), addonNamespace(a)), o)
			if err != nil {
				return fmt.Errorf("add-on %q: %w", a.Name, err)
			}
			in.Addons[i] = *st
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("cluster %q: %w", c.Name, err)
	}
	if o.removed {
		removed, err := m.gatherRemoved(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("cluster %q: %w", c.Name, err)
		}
		in.Removed = removed
	}
	return in, nil
}

// gatherAddon reads one add-on's live state.
func (m *Manager) gatherAddon(ctx context.Context, a *render.Addon, scopes map[schema.GroupKind]bool, rel *helmrelease.Release, o gatherOptions) (*AddonState, error) {
	r := &addonRun{addon: a, crdScopes: scopes}
	if err := m.prepare(ctx, r); err != nil {
		return nil, err
	}
	adoption, err := planAdoption(a, rel, r.objects, o.pruneHelmLeftovers)
	if err != nil {
		return nil, err
	}
	inv, err := m.readParent(ctx, r.set)
	if err != nil {
		return nil, err
	}
	st := &AddonState{Addon: a, Inventory: inv, Record: inv.Record, Objects: make([]ObjectState, len(r.objects)), Helm: adoption}
	members, err := m.listAddon(ctx, r.set.id, r.objects, inv)
	if err != nil {
		return nil, err
	}
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
	if st.Namespaces, err = m.readNamespaces(ctx, a, st.Objects); err != nil {
		return nil, err
	}
	m.dryRunObjects(ctx, a, st, o.dryRun)
	st.Digest = addonDigest(st.Objects, a.Hooks)
	return st, nil
}

// listAddon lists the add-on's members: each rendered and each recorded kind once per
// namespace (once cluster-wide for cluster-scoped kinds).
func (m *Manager) listAddon(ctx context.Context, id string, objs []*unstructured.Unstructured, inv *Inventory) ([]*unstructured.Unstructured, error) {
	type gkns struct {
		gk schema.GroupKind
		ns string
	}
	seen := map[gkns]bool{}
	var keys []listKey
	add := func(gvk schema.GroupVersionKind, ns string) {
		k := gkns{gvk.GroupKind(), ns}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, listKey{gvk: gvk, namespace: ns})
		}
	}
	for _, o := range objs {
		add(o.GroupVersionKind(), o.GetNamespace())
	}
	for _, gk := range inv.GroupKinds {
		mapping, err := m.mapper.RESTMapping(gk)
		if meta.IsNoMatchError(err) {
			continue // the kind is gone (its CRD was deleted), and so are its objects
		}
		if err != nil {
			return nil, fmt.Errorf("inventory %s: %s: %w", inv.Parent, gk, err)
		}
		if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
			add(mapping.GroupVersionKind, "")
			continue
		}
		for _, ns := range inv.Namespaces {
			add(mapping.GroupVersionKind, ns)
		}
	}
	results := make([][]*unstructured.Unstructured, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.opts.Concurrency)
	for i, k := range keys {
		g.Go(func() error {
			objs, err := m.listMembers(gctx, id, k)
			results[i] = objs
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, r := range results {
		out = append(out, r...)
	}
	return out, nil
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
// it exists; a namespace an object was found in needs no request.
func (m *Manager) readNamespaces(ctx context.Context, a *render.Addon, objs []ObjectState) (map[string]NamespaceState, error) {
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
	var missing []string
	for _, ns := range names {
		if !out[ns].Exists {
			missing = append(missing, ns)
		}
	}
	var mu gosync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.opts.Concurrency)
	for _, ns := range missing {
		g.Go(func() error {
			live, err := m.dynamic.Resource(namespaceGVR).Get(gctx, ns, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("namespace %q: read failed: %w", ns, err)
			}
			phase, _, _ := unstructured.NestedString(live.Object, "status", "phase")
			mu.Lock()
			defer mu.Unlock()
			if phase == string(corev1.NamespaceTerminating) {
				out[ns] = NamespaceState{Terminating: true}
			} else {
				out[ns] = NamespaceState{Exists: true}
			}
			return nil
		})
	}
	return out, g.Wait()
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

// gatherRemoved reads the add-ons whose parent is in the inventory namespace but which the
// cluster no longer renders.
func (m *Manager) gatherRemoved(ctx context.Context, c *render.Cluster) ([]RemovedState, error) {
	rendered := map[string]bool{}
	for _, a := range c.Addons {
		rendered[a.Name] = true
	}
	list, err := m.dynamic.Resource(configMapGVR).Namespace(m.opts.InventoryNamespace).List(ctx,
		metav1.ListOptions{LabelSelector: LabelApplySetID + "," + render.LabelAddon})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inventory namespace %q: list parents: %w", m.opts.InventoryNamespace, err)
	}
	var out []RemovedState
	for _, p := range list.Items {
		addon := p.GetLabels()[render.LabelAddon]
		if rendered[addon] || p.GetName() != ParentPrefix+addon {
			continue
		}
		inv, err := m.Inventory(ctx, addon)
		if err != nil {
			return nil, fmt.Errorf("removed add-on %q: %w", addon, err)
		}
		out = append(out, RemovedState{Inventory: inv, Record: inv.Record})
	}
	return out, nil
}
