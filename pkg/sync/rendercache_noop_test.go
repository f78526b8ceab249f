package sync

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
