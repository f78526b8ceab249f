package sync

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/pkg/render"
)

// releaseHooks are hooks in every phase, as ingress-nginx and cert-manager have them:
// <prefix>-pre-install, -post-install, -pre-upgrade, -post-upgrade Jobs (before-hook-creation,
// so they stay) and a hook-succeeded Job in both pre phases.
func releaseHooks(ns, prefix string) []render.Hook {
	return []render.Hook{
		hook(hookJob(ns, prefix+"-pre-install"), 0, nil, render.HookPreInstall),
		hook(hookJob(ns, prefix+"-post-install"), 0, nil, render.HookPostInstall),
		hook(hookJob(ns, prefix+"-pre-upgrade"), 0, nil, render.HookPreUpgrade),
		hook(hookJob(ns, prefix+"-post-upgrade"), 0, nil, render.HookPostUpgrade),
		hook(hookJob(ns, prefix+"-certgen"), -1, []string{HookDeleteSucceeded}, render.HookPreInstall, render.HookPreUpgrade),
	}
}

// resourceVersions maps "resource/namespace/name" to resourceVersion for the resources and
// namespaces given.
func liveVersions(t *testing.T, gvrs []schema.GroupVersionResource, nss ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, gvr := range gvrs {
		for _, ns := range nss {
			list, err := dyn(t).Resource(gvr).Namespace(ns).List(t.Context(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range list.Items {
				out[gvr.Resource+"/"+ns+"/"+u.GetName()] = u.GetResourceVersion()
			}
		}
	}
	return out
}

func TestHelmReleaseSemantics(t *testing.T) {
	testenv.Require(t, env)
	ctx := t.Context()
	ns := env.Namespace(t)
	ingNS := ns + "-ing"
	t.Cleanup(func() { _ = dyn(t).Resource(namespaceGVR).Delete(ctx, ingNS, metav1.DeleteOptions{}) })
	rec := &recorder{}
	m := newTestManager(t, ns, rec)
	jc := runJobController(ctx, t, ns)
	jcIng := runJobController(ctx, t, ingNS)
	certs := addon("certs", ns, []*unstructured.Unstructured{hookConfigMap(ns, "certs-config")})
	certs.Hooks = releaseHooks(ns, "certs")
	ingress := addon("ingress", ingNS, []*unstructured.Unstructured{hookConfigMap(ingNS, "ingress-config")})
	ingress.Hooks = releaseHooks(ingNS, "ingress")
	ingress.Spec.Prune.AllowNamespaces = true
	c := &render.Cluster{Name: "test", Addons: []render.Addon{certs, ingress}}
	for i := range c.Addons {
		c.Addons[i].Spec.Sync.Timeout = "60s"
	}
	sync := func(t *testing.T) (*Result, error) {
		t.Helper()
		return m.Sync(ctx, c, syncOpts())
	}
	ran := func() []string { return append(jc.order(), jcIng.order()...) }
	certsRan := func() []string {
		return slices.DeleteFunc(jc.order(), func(s string) bool { return !strings.HasPrefix(s, "certs-") })
	}
	gvrs := []schema.GroupVersionResource{configMapGVR, jobsGVR}
	nss := []string{ns, ingNS, ns + "-inv"}

	t.Run("the first sync runs the install hooks", func(t *testing.T) {
		if _, err := sync(t); err != nil {
			t.Fatal(err)
		}
		want := []string{"certs-certgen", "certs-pre-install", "certs-post-install", "ingress-certgen", "ingress-pre-install", "ingress-post-install"}
		if diff := cmp.Diff(want, ran()); diff != "" {
			t.Errorf("Jobs run (-want +got):\n%s", diff)
		}
	})

	t.Run("a no-op sync sends no write and runs no hook", func(t *testing.T) {
		before, jobs := liveVersions(t, gvrs, nss...), len(ran())
		rec.reset()
		if _, err := sync(t); err != nil {
			t.Fatal(err)
		}
		if w := writes(rec.reset()); len(w) > 0 {
			t.Errorf("a no-op sync wrote: %v", w)
		}
		if diff := cmp.Diff(before, liveVersions(t, gvrs, nss...)); diff != "" {
			t.Errorf("resourceVersions (-before +after):\n%s", diff)
		}
		if got := ran()[jobs:]; len(got) > 0 {
			t.Errorf("Jobs run: %v", got)
		}
	})

	t.Run("a changed value runs the upgrade hooks once and only once", func(t *testing.T) {
		c.Addons[0].Objects[0].Object["data"] = map[string]any{"hook": "changed"}
		certs, all := len(certsRan()), len(ran())
		if _, err := sync(t); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"certs-certgen", "certs-pre-upgrade", "certs-post-upgrade"}, certsRan()[certs:]); diff != "" {
			t.Errorf("Jobs run (-want +got):\n%s", diff)
		}
		if n := len(ran()) - all; n != 3 {
			t.Errorf("%d Jobs run, want certs' 3 upgrade hooks only: %v", n, ran())
		}
		rec.reset()
		if _, err := sync(t); err != nil {
			t.Fatal(err)
		}
		if n := len(ran()) - all; n != 3 {
			t.Errorf("the next sync ran Jobs again: %v", ran())
		}
		if w := writes(rec.reset()); len(w) > 0 {
			t.Errorf("the next sync wrote: %v", w)
		}
	})

	t.Run("a failed first install runs the install hooks again on the next sync", func(t *testing.T) {
		web := addon("web", ns, []*unstructured.Unstructured{hookConfigMap(ns, "web-config")})
		web.Hooks = releaseHooks(ns, "web")
		web.Spec.Sync.Timeout = "60s"
		c.Addons = append(c.Addons, web)
		jc.failNext("web-pre-install")
		jobs := len(jc.order())
		_, err := sync(t)
		var hfe *HookFailedError
		if !errors.As(err, &hfe) || hfe.Event != render.HookPreInstall {
			t.Fatalf("Sync error = %v, want the pre-install hook failure", err)
		}
		inv, err := m.Inventory(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		if !inv.Exists || inv.Record == nil || inv.Record.Installed || inv.Record.LastHook == "" {
			t.Errorf("release record after the failure = %+v (parent exists %v), want not installed with the failure noted", inv.Record, inv.Exists)
		}
		res, err := m.Diff(ctx, c, DefaultDiffOptions())
		if err != nil {
			t.Fatal(err)
		}
		if res.Addons[2].Hooks != "install" || !res.HasChanges() {
			t.Errorf("diff of web: hooks %q, changes %v; want the install hooks to run", res.Addons[2].Hooks, res.HasChanges())
		}
		if _, err := sync(t); err != nil {
			t.Fatal(err)
		}
		// web-certgen succeeded in the first attempt and, being hook-succeeded only, is kept
		// until every pre-install hook succeeded: the retry finds it done and does not rerun it.
		want := []string{"web-certgen", "web-pre-install", "web-pre-install", "web-post-install"}
		if diff := cmp.Diff(want, jc.order()[jobs:]); diff != "" {
			t.Errorf("Jobs run (-want +got):\n%s", diff)
		}
		if res, err := m.Diff(ctx, c, DefaultDiffOptions()); err != nil || res.HasChanges() {
			t.Errorf("diff after the install completed: %v, %+v", err, res.Summary)
		}
	})

	t.Run("removing an add-on removes its last hook objects and the namespace made for it", func(t *testing.T) {
		c.Addons = slices.DeleteFunc(c.Addons, func(a render.Addon) bool { return a.Name == "ingress" })
		if _, err := sync(t); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"ingress-pre-install", "ingress-post-install"} {
			u, err := dyn(t).Resource(jobsGVR).Namespace(ingNS).Get(ctx, name, metav1.GetOptions{})
			if err == nil && u.GetDeletionTimestamp() == nil {
				t.Errorf("hook Job %s still exists", name)
			}
		}
		u, err := dyn(t).Resource(namespaceGVR).Get(ctx, ingNS, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) && (err != nil || u.GetDeletionTimestamp() == nil) {
			t.Errorf("namespace %s: err %v, not being deleted", ingNS, err)
		}
		if _, err := m.Inventory(ctx, "ingress"); err != nil {
			t.Fatal(err)
		}
	})
}
