package helmrelease

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/addonsync/addonsync/pkg/config"
)

// renderLike renders the chart with `helm template` (hooks left out, as the sync engine
// applies them apart) and labels the objects as addonsync's render does.
func renderLike(t *testing.T, c *clients, release, ns, chart string, set string) []*unstructured.Unstructured {
	t.Helper()
	out := mustHelm(t, "", "template", release, chart, "-n", ns, "--no-hooks", "--set", set)
	objs, err := parseManifest(c.mapper, out, ns)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		l := o.GetLabels()
		l["app.kubernetes.io/managed-by"] = "addonsync"
		l["addonsync.io/addon"] = release
		o.SetLabels(l)
	}
	return objs
}

// apply server-side applies objs as addonsync does (field manager "addonsync", forced).
func (c *clients) apply(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatal(err)
		}
		ri := dynamic.ResourceInterface(c.dyn.Resource(m.Resource))
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ri = c.dyn.Resource(m.Resource).Namespace(o.GetNamespace())
		}
		if _, err := ri.Apply(context.Background(), o.GetName(), o, metav1.ApplyOptions{FieldManager: "addonsync", Force: true}); err != nil {
			t.Fatalf("%s: apply: %v", IDOf(o), err)
		}
	}
}

func managers(u *unstructured.Unstructured) []string {
	var out []string
	for _, e := range u.GetManagedFields() {
		out = append(out, e.Manager+"/"+string(e.Operation))
	}
	return out
}

func ownedByHelm(u *unstructured.Unstructured) bool {
	for _, e := range u.GetManagedFields() {
		if e.Manager == HelmFieldManager {
			return true
		}
	}
	return false
}

// TestTransferOnRealReleases installs a release with the real helm CLI, then adopts it as
// a sync does: transfer Helm's field ownership, server-side apply the render (other values,
// one object fewer), and checks that Helm owns nothing any more, that nothing was deleted
// or recreated, and that a second apply writes nothing.
func TestTransferOnRealReleases(t *testing.T) {
	requireCluster(t)
	ctx := context.Background()
	ns := namespace(t)
	chart := chartFile(t, webChart("web", "1.2.3"))
	mustHelm(t, "", "install", "web", chart, "-n", ns, "--set", "extra=true")
	c := newClients(t)

	rel, err := NewReader(c.kube, c.mapper, DefaultReaderOptions()).Find(ctx, "web", ns)
	if err != nil || rel == nil {
		t.Fatalf("Find = %v, %v", rel, err)
	}
	render := renderLike(t, c, "web", ns, chart, "replicas=3")
	var renderIDs []ObjectID
	for _, o := range render {
		renderIDs = append(renderIDs, IDOf(o))
	}
	plan := NewPlan(rel, renderIDs, config.PrunePolicy{}, false)
	leftover := ObjectID{Kind: "ConfigMap", Namespace: ns, Name: "web-extra"}
	wantPlan := Plan{Adopted: webObjects("web", ns, false), Leftovers: []Leftover{{ID: leftover, Reason: ReasonLeftoverNoFlag}}}
	if diff := cmp.Diff(wantPlan, plan); diff != "" {
		t.Fatalf("plan (-want +got):\n%s", diff)
	}
	if differs, err := rel.RenderDiffers(render, "app.kubernetes.io/managed-by", "addonsync.io/addon"); err != nil || !differs {
		t.Errorf("RenderDiffers = %v, %v; want true (replicas 2 -> 3, one object fewer)", differs, err)
	}

	before := map[ObjectID]*unstructured.Unstructured{}
	for _, id := range plan.Adopted {
		before[id] = c.get(t, id)
		if !OwnedBy(before[id]) {
			t.Fatalf("%s: helm owns nothing before the transfer: %v", id, managers(before[id]))
		}
	}
	c.count.take()
	tr := NewTransferrer(c.dyn, c.mapper, DefaultTransferOptions())
	var live []*unstructured.Unstructured
	for _, id := range plan.Adopted {
		live = append(live, before[id])
	}
	live = append(live, nil) // a rendered object that does not exist yet
	patched, err := tr.TransferAll(ctx, live, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(plan.Adopted, patched); diff != "" {
		t.Fatalf("TransferAll patched (-want +got):\n%s", diff)
	}
	c.apply(t, render)

	t.Run("only patches: no object deleted or created", func(t *testing.T) {
		for _, r := range c.count.take() {
			if !strings.HasPrefix(r, "PATCH ") && !strings.HasPrefix(r, "GET ") {
				t.Errorf("request %s", r)
			}
		}
	})
	t.Run("helm owns nothing, UID and creationTimestamp unchanged", func(t *testing.T) {
		for _, id := range plan.Adopted {
			after := c.get(t, id)
			if ownedByHelm(after) {
				t.Errorf("%s: still has a helm managedFields entry: %v", id, managers(after))
			}
			if after.GetUID() != before[id].GetUID() || !after.GetCreationTimestamp().Time.Equal(before[id].GetCreationTimestamp().Time) {
				t.Errorf("%s: recreated: UID %s -> %s, created %v -> %v", id, before[id].GetUID(), after.GetUID(), before[id].GetCreationTimestamp(), after.GetCreationTimestamp())
			}
			if _, ok := after.GetAnnotations()["meta.helm.sh/release-name"]; ok {
				t.Errorf("%s: Helm's ownership annotation survived the apply", id)
			}
			if got := after.GetLabels()["app.kubernetes.io/managed-by"]; got != "addonsync" {
				t.Errorf("%s: managed-by = %q", id, got)
			}
		}
		cm := c.get(t, ObjectID{Kind: "ConfigMap", Namespace: ns, Name: "web-config"})
		if got, _, _ := unstructured.NestedString(cm.Object, "data", "replicas"); got != "3" {
			t.Errorf("data.replicas = %q, want the render's 3", got)
		}
	})
	t.Run("a second apply writes nothing", func(t *testing.T) {
		rv := map[ObjectID]string{}
		for _, id := range plan.Adopted {
			rv[id] = c.get(t, id).GetResourceVersion()
		}
		for _, id := range plan.Adopted {
			if patched, err := tr.Transfer(ctx, c.get(t, id)); err != nil || patched {
				t.Errorf("second Transfer(%s) = %v, %v; want nothing to do", id, patched, err)
			}
		}
		c.apply(t, render)
		for _, id := range plan.Adopted {
			if got := c.get(t, id).GetResourceVersion(); got != rv[id] {
				t.Errorf("%s: resourceVersion %s -> %s on the second apply", id, rv[id], got)
			}
		}
	})
	t.Run("the leftover is untouched", func(t *testing.T) {
		u := c.get(t, leftover)
		if !ownedByHelm(u) || u.GetLabels()["app.kubernetes.io/managed-by"] != "Helm" {
			t.Errorf("%s: changed: managers %v, labels %v", leftover, managers(u), u.GetLabels())
		}
	})
	t.Run("without the transfer helm keeps fields (the control)", func(t *testing.T) {
		mustHelm(t, "", "install", "ctl", chart, "-n", ns)
		c.apply(t, renderLike(t, c, "ctl", ns, chart, "replicas=3"))
		u := c.get(t, ObjectID{Kind: "ConfigMap", Namespace: ns, Name: "ctl-config"})
		if !ownedByHelm(u) {
			t.Errorf("apply alone removed helm's entry (managers %v): the transfer test proves nothing", managers(u))
		}
	})
}
