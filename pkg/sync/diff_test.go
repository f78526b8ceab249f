package sync

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiffSummary(t *testing.T) {
	r := &DiffResult{Cluster: "prod", Addons: []AddonDiff{
		{
			Name:      "coredns",
			Create:    []ObjectDiff{{Subject: "ConfigMap/kube-system/a"}, {Subject: "ConfigMap/kube-system/b"}},
			Change:    []ObjectDiff{{Subject: "Deployment/kube-system/coredns"}, {Subject: "Secret/kube-system/creds"}},
			Unchanged: 3,
			Prune:     []ObjectDiff{{Subject: "ServiceAccount/kube-system/old"}},
		},
		{Name: "metallb", Unchanged: 12},
	}}
	r.summarize()
	t.Run("counts every add-on", func(t *testing.T) {
		want := DiffSummary{Create: 2, Change: 2, Unchanged: 15, Prune: 1}
		if diff := cmp.Diff(want, r.Summary); diff != "" {
			t.Errorf("Summary (-want +got):\n%s", diff)
		}
		if got := r.Summary.String(); got != "2 to create, 2 to change, 15 unchanged, 1 to prune" {
			t.Errorf("Summary.String() = %q", got)
		}
		if !r.HasChanges() {
			t.Errorf("HasChanges() = false, want true")
		}
	})
	t.Run("unchanged objects are no change", func(t *testing.T) {
		none := &DiffResult{Cluster: "dev", Addons: []AddonDiff{{Name: "coredns", Unchanged: 4}}}
		none.summarize()
		if none.HasChanges() {
			t.Errorf("HasChanges() = true for an unchanged cluster")
		}
	})
	t.Run("an adoption, a keep and hooks to run are changes", func(t *testing.T) {
		plan := &DiffResult{Cluster: "prod", Addons: []AddonDiff{{
			Name: "ingress", Hooks: "upgrade",
			Adopt: []ObjectDiff{{Subject: "ConfigMap/ingress/cm"}},
			Keep:  []ObjectDiff{{Subject: "Namespace/legacy"}},
		}}}
		plan.summarize()
		if diff := cmp.Diff(DiffSummary{Adopt: 1, Keep: 1, Hooks: 1}, plan.Summary); diff != "" {
			t.Errorf("Summary (-want +got):\n%s", diff)
		}
		if got := plan.Summary.String(); got != "0 to create, 1 to adopt, 0 to change, 0 unchanged, 0 to prune, 1 to keep, hooks in 1 add-on(s)" {
			t.Errorf("Summary.String() = %q", got)
		}
		if !plan.HasChanges() {
			t.Errorf("HasChanges() = false")
		}
	})
}
