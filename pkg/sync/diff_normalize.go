package sync

import (
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/addonsync/addonsync/pkg/secretmask"
)

// normalizeForDiff returns a deep copy of u without what the API server owns: status and the
// metadata fields the server writes (managedFields, resourceVersion, uid, generation,
// creationTimestamp, selfLink), the annotations clients and controllers stamp on objects, and
// addonsync's own applied-hash annotation (it changes whenever anything else does).
// Server defaults are left in: Diff compares the live object with the result of a dry-run
// apply, so defaults appear on both sides and cancel out.
func normalizeForDiff(u *unstructured.Unstructured) map[string]any {
	if u == nil {
		return nil
	}
	obj := runtime.DeepCopyJSON(u.Object)
	delete(obj, "status")
	md, ok := obj["metadata"].(map[string]any)
	if !ok {
		return obj
	}
	for _, f := range []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink"} {
		delete(md, f)
	}
	if ann, ok := md["annotations"].(map[string]any); ok {
		delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
		delete(ann, "deployment.kubernetes.io/revision")
		delete(ann, AnnotationAppliedHash)
		if len(ann) == 0 {
			delete(md, "annotations")
		}
	}
	return obj
}

// diffYAML marshals a normalised object as YAML with sorted keys.
func diffYAML(obj map[string]any) (string, error) {
	if obj == nil {
		return "", nil
	}
	out, err := yaml.Marshal(obj)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// diffAction is what a sync would do to one rendered object.
type diffAction string

const (
	diffCreate    diffAction = "create"
	diffChange    diffAction = "change"
	diffUnchanged diffAction = "unchanged"
)

// String returns the action's name.
func (a diffAction) String() string { return string(a) }

// compareObject decides what a sync does to one object. live is the object on the cluster
// (nil when it does not exist); merged is the result of the dry-run apply (nil when the
// dry run could not run, e.g. the CRD is not installed yet). A create carries the YAML of
// the rendered object (server defaults would only be noise there); a change carries the
// unified diff of live against merged. Both are normalised and Secret values masked
// (secretmask.MaskPair).
func compareObject(rendered, live, merged *unstructured.Unstructured, contextLines int) (ObjectDiff, diffAction, error) {
	od := ObjectDiff{
		Subject:    IDOf(rendered).String(),
		APIVersion: rendered.GetAPIVersion(),
		Kind:       rendered.GetKind(),
		Namespace:  rendered.GetNamespace(),
		Name:       rendered.GetName(),
	}
	if live == nil {
		obj := normalizeForDiff(rendered)
		secretmask.MaskPair(nil, obj)
		y, err := diffYAML(obj)
		if err != nil {
			return od, diffCreate, fmt.Errorf("%s: cannot show the object as YAML: %w", od.Subject, err)
		}
		od.YAML = y
		return od, diffCreate, nil
	}
	before, after := normalizeForDiff(live), normalizeForDiff(merged)
	if reflect.DeepEqual(before, after) {
		return od, diffUnchanged, nil
	}
	secretmask.MaskPair(before, after)
	by, err := diffYAML(before)
	if err != nil {
		return od, diffChange, fmt.Errorf("%s: cannot show the live object as YAML: %w", od.Subject, err)
	}
	ay, err := diffYAML(after)
	if err != nil {
		return od, diffChange, fmt.Errorf("%s: cannot show the object as YAML: %w", od.Subject, err)
	}
	od.Diff = unifiedDiff(by, ay, contextLines)
	if od.Diff == "" {
		// Only masked Secret values differ in a way the placeholders cannot show.
		return od, diffUnchanged, nil
	}
	return od, diffChange, nil
}
