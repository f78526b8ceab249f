package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	gosync "sync"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/addonsync/addonsync/internal/jsonvalue"
)

// The gather step reads the cluster's state with requests shared by all add-ons: one LIST
// of the inventory namespace's ConfigMaps for every parent, one LIST per kind for the
// members of every add-on (a set-based part-of selector), and, if any add-on needs one, one
// LIST of the namespaces. Each add-on then sees exactly what its own per-kind and
// per-namespace lists would have returned.

// listParents lists the inventory namespace's ConfigMaps once, by name. Unfiltered: a
// ConfigMap with a parent's name but without its ApplySet label must still be seen (and
// refused by parentFrom), as a GET by name would.
func (m *Manager) listParents(ctx context.Context) (map[string]*unstructured.Unstructured, error) {
	list, err := m.dynamic.Resource(configMapGVR).Namespace(m.opts.InventoryNamespace).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inventory namespace %q: list parents: %w", m.opts.InventoryNamespace, err)
	}
	out := make(map[string]*unstructured.Unstructured, len(list.Items))
	for i := range list.Items {
		out[list.Items[i].GetName()] = &list.Items[i]
	}
	return out, nil
}

// parentFrom reads an add-on's inventory from its listed parent; nil is a missing parent.
func parentFrom(as applySet, u *unstructured.Unstructured) (*Inventory, error) {
	inv := &Inventory{Addon: as.addon, ID: as.id, Parent: as.parent}
	if u == nil {
		return inv, nil
	}
	if got := u.GetLabels()[LabelApplySetID]; got != as.id {
		return nil, fmt.Errorf("inventory %s: label %s is %q, want %q: the object is not addonsync's parent for add-on %q; rename or delete it",
			as.parent, LabelApplySetID, got, as.id, as.addon)
	}
	inv.Exists = true
	ann := u.GetAnnotations()
	inv.GroupKinds = parseGroupKinds(ann[AnnotationApplySetGroupKinds])
	inv.Namespaces = normaliseNamespaces(append(splitList(ann[AnnotationApplySetNamespaces]), as.parent.Namespace))
	if raw, ok, _ := unstructured.NestedString(u.Object, "data", DataRelease); ok {
		rec := &ReleaseRecord{}
		if err := json.Unmarshal([]byte(raw), rec); err != nil {
			return nil, fmt.Errorf("inventory %s: data.%s: %w; delete the key to start the release over", as.parent, DataRelease, err)
		}
		inv.Record = rec
	}
	return inv, nil
}

// memberQuery is what one add-on's members are: objects labelled with its ApplySet ID, of
// one of its kinds in one of its namespaces.
type memberQuery struct {
	id   string
	keys []listKey
}

// addonKeys are the lists an add-on's members come from: each rendered and each recorded kind
// once per namespace (once cluster-wide for cluster-scoped kinds).
func (m *Manager) addonKeys(objs []*unstructured.Unstructured, inv *Inventory) ([]listKey, error) {
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
	invKeys, err := m.inventoryListKeys(inv)
	if err != nil {
		return nil, err
	}
	for _, k := range invKeys {
		add(k.gvk, k.namespace)
	}
	return keys, nil
}

// selectorIDs bounds the ApplySet IDs of one set-based selector (about 60 bytes each), so
// the request URL stays short however many add-ons a cluster has.
const selectorIDs = 16

// kindList is one kind's LIST for every add-on that has it.
type kindList struct {
	gvk        schema.GroupVersionKind
	ids        map[string]bool
	namespaces map[string]bool
	items      []unstructured.Unstructured
}

// listMembersOf lists the members of every query with one LIST per kind (per kind and
// namespace when only one namespace has it), and returns per query the objects its own
// lists would have returned.
func (m *Manager) listMembersOf(ctx context.Context, qs []memberQuery) ([][]*unstructured.Unstructured, error) {
	byGVK := map[schema.GroupVersionKind]*kindList{}
	var lists []*kindList
	for _, q := range qs {
		for _, k := range q.keys {
			l := byGVK[k.gvk]
			if l == nil {
				l = &kindList{gvk: k.gvk, ids: map[string]bool{}, namespaces: map[string]bool{}}
				byGVK[k.gvk] = l
				lists = append(lists, l)
			}
			l.ids[q.id], l.namespaces[k.namespace] = true, true
		}
	}
	namespaced := make([]bool, len(lists))
	var mu gosync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.opts.Concurrency)
	for i, l := range lists {
		mapping, err := m.mapper.RESTMapping(l.gvk.GroupKind(), l.gvk.Version)
		if meta.IsNoMatchError(err) {
			continue // not served (yet): no members
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.gvk.Kind, err)
		}
		namespaced[i] = mapping.Scope.Name() == meta.RESTScopeNameNamespace
		ns := ""
		if namespaced[i] && len(l.namespaces) == 1 {
			for n := range l.namespaces {
				ns = n
			}
		}
		for _, sel := range partOfSelectors(l.ids) {
			g.Go(func() error {
				items, err := m.listSelected(gctx, mapping.Resource, ns, sel)
				mu.Lock()
				defer mu.Unlock()
				l.items = append(l.items, items...)
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return assignMembers(qs, lists, namespaced), nil
}

// assignMembers gives each query the listed objects of its ID that one of its keys covers.
func assignMembers(qs []memberQuery, lists []*kindList, namespaced []bool) [][]*unstructured.Unstructured {
	type idKey struct {
		id string
		k  listKey
	}
	want := map[idKey]int{}
	for i, q := range qs {
		for _, k := range q.keys {
			want[idKey{q.id, k}] = i
		}
	}
	out := make([][]*unstructured.Unstructured, len(qs))
	for li, l := range lists {
		for j := range l.items {
			u := &l.items[j]
			id := u.GetLabels()[LabelApplySetPartOf]
			i, ok := want[idKey{id, listKey{gvk: l.gvk, namespace: u.GetNamespace()}}]
			if !ok && namespaced[li] {
				i, ok = want[idKey{id, listKey{gvk: l.gvk}}] // a namespaced kind listed everywhere
			}
			if ok {
				out[i] = append(out[i], u)
			}
		}
	}
	return out
}

// partOfSelectors are the set-based part-of selectors for ids, at most selectorIDs each.
func partOfSelectors(ids map[string]bool) []string {
	sorted := make([]string, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	var out []string
	for len(sorted) > 0 {
		n := min(len(sorted), selectorIDs)
		out = append(out, LabelApplySetPartOf+" in ("+strings.Join(sorted[:n], ",")+")")
		sorted = sorted[n:]
	}
	return out
}

// listSelected lists one resource in ns ("" everywhere) with a label selector.
//
// The response is decoded by internal/jsonvalue, not by client-go's unstructured decoder,
// which reads a list three times (for its kind, its items, each item): the members of the
// six add-ons are 9 MB of JSON, CRDs most of it, and decoding them was a third of a no-op
// sync. The items are what the dynamic client returns (TestListSelectedMatchesDynamic).
func (m *Manager) listSelected(ctx context.Context, gvr schema.GroupVersionResource, ns, selector string) ([]unstructured.Unstructured, error) {
	segments := []string{"/apis", gvr.Group, gvr.Version}
	if gvr.Group == "" {
		segments = []string{"/api", gvr.Version}
	}
	if ns != "" {
		segments = append(segments, "namespaces", ns)
	}
	req := m.lists.Get().AbsPath(append(segments, gvr.Resource)...)
	if selector != "" {
		req = req.Param("labelSelector", selector)
	}
	body, err := req.Do(ctx).Raw()
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s in %q: %w", gvr.Resource, ns, err)
	}
	list, err := jsonvalue.DecodeObject(body)
	if err != nil {
		return nil, fmt.Errorf("list %s in %q: %w", gvr.Resource, ns, err)
	}
	raw, _ := list["items"].([]any)
	apiVersion, _ := list["apiVersion"].(string)
	kind, _ := list["kind"].(string)
	items := make([]unstructured.Unstructured, 0, len(raw))
	for _, it := range raw {
		obj, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("list %s in %q: an item is not an object", gvr.Resource, ns)
		}
		u := unstructured.Unstructured{Object: obj}
		// As client-go's decoder: the API server leaves the kind out of a typed list's items.
		if u.GetKind() == "" && u.GetAPIVersion() == "" {
			u.SetKind(strings.TrimSuffix(kind, "List"))
			u.SetAPIVersion(apiVersion)
		}
		items = append(items, u)
	}
	return items, nil
}

// namespaceSnapshot lists the namespaces once, when the first add-on asks for one no object
// was found in.
type namespaceSnapshot struct {
	once   gosync.Once
	states map[string]NamespaceState
	err    error
}

func (s *namespaceSnapshot) get(ctx context.Context, m *Manager) (map[string]NamespaceState, error) {
	s.once.Do(func() {
		list, err := m.dynamic.Resource(namespaceGVR).List(ctx, metav1.ListOptions{})
		if err != nil {
			s.err = fmt.Errorf("namespaces: list failed: %w", err)
			return
		}
		s.states = make(map[string]NamespaceState, len(list.Items))
		for _, ns := range list.Items {
			phase, _, _ := unstructured.NestedString(ns.Object, "status", "phase")
			if phase == string(corev1.NamespaceTerminating) {
				s.states[ns.GetName()] = NamespaceState{Terminating: true}
			} else {
				s.states[ns.GetName()] = NamespaceState{Exists: true}
			}
		}
	})
	return s.states, s.err
}
