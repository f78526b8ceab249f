package helmrelease

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func managed(manager string, op metav1.ManagedFieldsOperationType, fields, subresource string) metav1.ManagedFieldsEntry {
	return metav1.ManagedFieldsEntry{
		Manager: manager, Operation: op, APIVersion: "v1", FieldsType: "FieldsV1",
		FieldsV1: metav1.NewFieldsV1(fields), Subresource: subresource,
	}
}

func TestTransferPatch(t *testing.T) {
	helmFields := `{"f:data":{"f:a":{}},"f:metadata":{"f:labels":{"f:app.kubernetes.io/managed-by":{}}}}`
	obj := func(entries ...metav1.ManagedFieldsEntry) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind("ConfigMap")
		u.SetNamespace("web")
		u.SetName("cfg")
		u.SetResourceVersion("42")
		u.SetManagedFields(entries)
		return u
	}
	type op struct {
		Op    string                      `json:"op"`
		Path  string                      `json:"path"`
		Value json.RawMessage             `json:"value"`
		MF    []metav1.ManagedFieldsEntry `json:"-"`
	}
	decode := func(t *testing.T, patch []byte) ([]metav1.ManagedFieldsEntry, string) {
		t.Helper()
		var ops []op
		if err := json.Unmarshal(patch, &ops); err != nil {
			t.Fatal(err)
		}
		if len(ops) != 2 || ops[0].Path != "/metadata/managedFields" || ops[1].Path != "/metadata/resourceVersion" {
			t.Fatalf("patch touches more than managedFields and the resourceVersion guard: %s", patch)
		}
		var mf []metav1.ManagedFieldsEntry
		if err := json.Unmarshal(ops[0].Value, &mf); err != nil {
			t.Fatal(err)
		}
		var rv string
		_ = json.Unmarshal(ops[1].Value, &rv)
		return mf, rv
	}
	t.Run("helm's Update entry becomes addonsync's Apply entry", func(t *testing.T) {
		other := managed("kubectl-edit", metav1.ManagedFieldsOperationUpdate, `{"f:data":{"f:b":{}}}`, "")
		patch, err := TransferPatch(obj(managed("helm", metav1.ManagedFieldsOperationUpdate, helmFields, ""), other), DefaultTransferOptions())
		if err != nil {
			t.Fatal(err)
		}
		mf, rv := decode(t, patch)
		if rv != "42" {
			t.Errorf("resourceVersion guard = %q, want 42", rv)
		}
		want := []metav1.ManagedFieldsEntry{managed("addonsync", metav1.ManagedFieldsOperationApply, helmFields, ""), other}
		if diff := cmp.Diff(want, mf); diff != "" {
			t.Errorf("managedFields (-want +got):\n%s", diff)
		}
	})
	t.Run("merges into an existing addonsync Apply entry", func(t *testing.T) {
		ours := managed("addonsync", metav1.ManagedFieldsOperationApply, `{"f:data":{"f:c":{}}}`, "")
		patch, err := TransferPatch(obj(ours, managed("helm", metav1.ManagedFieldsOperationUpdate, `{"f:data":{"f:a":{}}}`, "")), DefaultTransferOptions())
		if err != nil {
			t.Fatal(err)
		}
		mf, _ := decode(t, patch)
		want := []metav1.ManagedFieldsEntry{managed("addonsync", metav1.ManagedFieldsOperationApply, `{"f:data":{"f:a":{},"f:c":{}}}`, "")}
		if diff := cmp.Diff(want, mf); diff != "" {
			t.Errorf("managedFields (-want +got):\n%s", diff)
		}
	})
	t.Run("nothing to move is no patch", func(t *testing.T) {
		u := obj(managed("addonsync", metav1.ManagedFieldsOperationApply, helmFields, ""), managed("helm", metav1.ManagedFieldsOperationApply, `{"f:data":{}}`, ""))
		patch, err := TransferPatch(u, DefaultTransferOptions())
		if err != nil || patch != nil {
			t.Errorf("TransferPatch = %s, %v; want nil, nil (helm's Apply entry is not an Update entry)", patch, err)
		}
		if OwnedBy(u) {
			t.Error("OwnedBy = true for an object helm owns nothing of with Update operations")
		}
	})
	t.Run("another manager name and target", func(t *testing.T) {
		u := obj(managed("helm3", metav1.ManagedFieldsOperationUpdate, helmFields, ""))
		if !OwnedBy(u, "helm3") || OwnedBy(u) {
			t.Error("OwnedBy does not honour the manager names")
		}
		patch, err := TransferPatch(u, TransferOptions{From: []string{"helm3"}, To: "platform"})
		if err != nil {
			t.Fatal(err)
		}
		mf, _ := decode(t, patch)
		if len(mf) != 1 || mf[0].Manager != "platform" || mf[0].Operation != metav1.ManagedFieldsOperationApply {
			t.Errorf("managedFields = %+v", mf)
		}
	})
}
