package helmrelease

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

// gadgetCRD is a chart's crds/ file: Helm installs it apart and keeps it out of the manifest.
const gadgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.helmrelease.example.com
spec:
  group: helmrelease.example.com
  names: {kind: Gadget, plural: gadgets, singular: gadget, listKind: GadgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`

// pdbTemplate picks its apiVersion from the cluster's Kubernetes version, as real charts do;
// helm install sees the live server's v1.35.4, addonsync renders for the minor 1.35.
const pdbTemplate = `{{- if semverCompare ">=1.21-0" .Capabilities.KubeVersion.GitVersion }}
apiVersion: policy/v1
{{- else }}
apiVersion: policy/v1beta1
{{- end }}
kind: PodDisruptionBudget
metadata:
  name: {{ .Release.Name }}
spec:
  minAvailable: 0
  selector:
    matchLabels:
      app.kubernetes.io/name: web
`

// adoptRepo writes a config repo whose add-ons (default: "web") render webChart (plus a
// version-dependent template) from the repo, with the same values, on cluster "test". The
// first add-on's chart (chartDir, charts/web) has a crds/ CRD too; the others use
// charts/web-plain, without it (an object belongs to one add-on). values is the first
// add-on's values file.
func adoptRepo(t *testing.T, ns string, addons ...string) (dir, chartDir, values string) {
	t.Helper()
	dir = t.TempDir()
	c := webChart("web", "1.2.3")
	c.Files["crds/gadget.yaml"] = gadgetCRD
	c.Files["templates/pdb.yaml"] = pdbTemplate
	meta, err := yaml.Marshal(c.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	c.Files["Chart.yaml"] = string(meta)
	if len(addons) == 0 {
		addons = []string{"web"}
	}
	cluster := "apiVersion: addonsync.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: test\nspec:\n  kubernetesVersion: \"1.35\"\n  kubeconfig:\n    path: " + env.Kubeconfig + "\n  addons:\n"
	files := map[string]string{}
	for i, a := range addons {
		chart := "charts/web"
		if i > 0 {
			chart = "charts/web-plain"
		}
		files["addons/"+a+"/addon.yaml"] = "apiVersion: addonsync.io/v1alpha1\nkind: Addon\nmetadata:\n  name: " + a + "\nspec:\n  namespace: " + ns + "\n  chart:\n    path: " + chart + "\n"
		files["addons/"+a+"/values.yaml"] = "replicas: 3\ndebug: false\n"
		cluster += "    - name: " + a + "\n"
	}
	files["clusters/test/cluster.yaml"] = cluster
	for p, content := range c.Files {
		files["charts/web/"+p] = content
		if p != "crds/gadget.yaml" {
			files["charts/web-plain/"+p] = content
		}
	}
	for p, content := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, filepath.Join(dir, "charts", "web"), filepath.Join(dir, "addons", addons[0], "values.yaml")
}

// TestPlanAdoptionAgainstAddonsyncRender is the differential test of RenderDiffers: a
// release helm installed with the add-on's chart and values equals addonsync's own render
// (so an adopted add-on runs no upgrade hook), and a release with other values does not.
func TestPlanAdoptionAgainstAddonsyncRender(t *testing.T) {
	requireCluster(t)
	ctx := context.Background()
	ns := namespace(t)
	dir, chartDir, values := adoptRepo(t, ns)
	mustHelm(t, "", "install", "web", chartDir, "-n", ns, "-f", values)

	cfg, err := config.OpenWorktree(dir)
	if err != nil {
		t.Fatal(err)
	}
	ro := render.DefaultOptions()
	ro.CacheDir = t.TempDir()
	cl, err := render.New(ro).RenderCluster(ctx, cfg, "test", render.RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	addon := cl.Addons[0]
	hasCRD := false
	for _, obj := range addon.Objects {
		hasCRD = hasCRD || obj.GetKind() == "CustomResourceDefinition"
	}
	if !hasCRD {
		t.Fatal("the render lacks the chart's crds/ CRD, so this test does not cover it")
	}
	c := newClients(t)
	r := NewReader(c.kube, c.mapper, DefaultReaderOptions())
	o := DefaultAdoptOptions()
	o.Chart = addon.Chart.Name
	o.Prune = addon.Spec.Prune

	t.Run("the same chart and values: adopted as is, no upgrade hooks", func(t *testing.T) {
		rel, err := r.Find(ctx, "web", ns)
		if err != nil || rel == nil {
			t.Fatalf("Find = %v, %v", rel, err)
		}
		a, err := PlanAdoption("web", rel, addon.Objects, o)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Installed || a.UpgradeHooks {
			t.Errorf("Installed %v, UpgradeHooks %v; want true, false", a.Installed, a.UpgradeHooks)
		}
		if diff := cmp.Diff(rel.Objects, a.Plan.Adopted); diff != "" || len(a.Plan.Leftovers) != 0 {
			t.Errorf("adopted (-release +plan):\n%s\nleftovers %v", diff, a.Plan.Leftovers)
		}
		if ok, why := a.Retirable(); !ok {
			t.Errorf("not retirable: %s", why)
		}
		var renderHooks, relHooks []ObjectID
		for _, h := range addon.Hooks {
			renderHooks = append(renderHooks, IDOf(h.Object))
		}
		for _, h := range rel.Hooks {
			relHooks = append(relHooks, h.ID)
		}
		if diff := cmp.Diff(relHooks, renderHooks); diff != "" {
			t.Errorf("hooks (-release +render):\n%s", diff)
		}
	})
	t.Run("other values: upgrade hooks run", func(t *testing.T) {
		mustHelm(t, "", "upgrade", "web", chartDir, "-n", ns, "-f", values, "--set", "replicas=5")
		rel, err := r.Find(ctx, "web", ns)
		if err != nil || rel == nil {
			t.Fatalf("Find = %v, %v", rel, err)
		}
		a, err := PlanAdoption("web", rel, addon.Objects, o)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Installed || !a.UpgradeHooks {
			t.Errorf("Installed %v, UpgradeHooks %v; want true, true", a.Installed, a.UpgradeHooks)
		}
	})
}
