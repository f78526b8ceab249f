package sync

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/pkg/render"
)

// TestDiffAndSyncAgree runs each case through Diff and then Sync: what diff says is what
// sync does, because both execute one plan.
func TestDiffAndSyncAgree(t *testing.T) {
	testenv.Require(t, env)
	ctx := t.Context()
	ns := env.Namespace(t)
	var m *Manager
	fresh := func(t *testing.T, name string) { m = newTestManager(t, ns+"-"+name, nil) }
	cms := fixture(t, "configmaps", map[string]string{"NS": ns})
	one := func(a render.Addon) *render.Cluster { return &render.Cluster{Name: "test", Addons: []render.Addon{a}} }
	mustSync := func(t *testing.T, c *render.Cluster) *Result {
		t.Helper()
		res, err := m.Sync(ctx, c, syncOpts())
		if err != nil {
			t.Fatalf("Sync: %v", err)
		}
		return res
	}

	t.Run("a renamed add-on adopts its objects and prunes none, in diff and sync", func(t *testing.T) {
		fresh(t, "rename")
		// Nine: more than listAllThreshold, so the renamed add-on finds them with one LIST.
		var objs []*unstructured.Unstructured
		for i := range 9 {
			objs = append(objs, mustObject(t, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ren-%d, namespace: %s}\ndata: {k: v}\n", i, ns)))
		}
		mustSync(t, one(addon("web", ns, objs)))
		renamed := one(addon("web2", ns, clone(objs)))
		res, err := m.Diff(ctx, renamed, DefaultDiffOptions())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Addons) != 2 || len(res.Addons[0].Adopt) != 9 || !res.Addons[1].Removed || len(res.Addons[1].Prune) != 0 {
			t.Fatalf("diff: %+v", res.Addons)
		}
		sr := mustSync(t, renamed)
		if diff := cmp.Diff(allAs(objs, ActionAdopted), actions(sr.Addons[0].ChangeSet)); diff != "" {
			t.Errorf("web2 (-want +got):\n%s", diff)
		}
		if !sr.Addons[1].Removed || sr.Addons[1].ChangeSet.Count(ActionPruned) != 0 {
			t.Errorf("web: %+v, want removed with nothing pruned", sr.Addons[1])
		}
		if diff := cmp.Diff(subjects(objs), members(t, m, "web2")); diff != "" {
			t.Errorf("web2 members (-want +got):\n%s", diff)
		}
		if inv, err := m.Inventory(ctx, "web"); err != nil || inv.Exists {
			t.Errorf("web's parent: exists %v, err %v", inv != nil && inv.Exists, err)
		}
		if res, err := m.Diff(ctx, renamed, DefaultDiffOptions()); err != nil || res.HasChanges() {
			t.Errorf("diff after the sync: %v %+v", err, res.Summary)
		}
	})

	t.Run("an object in a namespace nobody creates fails diff and sync alike", func(t *testing.T) {
		fresh(t, "lost")
		lost := mustObject(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lost, namespace: "+ns+"-nowhere}\ndata: {k: v}\n")
		c := one(addon("lost", ns, []*unstructured.Unstructured{clone(cms[6:7])[0], lost}))
		want := `namespace "` + ns + `-nowhere" does not exist and this sync does not create it`
		if _, err := m.Diff(ctx, c, DefaultDiffOptions()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Diff error = %v, want %q", err, want)
		}
		if _, err := m.Sync(ctx, c, syncOpts()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Sync error = %v, want %q", err, want)
		}
		if get(t, m, cms[6]) != nil {
			t.Errorf("%s applied although its add-on cannot be synced", IDOf(cms[6]))
		}
	})

	t.Run("an object in the add-on namespace yet to be created is a create in diff and sync", func(t *testing.T) {
		fresh(t, "fresh")
		fresh := ns + "-fresh"
		t.Cleanup(func() { _ = dyn(t).Resource(namespaceGVR).Delete(ctx, fresh, metav1.DeleteOptions{}) })
		obj := mustObject(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fresh, namespace: "+fresh+"}\ndata: {k: v}\n")
		c := one(addon("fresh", fresh, []*unstructured.Unstructured{obj}))
		res, err := m.Diff(ctx, c, DefaultDiffOptions())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"Namespace/" + fresh, "ConfigMap/" + fresh + "/fresh"}, diffSubjects(res.Addons[0].Create)); diff != "" {
			t.Errorf("diff creates (-want +got):\n%s", diff)
		}
		sr := mustSync(t, c)
		if diff := cmp.Diff(map[string]Action{"Namespace/" + fresh: ActionCreated, "ConfigMap/" + fresh + "/fresh": ActionCreated}, actions(sr.ChangeSet())); diff != "" {
			t.Errorf("sync (-want +got):\n%s", diff)
		}
	})

	t.Run("a prune over the limit is refused by diff and sync alike", func(t *testing.T) {
		fresh(t, "limit")
		objs := clone(cms[6:10])
		mustSync(t, one(addon("big", ns, objs)))
		shrunk := one(addon("big", ns, clone(objs[:1])))
		res, err := m.Diff(ctx, shrunk, DefaultDiffOptions())
		var pe *PruneLimitError
		if !errors.As(err, &pe) || len(res.Addons[0].PruneRefused) != 3 || res.Summary.Prune != 0 {
			t.Errorf("Diff: err %v, refused %v, summary %+v; want the prune of 3 refused", err, res.Addons[0].PruneRefused, res.Summary)
		}
		sr, err := m.Sync(ctx, shrunk, syncOpts())
		if !errors.As(err, &pe) || sr.ChangeSet().Count(ActionPruned) != 0 {
			t.Errorf("Sync: err %v, pruned %d; want the prune refused", err, sr.ChangeSet().Count(ActionPruned))
		}
		for _, o := range objs {
			if get(t, m, o) == nil {
				t.Errorf("%s deleted by a refused prune", IDOf(o))
			}
		}
	})

	t.Run("an object made by hand reads adopted, not created", func(t *testing.T) {
		fresh(t, "hand")
		obj := mustObject(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: by-hand, namespace: "+ns+"}\ndata: {k: v}\n")
		if _, err := objectClient(t, m, obj).Create(ctx, obj, metav1.CreateOptions{FieldManager: "kubectl-create"}); err != nil {
			t.Fatal(err)
		}
		c := one(addon("hand", ns, []*unstructured.Unstructured{obj.DeepCopy()}))
		res, err := m.Diff(ctx, c, DefaultDiffOptions())
		if err != nil {
			t.Fatal(err)
		}
		if got := diffSubjects(res.Addons[0].Adopt); len(got) != 1 || len(res.Addons[0].Create) != 0 || !strings.Contains(res.Addons[0].Adopt[0].Note, `"kubectl-create"`) {
			t.Errorf("diff: adopt %v (%+v), create %v", got, res.Addons[0].Adopt, res.Addons[0].Create)
		}
		sr := mustSync(t, c)
		if got := sr.Addons[0].ChangeSet.Entries[0]; got.Action != ActionAdopted || !strings.Contains(got.String(), "adopted") {
			t.Errorf("sync entry = %s, want adopted", got)
		}
		if sr := mustSync(t, c); sr.Addons[0].ChangeSet.Entries[0].Action != ActionUnchanged {
			t.Errorf("second sync: %s", sr.Addons[0].ChangeSet.Entries[0])
		}
	})
}

func TestClusterScopedObjectsHaveNoNamespace(t *testing.T) {
	testenv.Require(t, env)
	ns := env.Namespace(t)
	m := newTestManager(t, ns, nil)
	// Charts template .Release.Namespace into cluster-scoped objects too.
	cr := mustObject(t, "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: "+ns+"-view, namespace: "+ns+"}\nrules: []\n")
	c := &render.Cluster{Name: "test", Addons: []render.Addon{addon("rbac", ns, []*unstructured.Unstructured{cr})}}
	want := "ClusterRole/" + ns + "-view"
	res, err := m.Diff(t.Context(), c, DefaultDiffOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got := diffSubjects(res.Addons[0].Create); !cmp.Equal(got, []string{want}) {
		t.Errorf("diff creates %v, want %s", got, want)
	}
	sr, err := m.Sync(t.Context(), c, syncOpts())
	if err != nil {
		t.Fatal(err)
	}
	if got := sr.Addons[0].ChangeSet.Entries[0]; got.Subject != want || got.ID.Namespace != "" {
		t.Errorf("sync entry %+v, want %s without a namespace", got, want)
	}
}
