package helmrelease

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/releaseutil"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// annotationResourcePolicy is Helm's helm.sh/resource-policy annotation.
const annotationResourcePolicy = "helm.sh/resource-policy"

// parseManifest decodes a release manifest (a YAML stream) into objects, in Helm's order.
// Helm leaves the namespace off namespaced objects it installs into the release namespace;
// parseManifest fills it in, asking mapper whether a kind is namespaced. A kind mapper does
// not know (its CRD is gone, so no such object can exist) is taken as namespaced.
func parseManifest(mapper meta.RESTMapper, manifest, namespace string) ([]*unstructured.Unstructured, error) {
	docs := releaseutil.SplitManifests(manifest)
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	var objs []*unstructured.Unstructured
	for _, k := range keys {
		j, err := yaml.YAMLToJSON([]byte(docs[k]))
		if err != nil {
			return nil, fmt.Errorf("document %s: %w", k, err)
		}
		if s := strings.TrimSpace(string(j)); s == "null" || s == "{}" {
			continue
		}
		obj, err := runtime.Decode(unstructured.UnstructuredJSONScheme, j)
		if err != nil {
			return nil, fmt.Errorf("document %s: %w", k, err)
		}
		switch o := obj.(type) {
		case *unstructured.UnstructuredList:
			for i := range o.Items {
				objs = append(objs, &o.Items[i])
			}
		case *unstructured.Unstructured:
			objs = append(objs, o)
		}
	}
	for _, o := range objs {
		namespaced, err := isNamespaced(mapper, o)
		if err != nil {
			return nil, err
		}
		switch {
		case !namespaced:
			o.SetNamespace("")
		case o.GetNamespace() == "":
			o.SetNamespace(namespace)
		}
	}
	return objs, nil
}

func isNamespaced(mapper meta.RESTMapper, o *unstructured.Unstructured) (bool, error) {
	gvk := o.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		if r, ok := mapper.(meta.ResettableRESTMapper); ok {
			r.Reset()
			m, err = mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		}
	}
	switch {
	case meta.IsNoMatchError(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("%s %s: resolve kind: %w", gvk.GroupVersion(), gvk.Kind, err)
	}
	return m.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

// ManifestObject returns the object id of the latest revision's manifest (namespace
// resolved), nil when the manifest lacks it. Do not modify it.
func (r *Release) ManifestObject(id ObjectID) *unstructured.Unstructured {
	for _, o := range r.manifest {
		if IDOf(o) == id {
			return o
		}
	}
	return nil
}

// RenderDiffers reports whether the rendered objects differ from the release's manifest:
// other objects, or an object with other content. Labels in ignoreLabels (addonsync's own,
// render.LabelManagedBy and render.LabelAddon) are left out of the comparison on both
// sides; namespaces are resolved on both. Rendered CustomResourceDefinitions the manifest
// lacks are left out too: Helm installs a chart's crds/ directory apart and never records it
// in the manifest (nor upgrades it). When the render differs, an adopted add-on's upgrade
// hooks run; when it does not, they do not.
func (r *Release) RenderDiffers(rendered []*unstructured.Unstructured, ignoreLabels ...string) (bool, error) {
	want := map[ObjectID][]byte{}
	for _, o := range r.manifest {
		b, err := canonical(o, ignoreLabels)
		if err != nil {
			return false, fmt.Errorf("%s: %w", IDOf(o), err)
		}
		want[IDOf(o)] = b
	}
	matched := 0
	for _, o := range rendered {
		id := IDOf(o)
		w, ok := want[id]
		if !ok && id.Group == "apiextensions.k8s.io" && id.Kind == "CustomResourceDefinition" {
			continue
		}
		b, err := canonical(o, ignoreLabels)
		if err != nil {
			return false, fmt.Errorf("%s: %w", id, err)
		}
		if !ok || string(w) != string(b) {
			return true, nil
		}
		matched++
	}
	return matched != len(want), nil
}

// canonical returns the JSON of o without the ignored labels (and without an empty labels
// map left behind), so numbers and key order compare equal whichever YAML they came from.
func canonical(o *unstructured.Unstructured, ignoreLabels []string) ([]byte, error) {
	if o == nil {
		return nil, errors.New("nil object")
	}
	c := o.DeepCopy()
	l := c.GetLabels()
	for _, k := range ignoreLabels {
		delete(l, k)
	}
	if len(l) == 0 {
		unstructured.RemoveNestedField(c.Object, "metadata", "labels")
	} else {
		c.SetLabels(l)
	}
	return json.Marshal(c.Object)
}
