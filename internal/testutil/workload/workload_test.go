package workload_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/addonsync/addonsync/internal/testutil/workload"
	"github.com/addonsync/addonsync/pkg/render"
)

// TestShape renders the workload with addonsync's renderer and checks it is shaped as the
// benchmarks promise: at least 350 objects besides 55 CRDs of at least 7 MB (several over
// 256 KiB), hook Jobs in three add-ons, objects in seven namespaces.
func TestShape(t *testing.T) {
	w := workload.New(workload.Options{Prefix: "shape"})
	_, cfg := w.Serve(t)
	o := render.DefaultOptions()
	o.CacheDir = t.TempDir()
	c, err := render.New(o).RenderCluster(context.Background(), cfg, workload.Cluster, render.RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var objects, crds, crdBytes, bigCRDs int
	namespaces := map[string]bool{}
	hookJobs := map[string]int{}
	for _, a := range c.Addons {
		for _, obj := range a.Objects {
			if obj.GetNamespace() != "" {
				namespaces[obj.GetNamespace()] = true
			}
			if obj.GetKind() != "CustomResourceDefinition" {
				objects++
				continue
			}
			data, err := json.Marshal(obj.Object)
			if err != nil {
				t.Fatal(err)
			}
			crds++
			crdBytes += len(data)
			if len(data) > 256<<10 {
				bigCRDs++
			}
		}
		for _, h := range a.Hooks {
			objects++
			if h.Object.GetKind() == "Job" {
				hookJobs[a.Name]++
			}
		}
	}
	t.Logf("%d objects, %d CRDs of %d bytes (%d over 256 KiB), namespaces %v, hook Jobs %v", objects, crds, crdBytes, bigCRDs, namespaces, hookJobs)
	if objects < 350 || crds != 55 || crdBytes < 7<<20 || bigCRDs < 5 {
		t.Errorf("%d objects (want >= 350), %d CRDs (want 55) of %d bytes (want >= 7 MiB), %d over 256 KiB (want >= 5)", objects, crds, crdBytes, bigCRDs)
	}
	if len(namespaces) != 7 {
		t.Errorf("objects in %d namespaces, want 7: %v", len(namespaces), namespaces)
	}
	if len(hookJobs) != 3 {
		t.Errorf("hook Jobs in %d add-ons, want 3: %v", len(hookJobs), hookJobs)
	}
}
