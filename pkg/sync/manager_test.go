package sync

import (
	"errors"
	"net/http"
	"os/exec"
	"slices"
	"sort"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/pkg/render"
)

// stageOfPath tells the stage of an apply request from its URL path.
func stageOfPath(p string) stage {
	switch {
	case strings.Contains(p, "/customresourcedefinitions/"):
		return stageCRDsNamespaces
	case strings.HasPrefix(p, "/api/v1/namespaces/") && strings.Count(p, "/") == 4:
		return stageCRDsNamespaces
	case strings.Contains(p, "/clusterroles/"), strings.Contains(p, "/clusterrolebindings/"):
		return stageClusterRBAC
	case strings.Contains(p, "/validatingwebhookconfigurations/"), strings.Contains(p, "/mutatingwebhookconfigurations/"):
		return stageWebhooks
	}
	return stageResources
}

func TestSync(t *testing.T) {
	testenv.Require(t, env)
	ns := env.Namespace(t)
	group := ns + ".example.com"
	vars := map[string]string{"NS": ns, "GROUP": group}
	base := append(fixture(t, "app", vars), fixture(t, "configmaps", vars)...)
	big := bigCRD(group, "bigs", "Big", 300<<10)
	base = append(base, big)
	rec := &recorder{}
	m := newTestManager(t, ns, rec)
	ctx := t.Context()
	cluster := func(objs []*unstructured.Unstructured, mutate ...func(*render.Addon)) *render.Cluster {
		a := addon("app", ns, objs)
		for _, f := range mutate {
			f(&a)
		}
		return &render.Cluster{Name: "test", Addons: []render.Addon{a}}
	}
	id := ApplySetID(ObjectID{Kind: "ConfigMap", Namespace: ns + "-inv", Name: "addonsync-app"})

	t.Run("creates everything in order", func(t *testing.T) {
		rec.reset()
		res, err := m.Sync(ctx, cluster(base), syncOpts())
		if err != nil {
			t.Fatal(err)
		}
		want := allAs(base, ActionCreated)
		if diff := cmp.Diff(want, actions(res.ChangeSet())); diff != "" {
			t.Errorf("actions (-want +got):\n%s", diff)
		}
		var stages []stage
		for _, r := range writes(rec.reset()) {
			if r.Method != "PATCH" || strings.Contains(r.Path, "/namespaces/"+ns+"-inv/") {
				continue
			}
			stages = append(stages, stageOfPath(r.Path))
		}
		if len(stages) != len(base) || !sort.SliceIsSorted(stages, func(i, j int) bool { return stages[i] < stages[j] }) {
			t.Errorf("applies out of stage order or missing: %v", stages)
		}
		if get(t, m, find(t, base, "Widget/"+ns+"/w1")) == nil {
			t.Error("the custom resource of the CRD applied in the same add-on is missing")
		}
		live := get(t, m, big)
		if b, _ := live.MarshalJSON(); len(b) < 256<<10 {
			t.Errorf("big CRD is %d bytes, want > 256 KiB", len(b))
		}
	})

	t.Run("records a kubectl-compatible ApplySet parent", func(t *testing.T) {
		parent, err := dyn(t).Resource(configMapGVR).Namespace(ns+"-inv").Get(ctx, "addonsync-app", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantGKs := "ClusterRole.rbac.authorization.k8s.io,ClusterRoleBinding.rbac.authorization.k8s.io,ConfigMap," +
			"CustomResourceDefinition.apiextensions.k8s.io,Deployment.apps,Namespace,PersistentVolumeClaim,Secret,Service," +
			"ServiceAccount,ValidatingWebhookConfiguration.admissionregistration.k8s.io,Widget." + group
		want := map[string]string{
			LabelApplySetID:              id,
			AnnotationApplySetTooling:    "addonsync/test",
			AnnotationApplySetGroupKinds: wantGKs,
			AnnotationApplySetNamespaces: ns,
		}
		got := map[string]string{
			LabelApplySetID:              parent.GetLabels()[LabelApplySetID],
			AnnotationApplySetTooling:    parent.GetAnnotations()[AnnotationApplySetTooling],
			AnnotationApplySetGroupKinds: parent.GetAnnotations()[AnnotationApplySetGroupKinds],
			AnnotationApplySetNamespaces: parent.GetAnnotations()[AnnotationApplySetNamespaces],
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("parent (-want +got):\n%s", diff)
		}
		out, err := exec.CommandContext(ctx, env.Kubectl(), "--kubeconfig", env.Kubeconfig, "get", "configmaps", "-n", ns,
			"-l", LabelApplySetPartOf+"="+id, "-o", "name").CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl: %v\n%s", err, out)
		}
		wantNames := "configmap/cm-0\nconfigmap/cm-1\nconfigmap/cm-2\nconfigmap/cm-3\nconfigmap/cm-4\nconfigmap/cm-5\n" +
			"configmap/cm-6\nconfigmap/cm-7\nconfigmap/cm-8\nconfigmap/cm-9\nconfigmap/kept\n"
		if diff := cmp.Diff(wantNames, string(out)); diff != "" {
			t.Errorf("kubectl get -l part-of (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(subjects(base), members(t, m, "app")); diff != "" {
			t.Errorf("inventory members (-want +got):\n%s", diff)
		}
	})

	t.Run("does not write unchanged objects", func(t *testing.T) {
		before := resourceVersions(t, m, base)
		rec.reset()
		res, err := m.Sync(ctx, cluster(base), syncOpts())
		if err != nil {
			t.Fatal(err)
		}
		if w := writes(rec.reset()); len(w) > 0 {
			t.Errorf("a no-op sync sent writes: %v", w)
		}
		if diff := cmp.Diff(allAs(base, ActionUnchanged), actions(res.ChangeSet())); diff != "" {
			t.Errorf("actions (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(before, resourceVersions(t, m, base)); diff != "" {
			t.Errorf("resourceVersions (-before +after):\n%s", diff)
		}
	})

	t.Run("configures exactly the changed objects", func(t *testing.T) {
		objs := clone(base)
		_ = unstructured.SetNestedField(find(t, objs, "ConfigMap/"+ns+"/cm-1").Object, "changed", "data", "key")
		_ = unstructured.SetNestedField(find(t, objs, "Deployment/"+ns+"/app").Object, int64(3), "spec", "replicas")
		res, err := m.Sync(ctx, cluster(objs), syncOpts())
		if err != nil {
			t.Fatal(err)
		}
		want := allAs(base, ActionUnchanged)
		want["ConfigMap/"+ns+"/cm-1"] = ActionConfigured
		want["Deployment/"+ns+"/app"] = ActionConfigured
		if diff := cmp.Diff(want, actions(res.ChangeSet())); diff != "" {
			t.Errorf("actions (-want +got):\n%s", diff)
		}
		base = objs
	})

	t.Run("puts back a field changed by hand", func(t *testing.T) {
		cm := find(t, base, "ConfigMap/"+ns+"/cm-2")
		live := get(t, m, cm)
		_ = unstructured.SetNestedField(live.Object, "edited", "data", "key")
		if _, err := dyn(t).Resource(configMapGVR).Namespace(ns).Update(ctx, live, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
			t.Fatal(err)
		}
		res, err := m.Sync(ctx, cluster(base), syncOpts())
		if err != nil {
			t.Fatal(err)
		}
		want := allAs(base, ActionUnchanged)
		want["ConfigMap/"+ns+"/cm-2"] = ActionConfigured
		if diff := cmp.Diff(want, actions(res.ChangeSet())); diff != "" {
			t.Errorf("actions (-want +got):\n%s", diff)
		}
		if v, _, _ := unstructured.NestedString(get(t, m, cm).Object, "data", "key"); v != "value-2" {
			t.Errorf("data.key = %q, want value-2", v)
		}
	})

	t.Run("handles a field another manager owns per the force policy", func(t *testing.T) {
		cm := find(t, base, "ConfigMap/"+ns+"/cm-3")
		theirs := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "cm-3", "namespace": ns},
			"data":     map[string]any{"key": "theirs"},
		}}
		if _, err := dyn(t).Resource(configMapGVR).Namespace(ns).Apply(ctx, "cm-3", theirs, metav1.ApplyOptions{FieldManager: "other-tool", Force: true}); err != nil {
			t.Fatal(err)
		}
		noForce := false
		_, err := m.Sync(ctx, cluster(base, func(a *render.Addon) { a.Spec.Sync.ForceConflicts = &noForce }), syncOpts())
		var ce *ConflictError
		if !errors.As(err, &ce) {
			t.Fatalf("err = %v, want a ConflictError", err)
		}
		if diff := cmp.Diff([]FieldConflict{{Manager: "other-tool", Field: ".data.key"}}, ce.Conflicts); diff != "" {
			t.Errorf("conflicts (-want +got):\n%s", diff)
		}
		if !strings.Contains(err.Error(), "ConfigMap/"+ns+"/cm-3") {
			t.Errorf("error does not name the object: %v", err)
		}
		if v, _, _ := unstructured.NestedString(get(t, m, cm).Object, "data", "key"); v != "theirs" {
			t.Errorf("without force data.key = %q, want theirs", v)
		}
		res, err := m.Sync(ctx, cluster(base), syncOpts())
		if err != nil {
			t.Fatal(err)
		}
		if got := actions(res.ChangeSet())["ConfigMap/"+ns+"/cm-3"]; got != ActionConfigured {
			t.Errorf("with force cm-3 %s, want configured", got)
		}
		if v, _, _ := unstructured.NestedString(get(t, m, cm).Object, "data", "key"); v != "value-3" {
			t.Errorf("with force data.key = %q, want value-3", v)
		}
	})

	t.Run("reports an immutable field change or recreates the object", func(t *testing.T) {
		objs := clone(base)
		dep := find(t, objs, "Deployment/"+ns+"/app")
		_ = unstructured.SetNestedStringMap(dep.Object, map[string]string{"app": "app2"}, "spec", "selector", "matchLabels")
		_ = unstructured.SetNestedStringMap(dep.Object, map[string]string{"app": "app2"}, "spec", "template", "metadata", "labels")
		_, err := m.Sync(ctx, cluster(objs), syncOpts())
		var ie *ImmutableFieldError
		if !errors.As(err, &ie) {
			t.Fatalf("err = %v, want an ImmutableFieldError", err)
		}
		if diff := cmp.Diff([]string{"spec.selector"}, ie.Fields); diff != "" {
			t.Errorf("fields (-want +got):\n%s", diff)
		}
		res, err := m.Sync(ctx, cluster(objs, func(a *render.Addon) { a.Spec.Sync.Recreate = true }), syncOpts())
		if err != nil {
			t.Fatal(err)
		}
		if got := actions(res.ChangeSet())["Deployment/"+ns+"/app"]; got != ActionConfigured {
			t.Errorf("Deployment %s, want configured (recreated)", got)
		}
		if v, _, _ := unstructured.NestedString(get(t, m, dep).Object, "spec", "selector", "matchLabels", "app"); v != "app2" {
			t.Errorf("selector app = %q, want app2", v)
		}
		base = objs
	})

	t.Run("prunes a dropped object and keeps Namespaces, CRDs, claims and keep-annotated objects", func(t *testing.T) {
		dropped := []string{
			"ConfigMap/" + ns + "/cm-4", "Namespace/" + ns + "-extra", "CustomResourceDefinition/widgets." + group,
			"PersistentVolumeClaim/" + ns + "/data", "ConfigMap/" + ns + "/kept",
		}
		objs := without(base, dropped...)
		res, err := m.Sync(ctx, cluster(objs), syncOpts())
		if err != nil {
			t.Fatal(err)
		}
		want := allAs(objs, ActionUnchanged)
		want[dropped[0]] = ActionPruned
		for _, d := range dropped[1:] {
			want[d] = ActionSkipped
		}
		if diff := cmp.Diff(want, actions(res.ChangeSet())); diff != "" {
			t.Errorf("actions (-want +got):\n%s", diff)
		}
		if get(t, m, find(t, base, dropped[0])) != nil {
			t.Errorf("%s not pruned", dropped[0])
		}
		for _, d := range dropped[1:] {
			live := get(t, m, find(t, base, d))
			if live == nil {
				t.Errorf("%s was deleted, want kept", d)
				continue
			}
			if _, ok := live.GetLabels()[LabelApplySetPartOf]; ok {
				t.Errorf("%s still labelled part-of, want released", d)
			}
		}
		if diff := cmp.Diff(subjects(objs), members(t, m, "app")); diff != "" {
			t.Errorf("inventory members (-want +got):\n%s", diff)
		}
		base = objs
	})

	t.Run("refuses a prune over the limit and deletes nothing", func(t *testing.T) {
		var dropped []string
		for _, n := range []string{"cm-0", "cm-2", "cm-3", "cm-5", "cm-6", "cm-7", "cm-8", "cm-9"} {
			dropped = append(dropped, "ConfigMap/"+ns+"/"+n)
		}
		rec.reset()
		res, err := m.Sync(ctx, cluster(without(base, dropped...)), syncOpts())
		var pe *PruneLimitError
		if !errors.As(err, &pe) {
			t.Fatalf("err = %v, want a PruneLimitError", err)
		}
		if pe.Count != 8 || pe.Total != len(base) {
			t.Errorf("limit error counts %d of %d, want 8 of %d", pe.Count, pe.Total, len(base))
		}
		if n := res.ChangeSet().Count(ActionPruned); n != 0 {
			t.Errorf("%d pruned, want 0", n)
		}
		for _, r := range writes(rec.reset()) {
			if r.Method == "DELETE" {
				t.Errorf("sent %s", r)
			}
		}
		for _, d := range dropped {
			if get(t, m, find(t, base, d)) == nil {
				t.Errorf("%s deleted by a refused prune", d)
			}
		}
	})
}

// resourceVersions maps subjects to live resourceVersions.
func resourceVersions(t *testing.T, m *Manager, objs []*unstructured.Unstructured) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, o := range objs {
		if live := get(t, m, o); live != nil {
			out[IDOf(o).String()] = live.GetResourceVersion()
		}
	}
	return out
}

// TestSyncRunsIndependentAddonsConcurrently: add-ons without a dependency between them run at
// once, and an add-on starts only after the add-ons it depends on have finished. "slow" has
// every apply held back; "quick" (independent) finishes before it, "after" (dependsOn slow)
// starts only after it.
func TestSyncRunsIndependentAddonsConcurrently(t *testing.T) {
	testenv.Require(t, env)
	ns := env.Namespace(t)
	cm := func(name string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": name, "namespace": ns}, "data": map[string]any{"k": "v"},
		}}
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodPatch && strings.Contains(req.URL.Path, "/configmaps/slow-") {
				time.Sleep(700 * time.Millisecond)
			}
			return rt.RoundTrip(req)
		})
	}
	o := DefaultManagerOptions()
	o.InventoryNamespace = ns + "-inv"
	m, err := NewManager(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	c := &render.Cluster{Name: "test", Addons: []render.Addon{
		addon("slow", ns, []*unstructured.Unstructured{cm("slow-1"), cm("slow-2")}),
		addon("quick", ns, []*unstructured.Unstructured{cm("quick-1")}),
		addon("after", ns, []*unstructured.Unstructured{cm("after-1")}, "slow"),
	}}
	var mu gosync.Mutex
	var events []string
	so := syncOpts()
	so.Progress = func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Type {
		case EventAddonStarted:
			events = append(events, "start "+e.Addon)
		case EventAddonFinished:
			events = append(events, "finish "+e.Addon)
		}
	}
	res, err := m.Sync(t.Context(), c, so)
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, e := range events {
		pos[e] = i
	}
	if len(pos) != 6 {
		t.Fatalf("events %v", events)
	}
	if pos["finish quick"] > pos["finish slow"] {
		t.Errorf("quick waited for slow, which it does not depend on: %v", events)
	}
	if pos["start after"] < pos["finish slow"] {
		t.Errorf("after started before slow, its dependency, finished: %v", events)
	}
	var names []string
	for _, a := range res.Addons {
		names = append(names, a.Addon)
	}
	if want := []string{"slow", "quick", "after"}; !slices.Equal(names, want) {
		t.Errorf("results in order %v, want the cluster's %v", names, want)
	}
	if n := res.ChangeSet().Count(ActionCreated); n != 4 {
		t.Errorf("%d created, want 4: %s", n, res.ChangeSet())
	}
}
