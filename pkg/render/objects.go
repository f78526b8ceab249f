package render

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

func errorsIsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// parseManifests splits a multi-document YAML stream into objects as kubectl reads a file
// (util/yaml's reader); empty documents are skipped and v1 Lists expanded.
func parseManifests(stream string) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(stream)))
	var out []*unstructured.Unstructured
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		m, err := decodeYAMLObject(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if m == nil {
			continue
		}
		objs, err := objectsOf(m)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		out = append(out, objs...)
	}
}

// objectsOf makes the object of a decoded document, or the items of a v1 List.
func objectsOf(m map[string]any) ([]*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{Object: m}
	if u.GetKind() == "" || u.GetAPIVersion() == "" {
		return nil, fmt.Errorf("object %q has no apiVersion or kind", u.GetName())
	}
	if !u.IsList() {
		return []*unstructured.Unstructured{u}, nil
	}
	var out []*unstructured.Unstructured
	err := u.EachListItem(func(o runtime.Object) error {
		out = append(out, o.(*unstructured.Unstructured))
		return nil
	})
	return out, err
}

// crdKind is a custom resource kind served by a CRD.
type crdKind struct {
	groupVersion, kind string
	namespaced         bool
}

// crdKindsOf returns the served versions of a CustomResourceDefinition; nil for other objects.
func crdKindsOf(o *unstructured.Unstructured) []crdKind {
	if o.GetKind() != "CustomResourceDefinition" || groupOf(o.GetAPIVersion()) != "apiextensions.k8s.io" {
		return nil
	}
	group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
	scope, _, _ := unstructured.NestedString(o.Object, "spec", "scope")
	// NoCopy: NestedSlice would deep-copy every version's schema (megabytes for a big CRD).
	field, _, _ := unstructured.NestedFieldNoCopy(o.Object, "spec", "versions")
	versions, _ := field.([]any)
	var out []crdKind
	for _, v := range versions {
		vm, ok := v.(map[string]any)
		if !ok {
			continue
		}
		name, _ := vm["name"].(string)
		if served, ok := vm["served"].(bool); ok && !served || name == "" {
			continue
		}
		out = append(out, crdKind{groupVersion: group + "/" + name, kind: kind, namespaced: scope != "Cluster"})
	}
	return out
}

// hookFrom makes the Hook of a hook document; ok is false for test hooks, which addonsync
// never runs. Without a delete policy a hook gets Helm's default, before-hook-creation.
func hookFrom(h *helmHook, obj *unstructured.Unstructured) (Hook, bool) {
	var events []HookEvent
	for _, e := range h.events {
		if e != "test" {
			events = append(events, HookEvent(e))
		}
	}
	if len(events) == 0 {
		return Hook{}, false
	}
	policies := slices.Clone(h.deletePolicies)
	if len(policies) == 0 {
		policies = []string{string(release.HookBeforeHookCreation)}
	}
	sort.Strings(policies)
	return Hook{Object: obj, Events: events, Weight: h.weight, DeletePolicies: policies}, true
}

// decorate sets the namespace on namespaced objects lacking one and clears it on
// cluster-scoped ones; labels are left as the chart renders them.
func decorate(o *unstructured.Unstructured, namespace string, apis *apiSet) {
	if apis.isNamespaced(o.GetAPIVersion(), o.GetKind()) {
		if o.GetNamespace() == "" {
			o.SetNamespace(namespace)
		}
	} else if o.GetNamespace() != "" {
		o.SetNamespace("")
	}
}

// kindRank orders kinds: CRDs, Namespaces, then Helm's install order, then the rest.
func kindRank(kind string) int {
	switch kind {
	case "CustomResourceDefinition":
		return 0
	case "Namespace":
		return 1
	}
	for i, k := range releaseutil.InstallOrder {
		if k == kind {
			return 2 + i
		}
	}
	return 2 + len(releaseutil.InstallOrder)
}

// sortObjects orders objects deterministically: by kind rank, kind, namespace, name, apiVersion.
func sortObjects(objs []*unstructured.Unstructured) {
	sort.SliceStable(objs, func(i, j int) bool { return objectLess(objs[i], objs[j]) })
}

func objectLess(a, b *unstructured.Unstructured) bool {
	if ra, rb := kindRank(a.GetKind()), kindRank(b.GetKind()); ra != rb {
		return ra < rb
	}
	if a.GetKind() != b.GetKind() {
		return a.GetKind() < b.GetKind()
	}
	if a.GetNamespace() != b.GetNamespace() {
		return a.GetNamespace() < b.GetNamespace()
	}
	if a.GetName() != b.GetName() {
		return a.GetName() < b.GetName()
	}
	return a.GetAPIVersion() < b.GetAPIVersion()
}

// sortHooks orders hooks by weight, then kind and name.
func sortHooks(hooks []Hook) {
	sort.SliceStable(hooks, func(i, j int) bool {
		if hooks[i].Weight != hooks[j].Weight {
			return hooks[i].Weight < hooks[j].Weight
		}
		return objectLess(hooks[i].Object, hooks[j].Object)
	})
}

// objectKey identifies an object for duplicate detection: group, kind, namespace, name.
func objectKey(o *unstructured.Unstructured) string {
	return groupOf(o.GetAPIVersion()) + "/" + o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
}

// Subject names an object as "Kind/namespace/name" (or "Kind/name" when cluster-scoped).
func Subject(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetKind() + "/" + o.GetName()
	}
	return o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
}
