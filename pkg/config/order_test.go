package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClusterDependsOnOrdersAddons(t *testing.T) {
	addon := func(name string, deps ...string) *Addon {
		return &Addon{Metadata: ObjectMeta{Name: name}, Spec: AddonSpec{Namespace: name, DependsOn: deps}}
	}
	cfg := &Config{
		Addons: map[string]*Addon{
			"monitoring": addon("monitoring"),
			"storage":    addon("storage"),
			"web":        addon("web", "monitoring"),
		},
		Clusters: map[string]*Cluster{
			// Without storage: monitoring keeps its addon.yaml order (name order).
			"edge": {Spec: ClusterSpec{Addons: []ClusterAddon{{Name: "web"}, {Name: "monitoring"}}}},
			// With storage: monitoring waits for it on this cluster only.
			"prod": {Spec: ClusterSpec{Addons: []ClusterAddon{
				{Name: "web"}, {Name: "monitoring", DependsOn: []string{"storage"}}, {Name: "storage"},
			}}},
		},
	}
	order := func(cluster string) []string {
		t.Helper()
		addons, err := cfg.AddonsFor(cluster)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range addons {
			names = append(names, a.Metadata.Name)
		}
		return names
	}
	if diff := cmp.Diff([]string{"monitoring", "web"}, order("edge")); diff != "" {
		t.Errorf("edge order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"storage", "monitoring", "web"}, order("prod")); diff != "" {
		t.Errorf("prod order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"storage"}, cfg.DependsOn("prod", "monitoring")); diff != "" {
		t.Errorf("DependsOn(prod, monitoring) (-want +got):\n%s", diff)
	}
	if got := cfg.DependsOn("edge", "monitoring"); len(got) != 0 {
		t.Errorf("DependsOn(edge, monitoring) = %v, want none", got)
	}
}
