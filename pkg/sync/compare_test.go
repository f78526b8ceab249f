package sync

import (
	"reflect"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// withManaged returns live with a managedFields entry of manager holding fieldsV1.
func withManaged(live map[string]any, manager string, op metav1.ManagedFieldsOperationType, fieldsV1 string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: live}
	u.SetManagedFields([]metav1.ManagedFieldsEntry{{
		Manager: manager, Operation: op, APIVersion: "apps/v1", FieldsType: "FieldsV1",
		FieldsV1: metav1.NewFieldsV1(fieldsV1),
	}})
	return u
}

func TestOwnsDesired(t *testing.T) {
	desired := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "d", "namespace": "n", "labels": map[string]any{"app": "d", "tier": "dns"}, "creationTimestamp": nil},
		"spec": map[string]any{
			"replicas": int64(0),
			"paused":   false,
			"template": map[string]any{"spec": map[string]any{
				"automountServiceAccountToken": false,
				"containers": []any{map[string]any{
					"name": "c", "args": []any{"--a"}, "env": []any{},
					"ports":           []any{map[string]any{"containerPort": int64(53)}},
					"securityContext": map[string]any{"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true},
				}},
			}},
		},
		"status": map[string]any{"replicas": int64(1)},
	}}
	// As the API server writes it: a node lives while it holds a member, so a field removed
	// leaves its parent only when a sibling remains.
	const full = `{"f:metadata":{"f:labels":{"f:app":{},"f:tier":{}}},"f:spec":{"f:replicas":{},"f:paused":{},"f:template":{"f:spec":{` +
		`"f:automountServiceAccountToken":{},"f:containers":{"k:{\"name\":\"c\"}":{".":{},"f:name":{},"f:args":{},"f:env":{},` +
		`"f:ports":{"k:{\"containerPort\":53,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}},` +
		`"f:securityContext":{"f:allowPrivilegeEscalation":{},"f:readOnlyRootFilesystem":{}}}}}}}}`
	for _, tt := range []struct {
		name     string
		manager  string
		op       metav1.ManagedFieldsOperationType
		fieldsV1 string
		wantPath string
		want     bool
	}{
		{name: "every field owned, zero values included", manager: "addonsync", op: metav1.ManagedFieldsOperationApply, fieldsV1: full, want: true},
		{name: "no entry of the manager", manager: "kubectl", op: metav1.ManagedFieldsOperationApply, fieldsV1: full, wantPath: `managedFields entry of "addonsync"`},
		{name: "an Update entry is not the applied set", manager: "addonsync", op: metav1.ManagedFieldsOperationUpdate, fieldsV1: full, wantPath: `managedFields entry of "addonsync"`},
		{
			name: "false removed by hand", manager: "addonsync", op: metav1.ManagedFieldsOperationApply,
			fieldsV1: strings.Replace(full, `"f:allowPrivilegeEscalation":{},`, ``, 1),
			wantPath: ".spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation",
		},
		{
			name: "automount false taken over", manager: "addonsync", op: metav1.ManagedFieldsOperationApply,
			fieldsV1: strings.Replace(full, `"f:automountServiceAccountToken":{},`, ``, 1),
			wantPath: ".spec.template.spec.automountServiceAccountToken",
		},
		{
			name: "replicas 0 changed", manager: "addonsync", op: metav1.ManagedFieldsOperationApply,
			fieldsV1: strings.Replace(full, `"f:replicas":{},`, ``, 1), wantPath: ".spec.replicas",
		},
		{
			name: "empty list removed", manager: "addonsync", op: metav1.ManagedFieldsOperationApply,
			fieldsV1: strings.Replace(full, `"f:env":{},`, ``, 1), wantPath: ".spec.template.spec.containers[0].env",
		},
		{
			name: "label changed", manager: "addonsync", op: metav1.ManagedFieldsOperationApply,
			fieldsV1: strings.Replace(full, `"f:app":{},`, ``, 1), wantPath: ".metadata.labels.app",
		},
		{
			name: "container renamed", manager: "addonsync", op: metav1.ManagedFieldsOperationApply,
			fieldsV1: strings.Replace(full, `\"name\":\"c\"`, `\"name\":\"other\"`, 1), wantPath: ".spec.template.spec.containers[0]",
		},
		{
			name: "atomic list owned whole", manager: "addonsync", op: metav1.ManagedFieldsOperationApply,
			fieldsV1: `{"f:metadata":{"f:labels":{"f:app":{},"f:tier":{}}},"f:spec":{"f:replicas":{},"f:paused":{},"f:template":{"f:spec":{` +
				`"f:automountServiceAccountToken":{},"f:containers":{}}}}}`, want: true,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			live := withManaged(desired.DeepCopy().Object, tt.manager, tt.op, tt.fieldsV1)
			path, ok := ownsDesired(desired, live, "addonsync")
			if ok != tt.want || path != tt.wantPath {
				t.Errorf("ownsDesired = %q, %v; want %q, %v", path, ok, tt.wantPath, tt.want)
			}
		})
	}
}

func TestApplyErrorMasksSecrets(t *testing.T) {
	st := metav1.Status{
		Status: metav1.StatusFailure, Code: 422, Reason: metav1.StatusReasonInvalid,
		Message: `Secret "s" is invalid: data[k]: Invalid value: "hunter2": bad`,
		Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Field: "data[k]", Message: `Invalid value: "hunter2": bad`}}},
	}
	err := applyError(ObjectID{Kind: "Secret", Namespace: "a", Name: "s"}, &apierrors.StatusError{ErrStatus: st})
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the Secret value: %v", err)
	}
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "Secret/a/s") || !strings.Contains(err.Error(), "data[k]") {
		t.Errorf("err = %v, want an Invalid error naming the object and the field", err)
	}
}

func TestApplyErrorKeepsTheServersReasonForSecrets(t *testing.T) {
	for _, tt := range []struct {
		name, message, want string
	}{
		{
			"bad base64", `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 9`,
			`Secret/a/s: apply failed: Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 9; Secret values are not shown`,
		},
		{
			"invalid value", `Secret "s" is invalid: data[k]: Invalid value: "hunter2": bad`,
			`Secret/a/s: apply failed: Secret "s" is invalid: data[k]: Invalid value: (masked): bad; Secret values are not shown`,
		},
		{
			"escaped quote", `Secret "s" is invalid: type: Invalid value: "a\"b": unknown`,
			`Secret/a/s: apply failed: Secret "s" is invalid: type: Invalid value: (masked): unknown; Secret values are not shown`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := metav1.Status{Status: metav1.StatusFailure, Code: 400, Reason: metav1.StatusReasonBadRequest, Message: tt.message}
			err := applyError(ObjectID{Kind: "Secret", Namespace: "a", Name: "s"}, &apierrors.StatusError{ErrStatus: st})
			if err.Error() != tt.want {
				t.Errorf("error =\n  %s\nwant\n  %s", err, tt.want)
			}
		})
	}
}

// TestAppliedHashIgnoresItsAnnotation: the hash of an object is the same with or without
// an applied-hash annotation of any value, and hashing changes nothing in the object.
func TestAppliedHashIgnoresItsAnnotation(t *testing.T) {
	obj := func(ann map[string]any) *unstructured.Unstructured {
		meta := map[string]any{"name": "a", "namespace": "ns"}
		if ann != nil {
			meta["annotations"] = ann
		}
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
			"data": map[string]any{"k": "v", "off": "false"},
		}}
	}
	plain, err := appliedHash(obj(map[string]any{"x": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	withOld := obj(map[string]any{"x": "1", AnnotationAppliedHash: "stale"})
	before := withOld.DeepCopy()
	h, err := appliedHash(withOld)
	if err != nil {
		t.Fatal(err)
	}
	if h != plain {
		t.Errorf("hash with the annotation %s, without %s", h, plain)
	}
	if !reflect.DeepEqual(withOld.Object, before.Object) {
		t.Errorf("appliedHash changed the object: %v", withOld.Object)
	}
	changed := obj(map[string]any{"x": "2"})
	if h2, _ := appliedHash(changed); h2 == plain {
		t.Error("a changed annotation gives the same hash")
	}
}
