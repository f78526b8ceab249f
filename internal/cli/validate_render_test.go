package cli

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestValidateRender checks that validate --render reports what only a render finds, with
// cluster, add-on, template and object named, while plain validate says OK.
func TestValidateRender(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"addons/legacy/addon.yaml":                   "apiVersion: addonsync.io/v1alpha1\nkind: Addon\nmetadata:\n  name: legacy\nspec:\n  namespace: legacy\n",
		"addons/legacy/kustomize/kustomization.yaml": "resources:\n  - pdb.yaml\n",
		"addons/legacy/kustomize/pdb.yaml":           "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: old\nspec:\n  minAvailable: 1\n",
		"addons/web/addon.yaml":                      "apiVersion: addonsync.io/v1alpha1\nkind: Addon\nmetadata:\n  name: web\nspec:\n  namespace: web\n  chart:\n    path: charts/web\n",
		"charts/web/Chart.yaml":                      "apiVersion: v2\nname: web\nversion: 1.0.0\n",
		"charts/web/templates/cm.yaml":               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n",
		"clusters/prod/cluster.yaml":                 "apiVersion: addonsync.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: prod\nspec:\n  kubernetesVersion: \"1.37\"\n  addons:\n    - name: legacy\n",
		"clusters/dev/cluster.yaml":                  "apiVersion: addonsync.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: dev\nspec:\n  kubernetesVersion: \"1.36\"\n  addons:\n    - name: web\n",
	})
	t.Run("validate alone does not render", func(t *testing.T) {
		out, errOut, code := runConfigCmd(t, "validate", "-C", dir)
		if code != ExitOK || out != "config OK: 2 add-ons, 2 clusters\n" {
			t.Errorf("exit %d\n%s%s", code, out, errOut)
		}
	})
	t.Run("validate --render names every render error", func(t *testing.T) {
		out, errOut, code := runConfigCmd(t, "validate", "-C", dir, "--render", "--cache-dir", t.TempDir())
		want := []string{
			`cluster "dev": add-on "web": chart web 1.0.0: template web/templates/cm.yaml: v1 ConfigMap has no metadata.name (set one in the template)`,
			`cluster "prod": add-on "legacy": PodDisruptionBudget/legacy/old: policy/v1beta1 PodDisruptionBudget is not served by Kubernetes 1.37: use policy/v1 (policy/v1beta1 was removed in 1.25)`,
		}
		if diff := cmp.Diff(want, strings.Split(strings.TrimSpace(out), "\n")); diff != "" || code != ExitUsage {
			t.Errorf("exit %d (want 2), problems (-want +got):\n%s\n%s", code, diff, errOut)
		}
	})
}
