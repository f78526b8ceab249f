package sync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/pkg/render"
)

func TestSyncRemovedAddon(t *testing.T) {
	testenv.Require(t, env)
	ns := env.Namespace(t)
	vars := map[string]string{"NS": ns}
	app, extra := fixture(t, "configmaps", vars), fixture(t, "extra", vars)
	m := newTestManager(t, ns, nil)
	ctx := t.Context()
	both := &render.Cluster{Name: "test", Addons: []render.Addon{addon("app", ns, app), addon("extra", ns, extra, "app")}}
	if _, err := m.Sync(ctx, both, syncOpts()); err != nil {
		t.Fatal(err)
	}

	t.Run("prunes an add-on removed from the cluster config, parent included", func(t *testing.T) {
		res, err := m.Sync(ctx, &render.Cluster{Name: "test", Addons: []render.Addon{addon("app", ns, app)}}, syncOpts())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Addons) != 2 || res.Addons[1].Addon != "extra" || !res.Addons[1].Removed {
			t.Fatalf("results %+v, want app then removed extra", res.Addons)
		}
		if diff := cmp.Diff(allAs(extra, ActionPruned), actions(res.Addons[1].ChangeSet)); diff != "" {
			t.Errorf("extra (-want +got):\n%s", diff)
		}
		for _, o := range extra {
			if get(t, m, o) != nil {
				t.Errorf("%s not pruned", IDOf(o))
			}
		}
		_, err = dyn(t).Resource(configMapGVR).Namespace(ns+"-inv").Get(ctx, "addonsync-extra", metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("parent of the removed add-on: err = %v, want NotFound", err)
		}
		if diff := cmp.Diff(subjects(app), members(t, m, "app")); diff != "" {
			t.Errorf("app members (-want +got):\n%s", diff)
		}
	})
}

func TestSyncCancelled(t *testing.T) {
	testenv.Require(t, env)
	ns := env.Namespace(t)
	base := fixture(t, "configmaps", map[string]string{"NS": ns})
	rec := &recorder{}
	m := newTestManager(t, ns, rec)
	cluster := func(objs []*unstructured.Unstructured) *render.Cluster {
		return &render.Cluster{Name: "test", Addons: []render.Addon{addon("app", ns, objs)}}
	}
	if _, err := m.Sync(t.Context(), cluster(base), syncOpts()); err != nil {
		t.Fatal(err)
	}
	grown := clone(base)
	for i := range 60 {
		s := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Secret",
			"metadata":   map[string]any{"name": fmt.Sprintf("gen-%02d", i), "namespace": ns},
			"stringData": map[string]any{"n": fmt.Sprint(i)},
		}}
		grown = append(grown, s)
	}

	t.Run("a sync cancelled half-way leaves what it created findable", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		rec.reset() // counts the writes of this sync only
		rec.mu.Lock()
		rec.cancelAfter, rec.cancel = 25, cancel
		rec.mu.Unlock()
		_, err := m.Sync(ctx, cluster(grown), syncOpts())
		rec.mu.Lock()
		rec.cancel = nil
		rec.mu.Unlock()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		created := 0
		for i := range 60 {
			if get(t, m, find(t, grown, fmt.Sprintf("Secret/%s/gen-%02d", ns, i))) != nil {
				created++
			}
		}
		if created == 0 || created == 60 {
			t.Fatalf("%d Secrets created before the cancel, want some but not all", created)
		}
		if n := len(members(t, m, "app")); n != len(base)+created {
			t.Errorf("inventory finds %d members, want %d", n, len(base)+created)
		}
	})

	t.Run("a rerun ends with exactly the rendered set and a correct parent", func(t *testing.T) {
		o := syncOpts()
		o.MaxPrune = -1
		if _, err := m.Sync(t.Context(), cluster(base), o); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(subjects(base), members(t, m, "app")); diff != "" {
			t.Errorf("members (-want +got):\n%s", diff)
		}
		parent, err := dyn(t).Resource(configMapGVR).Namespace(ns+"-inv").Get(t.Context(), "addonsync-app", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := parent.GetAnnotations()[AnnotationApplySetGroupKinds]; got != "ConfigMap" {
			t.Errorf("parent group-kinds %q, want ConfigMap", got)
		}
		for i := range 60 {
			s := find(t, grown, fmt.Sprintf("Secret/%s/gen-%02d", ns, i))
			if get(t, m, s) != nil {
				t.Errorf("%s leaked", IDOf(s))
			}
		}
	})
}

func TestSyncPartialFailure(t *testing.T) {
	testenv.Require(t, env)
	ns := env.Namespace(t)
	cms := fixture(t, "configmaps", map[string]string{"NS": ns})
	m := newTestManager(t, ns, nil)
	ctx := t.Context()
	if _, err := m.Sync(ctx, &render.Cluster{Name: "test", Addons: []render.Addon{addon("app", ns, cms)}}, syncOpts()); err != nil {
		t.Fatal(err)
	}
	bad := obj("v1", "ConfigMap", ns, "Not_A_Valid_Name")
	dependent := obj("v1", "ConfigMap", ns, "dependent")
	c := &render.Cluster{Name: "test", Addons: []render.Addon{
		addon("app", ns, without(cms, "ConfigMap/"+ns+"/cm-0")),
		addon("broken", ns, []*unstructured.Unstructured{bad}),
		addon("dependent", ns, []*unstructured.Unstructured{dependent}, "broken"),
	}}
	res, err := m.Sync(ctx, c, syncOpts())

	t.Run("fails naming the object", func(t *testing.T) {
		if err == nil || !strings.Contains(err.Error(), "ConfigMap/"+ns+"/Not_A_Valid_Name: apply failed") {
			t.Errorf("err = %v, want the failed object named", err)
		}
	})
	t.Run("skips add-ons whose dependency failed", func(t *testing.T) {
		if len(res.Addons) != 3 || res.Addons[2].Err == nil || !strings.Contains(res.Addons[2].Err.Error(), `dependency "broken" failed`) {
			t.Fatalf("results %+v", res.Addons)
		}
		if diff := cmp.Diff(map[string]Action{"ConfigMap/" + ns + "/dependent": ActionSkipped}, actions(res.Addons[2].ChangeSet)); diff != "" {
			t.Errorf("dependent (-want +got):\n%s", diff)
		}
		if get(t, m, dependent) != nil {
			t.Error("the dependent add-on was applied")
		}
	})
	t.Run("prunes nothing after a partial apply", func(t *testing.T) {
		if get(t, m, cms[0]) == nil {
			t.Error("cm-0 was pruned although the apply did not complete")
		}
		if n := res.ChangeSet().Count(ActionPruned); n != 0 {
			t.Errorf("%d pruned, want 0", n)
		}
	})
}

func TestSyncCreatesAddonNamespace(t *testing.T) {
	testenv.Require(t, env)
	ns := env.Namespace(t)
	target := ns + "-new"
	cm := obj("v1", "ConfigMap", target, "settings")
	m := newTestManager(t, ns, nil)
	res, err := m.Sync(t.Context(), &render.Cluster{Name: "test", Addons: []render.Addon{addon("app", target, []*unstructured.Unstructured{cm})}}, syncOpts())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Action{"Namespace/" + target: ActionCreated, "ConfigMap/" + target + "/settings": ActionCreated}
	if diff := cmp.Diff(want, actions(res.ChangeSet())); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ConfigMap/" + target + "/settings"}, members(t, m, "app")); diff != "" {
		t.Errorf("members (-want +got): the add-on namespace must not be a member, so it is never pruned\n%s", diff)
	}
}
