package helmrelease

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

// TestTakeover runs the whole takeover the sync engine is to carry out, in its order, on two
// releases the real helm CLI installed: "same" with the add-on's values, "changed" with
// other values and an object the render lacks. It is the executable outline of the wiring:
// List, PlanAdoption, TransferAll, apply, (prune), Retirable, Retire.
func TestTakeover(t *testing.T) {
	requireCluster(t)
	ctx := context.Background()
	ns := namespace(t)
	dir, chartDir, values := adoptRepo(t, ns, "same", "changed")
	mustHelm(t, "", "install", "same", chartDir, "-n", ns, "-f", values)
	mustHelm(t, "", "install", "changed", chartDir+"-plain", "-n", ns, "-f", values, "--set", "replicas=5,extra=true")

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
	c := newClients(t)
	releases, err := NewReader(c.kube, c.mapper, DefaultReaderOptions()).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan := func(addon render.Addon, pruneLeftovers bool) *Adoption {
		t.Helper()
		o := DefaultAdoptOptions()
		o.Chart, o.Prune, o.PruneHelmLeftovers = addon.Chart.Name, addon.Spec.Prune, pruneLeftovers
		a, err := PlanAdoption(addon.Name, releases.Find(addon.Spec.ReleaseName, addon.Namespace), addon.Objects, o)
		if err != nil || a == nil {
			t.Fatalf("PlanAdoption(%s) = %v, %v", addon.Name, a, err)
		}
		return a
	}
	byName := map[string]render.Addon{}
	for _, a := range cl.Addons {
		byName[a.Name] = a
	}
	same, changed := plan(byName["same"], false), plan(byName["changed"], false)
	if same.Release.Name != "same" || same.UpgradeHooks || len(same.Plan.Leftovers) != 0 {
		t.Errorf("same: release %s, upgrade hooks %v, leftovers %v", same.Release, same.UpgradeHooks, same.Plan.Leftovers)
	}
	leftover := ObjectID{Kind: "ConfigMap", Namespace: ns, Name: "changed-extra"}
	if !changed.UpgradeHooks || len(changed.Plan.Leftovers) != 1 || changed.Plan.Leftovers[0].ID != leftover || changed.Plan.Leftovers[0].Prune {
		t.Errorf("changed: upgrade hooks %v, leftovers %+v", changed.UpgradeHooks, changed.Plan.Leftovers)
	}

	// Every rendered object exists (the CRD of crds/ too): read them, note their UIDs.
	var rendered, live []*unstructured.Unstructured
	uids := map[ObjectID]string{}
	for _, a := range cl.Addons {
		for _, o := range a.Objects {
			u := c.get(t, IDOf(o))
			rendered, live = append(rendered, o), append(live, u)
			uids[IDOf(o)] = string(u.GetUID())
			if o.GetKind() == "CustomResourceDefinition" && !OwnedBy(u) {
				t.Fatalf("%s: helm owns nothing of the crds/ CRD it installed: %v", IDOf(o), managers(u))
			}
		}
	}
	c.count.take()
	tr := NewTransferrer(c.dyn, c.mapper, DefaultTransferOptions())
	if _, err := tr.TransferAll(ctx, live, 4); err != nil {
		t.Fatal(err)
	}
	c.apply(t, rendered)
	for _, r := range c.count.take() {
		if strings.HasPrefix(r, "POST ") || strings.HasPrefix(r, "DELETE ") || strings.HasPrefix(r, "PUT ") {
			t.Errorf("adoption sent %s", r)
		}
	}
	for id, uid := range uids {
		u := c.get(t, id)
		if string(u.GetUID()) != uid || ownedByHelm(u) {
			t.Errorf("%s: UID %s -> %s, managers %v", id, uid, u.GetUID(), managers(u))
		}
	}

	t.Run("a kept leftover holds the retirement up; with the flag it is pruned and the release retired", func(t *testing.T) {
		if ok, why := same.Retirable(); !ok {
			t.Fatalf("same not retirable: %s", why)
		}
		if _, err := Retire(ctx, c.kube, same.Release, RetireOptions{}); err != nil {
			t.Fatal(err)
		}
		if ok, why := changed.Retirable(); ok || !strings.Contains(why, leftover.String()) {
			t.Errorf("changed Retirable = %v, %q", ok, why)
		}
		changed = plan(byName["changed"], true)
		if l := changed.Plan.Leftovers[0]; !l.Prune {
			t.Fatalf("with --prune-helm-leftovers: %+v", l)
		}
		// The prune the sync engine does for a leftover with Prune set.
		if err := c.kube.CoreV1().ConfigMaps(ns).Delete(ctx, leftover.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if ok, why := changed.Retirable(); !ok {
			t.Fatalf("changed not retirable after the prune: %s", why)
		}
		if _, err := Retire(ctx, c.kube, changed.Release, RetireOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := helmList(t, ""); len(got) != 0 {
			t.Errorf("helm list -A -a: %v", got)
		}
	})
	t.Run("a second sync writes nothing", func(t *testing.T) {
		rv := map[ObjectID]string{}
		var again []*unstructured.Unstructured
		for id := range uids {
			u := c.get(t, id)
			rv[id], again = u.GetResourceVersion(), append(again, u)
		}
		if patched, err := tr.TransferAll(ctx, again, 4); err != nil || len(patched) != 0 {
			t.Errorf("second TransferAll = %v, %v", patched, err)
		}
		c.apply(t, rendered)
		for id := range uids {
			if got := c.get(t, id).GetResourceVersion(); got != rv[id] {
				t.Errorf("%s: resourceVersion %s -> %s", id, rv[id], got)
			}
		}
	})
}
