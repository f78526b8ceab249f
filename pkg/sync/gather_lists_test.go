package sync

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestAssignMembers: the objects of one LIST per kind for all add-ons are given to each
// add-on exactly as its own per-kind and per-namespace lists would have returned them.
func TestAssignMembers(t *testing.T) {
	deploy := schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	role := schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}
	member := func(id, ns, name string) unstructured.Unstructured {
		u := unstructured.Unstructured{}
		u.SetNamespace(ns)
		u.SetName(name)
		u.SetLabels(map[string]string{LabelApplySetPartOf: id})
		return u
	}
	qs := []memberQuery{
		{id: "a", keys: []listKey{{gvk: deploy, namespace: "ns-a"}, {gvk: role}}},
		{id: "b", keys: []listKey{{gvk: deploy, namespace: "ns-b"}}},
		{id: "c", keys: []listKey{{gvk: deploy}}}, // a namespaced kind listed everywhere
	}
	lists := []*kindList{
		{gvk: deploy, items: []unstructured.Unstructured{
			member("a", "ns-a", "a1"),
			member("a", "ns-b", "a-elsewhere"), // not in a namespace of a: its lists never saw it
			member("b", "ns-b", "b1"),
			member("c", "ns-x", "c1"),
			member("other", "ns-a", "foreign"),
		}},
		{gvk: role, items: []unstructured.Unstructured{member("a", "", "a-role"), member("b", "", "b-role")}},
	}
	got := assignMembers(qs, lists, []bool{true, false})
	want := [][]string{{"a1", "a-role"}, {"b1"}, {"c1"}}
	for i := range qs {
		var names []string
		for _, u := range got[i] {
			names = append(names, u.GetName())
		}
		if !slices.Equal(names, want[i]) {
			t.Errorf("add-on %s: members %v, want %v", qs[i].id, names, want[i])
		}
	}
}

// TestPartOfSelectors: one set-based selector per selectorIDs IDs, sorted, so a cluster of
// many add-ons keeps its request URLs short.
func TestPartOfSelectors(t *testing.T) {
	ids := map[string]bool{}
	for i := range selectorIDs + 1 {
		ids[string(rune('a'+i))] = true
	}
	sels := partOfSelectors(ids)
	if len(sels) != 2 {
		t.Fatalf("%d selectors for %d IDs, want 2: %v", len(sels), len(ids), sels)
	}
	if want := LabelApplySetPartOf + " in (a,b,"; !strings.HasPrefix(sels[0], want) {
		t.Errorf("selector %q, want prefix %q", sels[0], want)
	}
	if want := LabelApplySetPartOf + " in (q)"; sels[1] != want {
		t.Errorf("selector %q, want %q", sels[1], want)
	}
}
