package sync

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestUpToDate(t *testing.T) {
	u := func(o map[string]any) *unstructured.Unstructured { return &unstructured.Unstructured{Object: o} }
	meta := func(hash string) map[string]any {
		return map[string]any{"name": "x", "annotations": map[string]any{AnnotationAppliedHash: hash}}
	}
	desired := func() map[string]any {
		return map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("h1"),
			"spec": map[string]any{
				"replicas": int64(2),
				"strategy": map[string]any{},
				"template": map[string]any{
					"metadata": map[string]any{"creationTimestamp": nil},
					"spec": map[string]any{"containers": []any{map[string]any{
						"name": "app", "resources": map[string]any{"limits": map[string]any{"cpu": "1000m", "memory": "1Gi"}},
					}}},
				},
			},
		}
	}
	live := func() map[string]any {
		return map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("h1"),
			"spec": map[string]any{
				"replicas": float64(2), "strategy": map[string]any{"type": "RollingUpdate"},
				"template": map[string]any{
					"metadata": map[string]any{},
					"spec": map[string]any{"containers": []any{map[string]any{
						"name": "app", "imagePullPolicy": "Always",
						"resources": map[string]any{"limits": map[string]any{"cpu": "1", "memory": "1Gi"}},
					}}},
				},
			},
			"status": map[string]any{"replicas": int64(0)},
		}
	}
	tests := []struct {
		name   string
		mutate func(d, l map[string]any)
		want   bool
	}{
		{name: "server defaults and normalised quantities are equal", want: true},
		{name: "another hash: the render changed", mutate: func(d, _ map[string]any) { d["metadata"] = meta("h2") }},
		{name: "no hash on live: never applied by us", mutate: func(_, l map[string]any) { l["metadata"] = map[string]any{"name": "x"} }},
		{name: "value changed by hand", mutate: func(_, l map[string]any) { l["spec"].(map[string]any)["replicas"] = int64(5) }},
		{name: "field removed by hand", mutate: func(_, l map[string]any) { delete(l["spec"].(map[string]any), "replicas") }},
		{name: "list element added by hand", mutate: func(_, l map[string]any) {
			spec := l["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
			spec["containers"] = append(spec["containers"].([]any), map[string]any{"name": "sidecar"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, l := desired(), live()
			if tt.mutate != nil {
				tt.mutate(d, l)
			}
			if got := UpToDate(u(d), u(l)); got != tt.want {
				t.Errorf("UpToDate = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("Secret stringData compares with data", func(t *testing.T) {
		d := u(map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": meta("h"), "stringData": map[string]any{"p": "hunter2"}})
		l := u(map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": meta("h"), "data": map[string]any{"p": "aHVudGVyMg=="}})
		if !UpToDate(d, l) {
			t.Error("UpToDate = false, want true")
		}
		l.Object["data"] = map[string]any{"p": "b3RoZXI="}
		if UpToDate(d, l) {
			t.Error("changed secret: UpToDate = true, want false")
		}
	})
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
