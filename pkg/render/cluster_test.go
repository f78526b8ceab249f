package render

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/pkg/config"
)

const gadgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.org
spec:
  group: example.org
  names: {kind: Gadget, plural: gadgets}
  scope: Namespaced
  versions:
    - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}
    - {name: v0, served: false, storage: false, schema: {openAPIV3Schema: {type: object}}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gizmos.example.org
spec:
  group: example.org
  names: {kind: Gizmo, plural: gizmos}
  scope: Cluster
  versions:
    - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}
`

// crdConfig: add-on "crds" templates CRDs (not in crds/); add-on "user" creates custom
// resources only when Capabilities.APIVersions has them.
func crdConfig() *repoConfig {
	return newRepoConfig().
		addon("crds", config.AddonSpec{Namespace: "crds", Chart: &config.ChartSpec{Path: "charts/crds"}}).
		chart("charts/crds", chartrepo.Chart{Name: "crds", Version: "1.0.0", Files: map[string]string{"templates/crds.yaml": gadgetCRD}}).
		addon("user", config.AddonSpec{Namespace: "user", DependsOn: []string{"crds"}, Chart: &config.ChartSpec{Path: "charts/user"}}).
		chart("charts/user", chartrepo.Chart{Name: "user", Version: "1.0.0", Files: map[string]string{"templates/cr.yaml": `
{{- if .Capabilities.APIVersions.Has "example.org/v1/Gadget" }}
apiVersion: example.org/v1
kind: Gadget
metadata:
  name: g
---
apiVersion: example.org/v1
kind: Gizmo
metadata:
  name: z
{{- else }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: no-gadgets
{{- end }}
`}}).
		cluster("prod", "1.34", "user", "crds")
}

func TestCustomResources(t *testing.T) {
	r := newTestRenderer(t)
	t.Run("serves the cluster's templated CRDs to other add-ons and scopes their objects", func(t *testing.T) {
		want := []string{
			"crds:CustomResourceDefinition/gadgets.example.org",
			"crds:CustomResourceDefinition/gizmos.example.org",
			"user:Gadget/user/g",
			"user:Gizmo/z",
		}
		if diff := cmp.Diff(want, renderNames(t, r, crdConfig().config(), "prod")); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("rejects a custom resource whose CRD no add-on installs", func(t *testing.T) {
		rc := crdConfig()
		rc.clusters["prod"].Spec.Addons = []config.ClusterAddon{{Name: "user"}}
		rc.addons["user"].Spec.DependsOn = nil
		rc.file("clusters/prod/values/user.yaml", "")
		rc.file("charts/user/templates/extra.yaml", "apiVersion: example.org/v1\nkind: Gadget\nmetadata:\n  name: forced\n")
		_, err := r.RenderCluster(context.Background(), rc.config(), "prod", RenderOptions{})
		want := `cluster "prod": add-on "user": Gadget/user/forced: example.org/v1 Gadget is not served by Kubernetes 1.34: install its CustomResourceDefinition with an add-on of this cluster, or fix the apiVersion`
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v\nwant %s", err, want)
		}
	})
	t.Run("knows the cluster's CRDs when rendering one add-on", func(t *testing.T) {
		a, err := r.RenderAddon(context.Background(), crdConfig().config(), "prod", "user")
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Objects) != 2 || a.Objects[0].GetKind() != "Gadget" {
			t.Fatalf("objects %v", names(t, &Cluster{Addons: []Addon{*a}}))
		}
	})
}

func overlayConfig() *repoConfig {
	return newRepoConfig().
		addon("web", config.AddonSpec{Namespace: "web", Chart: &config.ChartSpec{Path: "charts/web"}}).
		chart("charts/web", webChart).
		file("addons/web/kustomize/kustomization.yaml", `resources: [rendered.yaml]
commonAnnotations:
  example.com/owner: platform
patches:
  - target: {kind: Deployment, name: web}
    patch: |
      - op: replace
        path: /spec/replicas
        value: 5
`).
		file("clusters/prod/kustomize/web/kustomization.yaml", "resources: [rendered.yaml, extra.yaml]\n").
		file("clusters/prod/kustomize/web/extra.yaml", cm("prod-only")).
		addon("pools", config.AddonSpec{Namespace: "metallb-system"}).
		file("addons/pools/kustomize/kustomization.yaml", "resources: [pool.yaml]\n").
		file("addons/pools/kustomize/pool.yaml", cm("pool")).
		file("clusters/prod/kustomize/pools/kustomization.yaml", `resources: [rendered.yaml]
patches:
  - target: {kind: ConfigMap, name: pool}
    patch: |
      - op: replace
        path: /data/from
        value: prod-range
`).
		cluster("prod", "1.34", "web", "pools").
		cluster("dev", "1.34", "web", "pools")
}

func TestOverlays(t *testing.T) {
	r := newTestRenderer(t)
	t.Run("applies the add-on overlay, then the cluster overlay", func(t *testing.T) {
		checkGolden(t, "overlays-prod.yaml", renderYAML(t, r, overlayConfig().config(), "prod", RenderOptions{}))
	})
	t.Run("applies only the add-on overlay where the cluster has none", func(t *testing.T) {
		got := renderYAML(t, r, overlayConfig().config(), "dev", RenderOptions{})
		checkGolden(t, "overlays-dev.yaml", got)
		if strings.Contains(got, "prod-only") || strings.Contains(got, "prod-range") {
			t.Error("dev render has prod's overlay")
		}
	})
	t.Run("explains an overlay that does not list rendered.yaml", func(t *testing.T) {
		rc := overlayConfig().file("addons/web/kustomize/kustomization.yaml", "resources: [missing.yaml]\n")
		_, err := r.RenderCluster(context.Background(), rc.config(), "dev", RenderOptions{})
		if err == nil || !strings.Contains(err.Error(), `add-on "web": kustomize addons/web/kustomize`) || !strings.Contains(err.Error(), "must list rendered.yaml") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestOverlayComponents(t *testing.T) {
	rc := overlayConfig().
		file("clusters/prod/kustomize/web/kustomization.yaml", "resources: [rendered.yaml]\ncomponents: [../../../../kustomize/components/tier]\n").
		file("kustomize/components/tier/kustomization.yaml", `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources: [../../bases/limits]
patches:
  - target: {kind: Service}
    patch: |
      - op: add
        path: /metadata/annotations/tier
        value: gold
`).
		file("kustomize/bases/limits/kustomization.yaml", "resources: [limits.yaml]\n").
		file("kustomize/bases/limits/limits.yaml", "apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: limits\nspec:\n  limits: [{type: Container, default: {memory: 64Mi}}]\n")
	r := newTestRenderer(t)
	c, err := r.RenderCluster(context.Background(), rc.config(), "prod", RenderOptions{Addons: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("follows components and bases outside the overlay directory", func(t *testing.T) {
		got := yamlOf(t, c)
		if !strings.Contains(got, "# Source: web/LimitRange/limits") || !strings.Contains(got, "tier: gold") {
			t.Errorf("component not applied:\n%s", got)
		}
	})
	t.Run("re-renders when a referenced file changes", func(t *testing.T) {
		rc.file("kustomize/bases/limits/limits.yaml", "apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: limits2\nspec:\n  limits: []\n")
		c, err := r.RenderCluster(context.Background(), rc.config(), "prod", RenderOptions{Addons: []string{"web"}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(yamlOf(t, c), "LimitRange/limits2") {
			t.Error("stale render from the cache")
		}
	})
}

func TestDuplicates(t *testing.T) {
	rc := overlayConfig().
		addon("pools2", config.AddonSpec{Namespace: "metallb-system"}).
		file("addons/pools2/kustomize/kustomization.yaml", "resources: [pool.yaml]\n").
		file("addons/pools2/kustomize/pool.yaml", cm("pool")).
		cluster("dev", "1.34", "web", "pools", "pools2")
	_, err := newTestRenderer(t).RenderCluster(context.Background(), rc.config(), "dev", RenderOptions{})
	want := `cluster "dev": add-on "pools2": ConfigMap/metallb-system/pool is also rendered by add-on "pools" (an object must belong to one add-on: disable it in one of them)`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}

func TestErrorsAreJoinedAndNothingIsReturned(t *testing.T) {
	rc := overlayConfig().
		file("addons/web/values.yaml", "replicas: [\n").
		file("addons/pools/kustomize/kustomization.yaml", "resources: [nope.yaml]\n")
	c, err := newTestRenderer(t).RenderCluster(context.Background(), rc.config(), "dev", RenderOptions{})
	if c != nil {
		t.Error("partial output returned with an error")
	}
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`cluster "dev": add-on "web": addons/web/values.yaml: invalid YAML`, `cluster "dev": add-on "pools": kustomize addons/pools/kustomize`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
}

func TestDeterminism(t *testing.T) {
	cfg := overlayConfig().
		addon("crds", crdConfig().addons["crds"].Spec).
		addon("user", crdConfig().addons["user"].Spec).
		cluster("all", "1.34", "web", "pools", "crds", "user")
	for p, f := range crdConfig().files {
		cfg.files[p] = f
	}
	first := renderYAML(t, newTestRenderer(t, func(o *Options) { o.Concurrency = 1 }), cfg.config(), "all", RenderOptions{})
	for i := range 3 {
		got := renderYAML(t, newTestRenderer(t, func(o *Options) { o.Concurrency = 8 }), cfg.config(), "all", RenderOptions{})
		if got != first {
			t.Fatalf("run %d differs from the first:\n%s", i+2, cmp.Diff(first, got))
		}
	}
	t.Run("orders add-ons by dependsOn, then name", func(t *testing.T) {
		c, err := newTestRenderer(t).RenderCluster(context.Background(), cfg.config(), "all", RenderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range c.Addons {
			got = append(got, a.Name)
		}
		if diff := cmp.Diff([]string{"crds", "pools", "user", "web"}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("renders only the selected add-ons", func(t *testing.T) {
		c, err := newTestRenderer(t).RenderCluster(context.Background(), cfg.config(), "all", RenderOptions{Addons: []string{"web", "pools"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Addons) != 2 || c.Addons[0].Name != "pools" || c.Addons[1].Name != "web" {
			t.Fatalf("addons %+v", c.Addons)
		}
		if _, err := newTestRenderer(t).RenderCluster(context.Background(), cfg.config(), "all", RenderOptions{Addons: []string{"nope"}}); err == nil {
			t.Fatal("unknown add-on accepted")
		}
	})
}
