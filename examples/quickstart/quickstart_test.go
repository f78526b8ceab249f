package quickstart_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

// Objects every cluster gets, per add-on, as Kind/namespace/name ("Kind/name" when
// cluster-scoped), in render order. Hooks are listed apart.
var wantObjects = map[string][]string{
	"dns": {
		"ServiceAccount/kube-system/dns",
		"ConfigMap/kube-system/dns",
		"ClusterRole/system:dns",
		"ClusterRoleBinding/system:dns",
		"Service/kube-system/kube-dns",
		"Deployment/kube-system/dns",
	},
	"team-quotas": {
		"NetworkPolicy/team-a/default-deny-ingress",
		"ResourceQuota/team-a/compute",
		"LimitRange/team-a/defaults",
	},
	"widgets-operator": {
		"CustomResourceDefinition/widgets.example.com",
		"ServiceAccount/widgets-system/widgets-operator",
		"ClusterRole/widgets-operator",
		"ClusterRoleBinding/widgets-operator",
		"Role/widgets-system/widgets-operator-leader-election",
		"RoleBinding/widgets-system/widgets-operator-leader-election",
		"Deployment/widgets-system/widgets-operator",
		"Widget/widgets-system/default",
	},
	"web": {
		"Secret/web/web-api",
		"Service/web/web",
		"Deployment/web/web",
		"Ingress/web/web",
		"Widget/web/web",
	},
}

func TestQuickstart(t *testing.T) {
	cfg, err := config.OpenWorktree(".")
	if err != nil {
		t.Fatalf("examples/quickstart: %v", err)
	}
	t.Run("loads two clusters and four add-ons", func(t *testing.T) {
		if diff := cmp.Diff([]string{"dev", "prod"}, cfg.ClusterNames()); diff != "" {
			t.Errorf("clusters (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"dns", "team-quotas", "web", "widgets-operator"}, cfg.AddonNames()); diff != "" {
			t.Errorf("add-ons (-want +got):\n%s", diff)
		}
	})
	t.Run("leaves dev's kubeconfig to $KUBECONFIG, which the demo sets", func(t *testing.T) {
		if kc := cfg.Clusters["dev"].Spec.Kubeconfig; kc != (config.KubeconfigRef{}) {
			t.Errorf("clusters/dev/cluster.yaml: kubeconfig = %+v, want none (hack/demo.sh points $KUBECONFIG at its API server)", kc)
		}
	})

	r := render.New(render.Options{CacheDir: t.TempDir()})
	rendered := map[string]*render.Cluster{}
	for _, name := range cfg.ClusterNames() {
		c, err := r.RenderCluster(t.Context(), cfg, name, render.RenderOptions{})
		if err != nil {
			t.Fatalf("render %s: %v", name, err)
		}
		rendered[name] = c
	}

	for _, name := range cfg.ClusterNames() {
		c := rendered[name]
		t.Run(name+" renders add-ons in dependsOn order", func(t *testing.T) {
			// web depends on widgets-operator; the rest are ordered by name.
			want := []string{"dns", "team-quotas", "widgets-operator", "web"}
			if diff := cmp.Diff(want, addonNames(c)); diff != "" {
				t.Errorf("add-on order (-want +got):\n%s", diff)
			}
		})
		t.Run(name+" renders the expected objects", func(t *testing.T) {
			for _, a := range c.Addons {
				if diff := cmp.Diff(wantObjects[a.Name], ids(a.Objects)); diff != "" {
					t.Errorf("add-on %s: objects (-want +got):\n%s", a.Name, diff)
				}
			}
		})
		t.Run(name+" keeps the migration Job as a pre-install and pre-upgrade hook", func(t *testing.T) {
			a := addon(t, c, "widgets-operator")
			var got []string
			for _, h := range a.Hooks {
				got = append(got, fmt.Sprintf("%s %v %v", id(h.Object), h.Events, h.DeletePolicies))
			}
			want := []string{"Job/widgets-system/widgets-operator-migrate [pre-install pre-upgrade] [before-hook-creation]"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("hooks (-want +got):\n%s", diff)
			}
		})
		t.Run(name+" labels web's objects through the add-on overlay", func(t *testing.T) {
			for _, o := range addon(t, c, "web").Objects {
				if got := o.GetLabels()["example.com/team"]; got != "storefront" {
					t.Errorf("%s: label example.com/team = %q, want storefront", id(o), got)
				}
			}
		})
	}

	t.Run("switches trafficDistribution on the Kubernetes minor", func(t *testing.T) {
		for cluster, want := range map[string]string{"dev": "", "prod": "PreferSameNode"} {
			svc := object(t, rendered[cluster], "dns", "Service/kube-system/kube-dns")
			got, _, _ := unstructured.NestedString(svc.Object, "spec", "trafficDistribution")
			if got != want {
				t.Errorf("%s: Service kube-dns spec.trafficDistribution = %q, want %q", cluster, got, want)
			}
		}
	})
	t.Run("applies per-cluster values", func(t *testing.T) {
		for _, tc := range []struct {
			cluster, addon, object string
			want                   int64
		}{
			{"dev", "dns", "Deployment/kube-system/dns", 1},
			{"prod", "dns", "Deployment/kube-system/dns", 3},
			{"dev", "web", "Deployment/web/web", 1},
			{"prod", "web", "Deployment/web/web", 3},
		} {
			o := object(t, rendered[tc.cluster], tc.addon, tc.object)
			if got, _, _ := unstructured.NestedInt64(o.Object, "spec", "replicas"); got != tc.want {
				t.Errorf("%s: %s replicas = %d, want %d", tc.cluster, tc.object, got, tc.want)
			}
		}
		for cluster, want := range map[string]string{"dev": "web.dev.example.test", "prod": "web.example.com"} {
			ing := object(t, rendered[cluster], "web", "Ingress/web/web")
			rules, _, _ := unstructured.NestedSlice(ing.Object, "spec", "rules")
			if len(rules) != 1 || rules[0].(map[string]any)["host"] != want {
				t.Errorf("%s: Ingress web rules = %v, want one for host %s", cluster, rules, want)
			}
		}
	})
	t.Run("applies dev's cluster overlay to dev only", func(t *testing.T) {
		const key = "nginx.ingress.kubernetes.io/whitelist-source-range"
		for cluster, want := range map[string]string{"dev": "198.51.100.0/24", "prod": ""} {
			ing := object(t, rendered[cluster], "web", "Ingress/web/web")
			if got := ing.GetAnnotations()[key]; got != want {
				t.Errorf("%s: Ingress web annotation %s = %q, want %q", cluster, key, got, want)
			}
		}
	})
}

func addonNames(c *render.Cluster) []string {
	var out []string
	for _, a := range c.Addons {
		out = append(out, a.Name)
	}
	return out
}

func addon(t *testing.T, c *render.Cluster, name string) *render.Addon {
	t.Helper()
	for i := range c.Addons {
		if c.Addons[i].Name == name {
			return &c.Addons[i]
		}
	}
	t.Fatalf("cluster %s: add-on %s not rendered (add-ons: %v)", c.Name, name, addonNames(c))
	return nil
}

func object(t *testing.T, c *render.Cluster, addonName, objectID string) *unstructured.Unstructured {
	t.Helper()
	a := addon(t, c, addonName)
	for _, o := range a.Objects {
		if id(o) == objectID {
			return o
		}
	}
	t.Fatalf("cluster %s: add-on %s: no %s (objects: %v)", c.Name, addonName, objectID, ids(a.Objects))
	return nil
}

func ids(objs []*unstructured.Unstructured) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = id(o)
	}
	return out
}

func id(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetKind() + "/" + o.GetName()
	}
	return o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
}
