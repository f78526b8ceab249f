package helmrelease

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/addonsync/addonsync/pkg/config"
)

func id(kind, ns, name string) ObjectID {
	group := ""
	switch kind {
	case "Deployment":
		group = "apps"
	case "CustomResourceDefinition":
		group = "apiextensions.k8s.io"
	case "ClusterRole":
		group = "rbac.authorization.k8s.io"
	}
	return ObjectID{Group: group, Kind: kind, Namespace: ns, Name: name}
}

func TestClassify(t *testing.T) {
	cm, svc, dep, cr := id("ConfigMap", "web", "cfg"), id("Service", "web", "web"), id("Deployment", "web", "web"), id("ClusterRole", "", "web")
	cases := []struct {
		name                string
		release, rendered   []ObjectID
		wantAdopted, wantLO []ObjectID
	}{
		{name: "no release", rendered: []ObjectID{cm}},
		{name: "identical", release: []ObjectID{svc, cm}, rendered: []ObjectID{cm, svc}, wantAdopted: []ObjectID{cm, svc}},
		{name: "render lacks one", release: []ObjectID{cm, svc, dep}, rendered: []ObjectID{svc, dep}, wantAdopted: []ObjectID{svc, dep}, wantLO: []ObjectID{cm}},
		{name: "render adds one", release: []ObjectID{cm}, rendered: []ObjectID{cm, cr}, wantAdopted: []ObjectID{cm}},
		{name: "nothing in common", release: []ObjectID{cm}, rendered: []ObjectID{svc}, wantLO: []ObjectID{cm}},
		{
			name:    "same name, other namespace is not the same object",
			release: []ObjectID{id("ConfigMap", "a", "cfg")}, rendered: []ObjectID{id("ConfigMap", "b", "cfg")},
			wantLO: []ObjectID{id("ConfigMap", "a", "cfg")},
		},
		{
			name:    "same kind, other group is not the same object",
			release: []ObjectID{{Group: "extensions", Kind: "Ingress", Namespace: "web", Name: "web"}}, rendered: []ObjectID{{Group: "networking.k8s.io", Kind: "Ingress", Namespace: "web", Name: "web"}},
			wantLO: []ObjectID{{Group: "extensions", Kind: "Ingress", Namespace: "web", Name: "web"}},
		},
		{name: "duplicates in the manifest count once", release: []ObjectID{cm, cm, svc}, rendered: []ObjectID{svc}, wantAdopted: []ObjectID{svc}, wantLO: []ObjectID{cm}},
		{name: "cluster-scoped objects", release: []ObjectID{cr}, rendered: []ObjectID{cr}, wantAdopted: []ObjectID{cr}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			adopted, left := Classify(tc.release, tc.rendered)
			if diff := cmp.Diff(tc.wantAdopted, adopted); diff != "" {
				t.Errorf("adopted (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantLO, left); diff != "" {
				t.Errorf("left by Helm release (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPruneLeftover(t *testing.T) {
	on := config.PrunePolicy{}
	all := config.PrunePolicy{AllowNamespaces: true, AllowCRDs: true, AllowPersistentVolumes: true}
	cases := []struct {
		name       string
		id         ObjectID
		keep       bool
		policy     config.PrunePolicy
		flag       bool
		wantPrune  bool
		wantReason string
	}{
		{"no flag keeps it", id("ConfigMap", "web", "cfg"), false, on, false, false, ReasonLeftoverNoFlag},
		{"no flag keeps it even with every allow", id("Namespace", "", "web"), false, all, false, false, ReasonLeftoverNoFlag},
		{"flag and prune policy prune it", id("ConfigMap", "web", "cfg"), false, on, true, true, ReasonLeftoverPruned},
		{"flag but pruning disabled keeps it", id("ConfigMap", "web", "cfg"), false, config.PrunePolicy{Disabled: true}, true, false, ReasonLeftoverPruneDisabled},
		{"resource-policy keep wins over the flag", id("ConfigMap", "web", "cfg"), true, all, true, false, ReasonLeftoverResourceKeep},
		{"namespace needs allowNamespaces", id("Namespace", "", "web"), false, on, true, false, ReasonLeftoverNamespace},
		{"namespace with allowNamespaces", id("Namespace", "", "web"), false, all, true, true, ReasonLeftoverPruned},
		{"CRD needs allowCRDs", id("CustomResourceDefinition", "", "x.example.com"), false, on, true, false, ReasonLeftoverCRD},
		{"CRD with allowCRDs", id("CustomResourceDefinition", "", "x.example.com"), false, all, true, true, ReasonLeftoverPruned},
		{"PVC needs allowPersistentVolumes", id("PersistentVolumeClaim", "web", "data"), false, on, true, false, ReasonLeftoverVolume},
		{"PV needs allowPersistentVolumes", id("PersistentVolume", "", "data"), false, on, true, false, ReasonLeftoverVolume},
		{"PVC with allowPersistentVolumes", id("PersistentVolumeClaim", "web", "data"), false, all, true, true, ReasonLeftoverPruned},
		{"a Namespace kind of another group is no Namespace", ObjectID{Group: "example.com", Kind: "Namespace", Name: "x"}, false, on, true, true, ReasonLeftoverPruned},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prune, reason := PruneLeftover(tc.id, tc.keep, tc.policy, tc.flag)
			if prune != tc.wantPrune || reason != tc.wantReason {
				t.Errorf("PruneLeftover = %v, %q; want %v, %q", prune, reason, tc.wantPrune, tc.wantReason)
			}
		})
	}
}

func TestNewPlan(t *testing.T) {
	cm, keep, svc := id("ConfigMap", "web", "cfg"), id("ConfigMap", "web", "kept"), id("Service", "web", "web")
	rel := &Release{Name: "web", Namespace: "web", Objects: []ObjectID{cm, keep, svc}, Keep: []ObjectID{keep}}
	t.Run("without the flag every leftover is kept", func(t *testing.T) {
		got := NewPlan(rel, []ObjectID{svc}, config.PrunePolicy{}, false)
		want := Plan{Adopted: []ObjectID{svc}, Leftovers: []Leftover{
			{ID: cm, Reason: ReasonLeftoverNoFlag},
			{ID: keep, Reason: ReasonLeftoverNoFlag},
		}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("plan (-want +got):\n%s", diff)
		}
	})
	t.Run("with the flag, leftovers are pruned except those Helm keeps", func(t *testing.T) {
		got := NewPlan(rel, []ObjectID{svc}, config.PrunePolicy{}, true)
		want := Plan{Adopted: []ObjectID{svc}, Leftovers: []Leftover{
			{ID: cm, Prune: true, Reason: ReasonLeftoverPruned},
			{ID: keep, Reason: ReasonLeftoverResourceKeep},
		}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("plan (-want +got):\n%s", diff)
		}
	})
	t.Run("no release, no plan", func(t *testing.T) {
		if diff := cmp.Diff(Plan{}, NewPlan(nil, []ObjectID{svc}, config.PrunePolicy{}, true)); diff != "" {
			t.Errorf("plan (-want +got):\n%s", diff)
		}
	})
}

func TestPlanAdoption(t *testing.T) {
	objs, err := parseManifest(testMapper(), manifest, "web")
	if err != nil {
		t.Fatal(err)
	}
	rel := &Release{Name: "web", Namespace: "web", Revision: 3, Status: "deployed", Chart: "web", manifest: objs}
	for _, o := range objs {
		rel.Objects = append(rel.Objects, IDOf(o))
	}
	o := AdoptOptions{Chart: "web"}
	t.Run("no release", func(t *testing.T) {
		if a, err := PlanAdoption("web", nil, objs, o); a != nil || err != nil {
			t.Errorf("PlanAdoption = %v, %v", a, err)
		}
	})
	t.Run("the release's own manifest: installed, no upgrade hooks", func(t *testing.T) {
		a, err := PlanAdoption("web", rel, objs, o)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Installed || a.UpgradeHooks || len(a.Plan.Adopted) != len(objs) || len(a.Plan.Leftovers) != 0 {
			t.Errorf("adoption = %+v", a)
		}
	})
	t.Run("a render with an object less: upgrade hooks, one leftover", func(t *testing.T) {
		a, err := PlanAdoption("web", rel, objs[1:], o)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Installed || !a.UpgradeHooks || len(a.Plan.Leftovers) != 1 || a.Plan.Leftovers[0].ID != IDOf(objs[0]) {
			t.Errorf("adoption = %+v", a)
		}
	})
	t.Run("a failed release is refused", func(t *testing.T) {
		failed := *rel
		failed.Status = "failed"
		var ae *AdoptionError
		if a, err := PlanAdoption("web", &failed, objs, o); a != nil || !errors.As(err, &ae) {
			t.Errorf("PlanAdoption = %v, %v", a, err)
		}
	})
	t.Run("uninstalled with --keep-history: retired, but installed afresh", func(t *testing.T) {
		gone := *rel
		gone.Status = "uninstalled"
		a, err := PlanAdoption("web", &gone, objs, o)
		if err != nil || a == nil || a.Installed || a.UpgradeHooks || len(a.Plan.Adopted) != 0 {
			t.Errorf("PlanAdoption = %+v, %v", a, err)
		}
	})
}

func TestRetirable(t *testing.T) {
	rel := &Release{Name: "web", Revision: 7, ChartVersion: "4.14.5"}
	cm := id("ConfigMap", "web", "cfg")
	cases := []struct {
		name      string
		leftovers []Leftover
		want      bool
		wantWhy   string
	}{
		{name: "no leftovers", want: true},
		{name: "leftovers pruned", leftovers: []Leftover{{ID: cm, Prune: true, Reason: ReasonLeftoverPruned}}, want: true},
		{name: "leftovers Helm keeps too", leftovers: []Leftover{{ID: cm, Reason: ReasonLeftoverResourceKeep}}, want: true},
		{
			name: "a kept leftover blocks it", leftovers: []Leftover{{ID: cm, Reason: ReasonLeftoverNoFlag}},
			wantWhy: "Helm release web rev 7, chart 4.14.5 not retired: 1 object(s) left by the Helm release are kept (ConfigMap/web/cfg); add them to the render, delete them, or sync with --prune-helm-leftovers",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := &Adoption{Release: rel, Installed: true, Plan: Plan{Leftovers: tc.leftovers}}
			ok, why := a.Retirable()
			if ok != tc.want || why != tc.wantWhy {
				t.Errorf("Retirable = %v, %q; want %v, %q", ok, why, tc.want, tc.wantWhy)
			}
		})
	}
}
