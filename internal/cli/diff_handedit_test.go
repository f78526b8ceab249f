package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/addonsync/addonsync/internal/testenv"
)

// hardening are objects whose security settings are rendered as false, 0 and "".
const hardening = `apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: ${NS}}
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1
          securityContext: {allowPrivilegeEscalation: false}
          env: [{name: EXTRA_FLAGS, value: ""}]
`

// TestDiffReportsEveryHandEdit: each hand edit of a field addonsync sets, zero values
// included, makes `addonsync diff` exit 1 naming the object, and `addonsync sync` puts it back.
func TestDiffReportsEveryHandEdit(t *testing.T) {
	testenv.Require(t, env)
	ns := env.Namespace(t)
	dir := diffRepo(t, ns, env.Kubeconfig)
	kdir := filepath.Join(dir, "addons", "web", "kustomize")
	if err := os.WriteFile(filepath.Join(kdir, "hardening.yaml"), []byte(strings.ReplaceAll(hardening, "${NS}", ns)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(kdir, "kustomization.yaml"), []byte("resources: [objects.yaml, hardening.yaml]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	diff := func(t *testing.T) (string, int) {
		t.Helper()
		out, errOut, code := runConfigCmd(t, "diff", "test", "-C", dir, "--cache-dir", cache)
		return out + errOut, code
	}
	syncCmd := func(t *testing.T) {
		t.Helper()
		if _, errOut, code := runConfigCmd(t, "sync", "test", "-C", dir, "--cache-dir", cache, "--wait=false"); code != ExitOK {
			t.Fatalf("sync: exit %d: %s", code, errOut)
		}
	}
	syncCmd(t)
	if out, code := diff(t); code != ExitOK {
		t.Fatalf("diff after sync: exit %d\n%s", code, out)
	}
	d, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	deploy := d.Resource(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}).Namespace(ns)
	sa := d.Resource(schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}).Namespace(ns)
	cm := d.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace(ns)
	patch := func(ri dynamic.ResourceInterface, pt types.PatchType, p string) func() error {
		return func() error {
			_, err := ri.Patch(t.Context(), "web", pt, []byte(p), metav1.PatchOptions{FieldManager: "kubectl-patch"})
			return err
		}
	}
	for _, tt := range []struct {
		name, subject string
		edit          func() error
	}{
		{
			"remove allowPrivilegeEscalation: false", "Deployment/" + ns + "/web",
			patch(deploy, types.JSONPatchType, `[{"op":"remove","path":"/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation"}]`),
		},
		{
			"remove automountServiceAccountToken: false", "ServiceAccount/" + ns + "/web",
			patch(sa, types.JSONPatchType, `[{"op":"remove","path":"/automountServiceAccountToken"}]`),
		},
		{"scale replicas: 0 up", "Deployment/" + ns + "/web", patch(deploy, types.MergePatchType, `{"spec":{"replicas":3}}`)},
		{
			"remove an env var with an empty value", "Deployment/" + ns + "/web",
			patch(deploy, types.JSONPatchType, `[{"op":"remove","path":"/spec/template/spec/containers/0/env"}]`),
		},
		{"take a field over with another field manager", "ConfigMap/" + ns + "/web", func() error {
			u := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "v1", "kind": "ConfigMap",
				"metadata": map[string]any{"name": "web", "namespace": ns}, "data": map[string]any{"mode": "debug"},
			}}
			_, err := cm.Apply(t.Context(), "web", u, metav1.ApplyOptions{FieldManager: "other", Force: true})
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.edit(); err != nil {
				t.Fatal(err)
			}
			out, code := diff(t)
			if code != ExitChanges || !strings.Contains(out, "~ "+tt.subject+" (change") {
				t.Errorf("diff: exit %d, want 1 with %s changed:\n%s", code, tt.subject, out)
			}
			syncCmd(t)
			if out, code := diff(t); code != ExitOK {
				t.Errorf("diff after sync: exit %d, want 0:\n%s", code, out)
			}
		})
	}
}
