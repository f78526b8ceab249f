package sync

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func mustObject(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(y), &u.Object); err != nil {
		t.Fatalf("test object: %v", err)
	}
	return u
}

func TestNormalizeForDiff(t *testing.T) {
	live := mustObject(t, `
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: ns
  uid: 1234
  resourceVersion: "42"
  generation: 3
  creationTimestamp: "2026-01-01T00:00:00Z"
  managedFields: [{manager: addonsync}]
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"data":{"k":"v"}}'
  labels:
    app: c
data:
  k: v
status:
  anything: true
`)
	want := map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "c", "namespace": "ns", "labels": map[string]any{"app": "c"}},
		"data":     map[string]any{"k": "v"},
	}
	got := normalizeForDiff(live)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("normalizeForDiff (-want +got):\n%s", diff)
	}
	if _, ok := live.Object["status"]; !ok {
		t.Errorf("normalizeForDiff changed its input: status removed")
	}
}

func TestCompareObject(t *testing.T) {
	rendered := mustObject(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ns}\ndata: {a: '1', b: '2'}\n")

	t.Run("missing live object is a create with the whole YAML", func(t *testing.T) {
		od, action, err := compareObject(rendered, nil, nil, 3)
		if err != nil || action != diffCreate {
			t.Fatalf("compareObject = %s, %v; want create", action, err)
		}
		want := "apiVersion: v1\ndata:\n  a: \"1\"\n  b: \"2\"\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: ns\n"
		if diff := cmp.Diff(want, od.YAML); diff != "" {
			t.Errorf("YAML (-want +got):\n%s", diff)
		}
		if od.Subject != "ConfigMap/ns/c" {
			t.Errorf("Subject = %q, want ConfigMap/ns/c", od.Subject)
		}
	})
	t.Run("server fields alone are unchanged", func(t *testing.T) {
		live := rendered.DeepCopy()
		live.SetResourceVersion("1")
		live.SetUID("u1")
		merged := rendered.DeepCopy()
		merged.SetResourceVersion("2")
		merged.SetUID("u1")
		merged.SetGeneration(2)
		if _, action, err := compareObject(rendered, live, merged, 3); err != nil || action != diffUnchanged {
			t.Errorf("compareObject = %s, %v; want unchanged", action, err)
		}
	})
	t.Run("one changed field is a one-line diff", func(t *testing.T) {
		live := rendered.DeepCopy()
		if err := unstructured.SetNestedField(live.Object, "hand-edited", "data", "b"); err != nil {
			t.Fatal(err)
		}
		od, action, err := compareObject(rendered, live, rendered.DeepCopy(), 3)
		if err != nil || action != diffChange {
			t.Fatalf("compareObject = %s, %v; want change", action, err)
		}
		want := "@@ -1,7 +1,7 @@\n apiVersion: v1\n data:\n   a: \"1\"\n-  b: hand-edited\n+  b: \"2\"\n kind: ConfigMap\n metadata:\n   name: c\n"
		if diff := cmp.Diff(want, od.Diff); diff != "" {
			t.Errorf("Diff (-want +got):\n%s", diff)
		}
	})
}

func TestCompareObjectMasksSecrets(t *testing.T) {
	const (
		oldPassword = "b2xkLXNlY3JldC1wYXNzd29yZA=="
		newPassword = "bmV3LXNlY3JldC1wYXNzd29yZA=="
	)
	live := mustObject(t, `
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: ns}
type: Opaque
data:
  password: `+oldPassword+`
  user: YWRtaW4=
  legacy: bGVnYWN5
`)
	merged := mustObject(t, `
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: ns}
type: Opaque
data:
  password: `+newPassword+`
  user: YWRtaW4=
  token: dG9rZW4=
`)
	t.Run("a change shows per key what happens and no value", func(t *testing.T) {
		od, action, err := compareObject(merged, live, merged, 3)
		if err != nil || action != diffChange {
			t.Fatalf("compareObject = %s, %v; want change", action, err)
		}
		want := "@@ -1,7 +1,7 @@\n apiVersion: v1\n data:\n-  legacy: (masked, removed)\n-  password: (masked)\n+  password: (masked, changed)\n+  token: (masked, added)\n   user: (masked)\n kind: Secret\n metadata:\n"
		if diff := cmp.Diff(want, od.Diff); diff != "" {
			t.Errorf("Diff (-want +got):\n%s", diff)
		}
		for _, v := range []string{oldPassword, newPassword, "YWRtaW4=", "dG9rZW4=", "bGVnYWN5"} {
			if strings.Contains(od.Diff, v) {
				t.Errorf("Diff shows the secret value %q:\n%s", v, od.Diff)
			}
		}
	})
	t.Run("a create shows keys only", func(t *testing.T) {
		rendered := mustObject(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: ns}\nstringData: {password: hunter2}\ndata: {user: YWRtaW4=}\n")
		od, _, err := compareObject(rendered, nil, nil, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"hunter2", "YWRtaW4="} {
			if strings.Contains(od.YAML, v) {
				t.Errorf("YAML shows the secret value %q:\n%s", v, od.YAML)
			}
		}
		if !strings.Contains(od.YAML, "password: (masked, added)") || !strings.Contains(od.YAML, "user: (masked, added)") {
			t.Errorf("YAML does not list the keys as added:\n%s", od.YAML)
		}
	})
	t.Run("an unchanged secret is unchanged", func(t *testing.T) {
		if _, action, err := compareObject(live, live.DeepCopy(), live.DeepCopy(), 3); err != nil || action != diffUnchanged {
			t.Errorf("compareObject = %s, %v; want unchanged", action, err)
		}
	})
	t.Run("objects that are not secrets keep their data", func(t *testing.T) {
		cm := mustObject(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ns}\ndata: {k: v}\n")
		od, _, err := compareObject(cm, nil, nil, 3)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(od.YAML, "  k: v\n") {
			t.Errorf("ConfigMap data masked:\n%s", od.YAML)
		}
	})
}
