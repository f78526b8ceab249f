package sync

import (
	"context"
	"reflect"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/internal/testutil/workload"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

// TestNoopSyncFromTheRenderCache syncs the six-add-on workload from a fresh render, then
// syncs it again as the CronJob's next process does, from the render cache: nothing may be
// written. A render read back from the cache differs from a fresh one in representation
// (empty slices where a fresh one has nil, numbers as decoded), never in content, and the
// release record's digest must not see the difference: when it did, every add-on was
// recorded as upgraded on every run.
func TestNoopSyncFromTheRenderCache(t *testing.T) {
	testenv.Require(t, env)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	prefix := benchPrefix("c")
	cfg := workloadConfig(t, prefix)
	cacheDir := t.TempDir()
	renderFresh := func(cacheDir string) *render.Cluster {
		o := render.DefaultOptions()
		o.CacheDir = cacheDir
		c, err := render.New(o).RenderCluster(ctx, cfg, workload.Cluster, render.RenderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	completeHookJobs(ctx, t, prefix)
	mo := DefaultManagerOptions()
	mo.InventoryNamespace = prefix + "-addonsync-system"
	so := DefaultSyncOptions()
	so.Wait = false // no controllers: Deployments never become available

	m, err := NewManager(env.Config, mo)
	if err != nil {
		t.Fatal(err)
	}
	first := renderFresh(cacheDir)
	t.Cleanup(func() { deleteCRDs(t, first) })
	if _, err := m.Sync(ctx, first, so); err != nil {
		t.Fatal(err)
	}
	parents := func() map[string]string {
		d, err := dynamic.NewForConfig(env.Config)
		if err != nil {
			t.Fatal(err)
		}
		l, err := d.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace(mo.InventoryNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, p := range l.Items {
			out[p.GetName()] = p.GetResourceVersion()
		}
		return out
	}
	before := parents()

	var count requestCounter
	rc := rest.CopyConfig(env.Config)
	rc.WrapTransport = count.wrap
	m2, err := NewManager(rc, mo)
	if err != nil {
		t.Fatal(err)
	}
	cached := renderFresh(cacheDir) // a new Renderer: served from the render cache
	res, err := m2.Sync(ctx, cached, so)
	if err != nil {
		t.Fatal(err)
	}
	// One LIST per kind for all add-ons, one of the parents, discovery: at most 60 (issue 9).
	if n := count.all.Load(); n > 60 {
		t.Errorf("a no-op sync of the workload sent %d requests, want at most 60", n)
	} else {
		t.Logf("a no-op sync of the workload sent %d requests", n)
	}
	if n := count.writes.Load(); n != 0 {
		t.Errorf("a no-op sync from the render cache sent %d writes: %v", n, count.written)
	}
	if cs := res.ChangeSet(); len(cs.Entries) != cs.Count(ActionUnchanged) {
		t.Errorf("a no-op sync from the render cache changed objects: %s", cs)
	}
	after := parents()
	for name, rv := range before {
		if after[name] != rv {
			t.Errorf("inventory parent %s was rewritten (resourceVersion %s -> %s)", name, rv, after[name])
		}
	}
	if len(before) < 6 {
		t.Errorf("only %d inventory parents: the workload did not sync", len(before))
	}
	t.Run("ListSelectedMatchesDynamic", func(t *testing.T) { listSelectedMatchesDynamic(t, m, first, prefix) })
}

// listSelectedMatchesDynamic: the gather step's own list decoding (listSelected) gives the
// items the dynamic client gives, for every kind of the synced workload (CRDs over 256 KiB,
// Secrets, webhooks, custom resources), everywhere and in one namespace, and nothing for a
// kind the API server does not serve.
func listSelectedMatchesDynamic(t *testing.T, m *Manager, c *render.Cluster, prefix string) {
	ctx := context.Background()
	kinds := map[schema.GroupVersionResource]bool{}
	for _, a := range c.Addons {
		for _, o := range a.Objects {
			mapping, err := m.mapper.RESTMapping(o.GroupVersionKind().GroupKind(), o.GroupVersionKind().Version)
			if err != nil {
				t.Fatal(err)
			}
			kinds[mapping.Resource] = true
		}
	}
	if len(kinds) < 15 {
		t.Fatalf("only %d kinds", len(kinds))
	}
	items := 0
	for gvr := range kinds {
		for _, ns := range []string{"", prefix + "-monitoring"} {
			got, err := m.listSelected(ctx, gvr, ns, LabelApplySetPartOf)
			if err != nil {
				t.Fatal(err)
			}
			want, err := m.listSelectedDynamic(ctx, gvr, ns, LabelApplySetPartOf)
			if err != nil {
				t.Fatal(err)
			}
			if ns != "" && len(want) > 0 && want[0].GetNamespace() == "" {
				continue // cluster-scoped: no namespaced list
			}
			if len(got) != len(want) {
				t.Fatalf("%s in %q: %d items, dynamic client %d", gvr, ns, len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i].Object, want[i].Object) {
					t.Errorf("%s in %q: item %s differs from the dynamic client's", gvr, ns, want[i].GetName())
				}
			}
			items += len(got)
		}
	}
	if items < 350 {
		t.Errorf("compared %d items, want the workload's 350 or more", items)
	}
	missing := schema.GroupVersionResource{Group: "nowhere.example.com", Version: "v1", Resource: "things"}
	if got, err := m.listSelected(ctx, missing, "", ""); err != nil || got != nil {
		t.Errorf("list of an unserved kind: %v, %v; want nothing and no error", got, err)
	}
}

// workloadConfig serves the six-add-on workload under prefix and creates its prefixed
// kube-system, as every cluster has one.
func workloadConfig(t *testing.T, prefix string) *config.Config {
	t.Helper()
	_, cfg := workload.New(workload.Options{Prefix: prefix}).Serve(t)
	d, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	nsGVR := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	if _, err := d.Resource(nsGVR).Create(t.Context(), obj("v1", "Namespace", "", prefix+"-kube-system"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// listSelectedDynamic is listSelected through the dynamic client: the reference.
func (m *Manager) listSelectedDynamic(ctx context.Context, gvr schema.GroupVersionResource, ns, selector string) ([]unstructured.Unstructured, error) {
	var list *unstructured.UnstructuredList
	var err error
	opts := metav1.ListOptions{LabelSelector: selector}
	if ns != "" {
		list, err = m.dynamic.Resource(gvr).Namespace(ns).List(ctx, opts)
	} else {
		list, err = m.dynamic.Resource(gvr).List(ctx, opts)
	}
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}
