package render

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

func errorsIsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// parseManifests splits a multi-document YAML stream into objects; empty documents are
// skipped and v1 Lists expanded.
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
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		var m map[string]any
		if err := utiljson.Unmarshal(js, &m); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if m == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, fmt.Errorf("document %d: object %q has no apiVersion or kind", i, u.GetName())
		}
		if u.IsList() {
			err := u.EachListItem(func(o runtime.Object) error {
				out = append(out, o.(*unstructured.Unstructured))
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("document %d: %w", i, err)
			}
			continue
		}
		out = append(out, u)
	}
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

// hookFrom converts a Helm hook; ok is false for test hooks, which addonsync never runs.
func hookFrom(h *release.Hook) (Hook, bool, error) {
	var events []HookEvent
	for _, e := range h.Events {
		switch e {
		case release.HookTest, "test-success", "test-failure":
			continue
		}
		events = append(events, HookEvent(e))
	}
	if len(events) == 0 {
		return Hook{}, false, nil
	}
	objs, err := parseManifests(h.Manifest)
	if err != nil {
		return Hook{}, false, fmt.Errorf("hook %s: %w", h.Path, err)
	}
	if len(objs) != 1 {
		return Hook{}, false, fmt.Errorf("hook %s: %d objects in one hook document", h.Path, len(objs))
	}
	policies := make([]string, 0, len(h.DeletePolicies))
	for _, p := range h.DeletePolicies {
		policies = append(policies, string(p))
	}
	if len(policies) == 0 {
		policies = []string{string(release.HookBeforeHookCreation)}
	}
	sort.Strings(policies)
	return Hook{Object: objs[0], Events: events, Weight: h.Weight, DeletePolicies: policies}, true, nil
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
