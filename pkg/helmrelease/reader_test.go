package helmrelease

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"helm.sh/helm/v3/pkg/release"
)

// TestReader installs real releases with the real helm CLI, under both storage drivers, and
// reads them back.
func TestReader(t *testing.T) {
	requireCluster(t)
	ctx := context.Background()
	nsA, nsB := namespace(t), namespace(t)
	chart := chartFile(t, webChart("web", "1.2.3"))
	mustHelm(t, "", "install", "web", chart, "-n", nsA, "--set", "extra=true")
	mustHelm(t, "", "upgrade", "web", chart, "-n", nsA, "--set", "extra=true,replicas=3")
	mustHelm(t, DriverConfigMap, "install", "cm-web", chart, "-n", nsB)

	c := newClients(t)
	r := NewReader(c.kube, c.mapper, DefaultReaderOptions())

	t.Run("finds a release of the secret driver with every revision", func(t *testing.T) {
		rel, err := r.Find(ctx, "web", nsA)
		if err != nil {
			t.Fatal(err)
		}
		if rel == nil {
			t.Fatal("release web not found")
		}
		got := *rel
		got.Hooks = nil
		want := Release{
			Name: "web", Namespace: nsA, Revision: 2, Status: release.StatusDeployed,
			Chart: "web", ChartVersion: "1.2.3", AppVersion: "4.5.6", Driver: DriverSecret,
			LastDeployed: rel.LastDeployed,
			Objects:      webObjects("web", nsA, true),
			Records: []Record{
				{Name: "sh.helm.release.v1.web.v1", Revision: 1, Status: release.StatusSuperseded},
				{Name: "sh.helm.release.v1.web.v2", Revision: 2, Status: release.StatusDeployed},
			},
		}
		if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Release{})); diff != "" {
			t.Errorf("release (-want +got):\n%s", diff)
		}
		if rel.LastDeployed.IsZero() {
			t.Error("LastDeployed is zero")
		}
		wantHooks := []Hook{
			{ID: ObjectID{Kind: "ConfigMap", Namespace: nsA, Name: "web-pre-install"}, Events: []string{"pre-install"}, Weight: -5},
			{ID: ObjectID{Kind: "ConfigMap", Namespace: nsA, Name: "web-post-upgrade"}, Events: []string{"post-install", "post-upgrade"}, DeletePolicies: []string{"before-hook-creation"}, LastRun: "Succeeded"},
		}
		if diff := cmp.Diff(wantHooks, rel.Hooks); diff != "" {
			t.Errorf("hooks (-want +got):\n%s", diff)
		}
		if !rel.Installed() || !rel.HasHook("post-upgrade") || rel.HasHook("pre-upgrade") {
			t.Errorf("Installed %v, HasHook(post-upgrade) %v, HasHook(pre-upgrade) %v", rel.Installed(), rel.HasHook("post-upgrade"), rel.HasHook("pre-upgrade"))
		}
		if got := rel.Summary(); got != "Helm release web rev 2, chart 1.2.3" {
			t.Errorf("Summary = %q", got)
		}
	})
	t.Run("finds a release of the configmap driver", func(t *testing.T) {
		rel, err := r.Find(ctx, "cm-web", nsB)
		if err != nil || rel == nil {
			t.Fatalf("Find = %v, %v", rel, err)
		}
		if rel.Driver != DriverConfigMap || rel.Revision != 1 || rel.Status != release.StatusDeployed {
			t.Errorf("release = %s, driver %s", rel, rel.Driver)
		}
		if diff := cmp.Diff(webObjects("cm-web", nsB, false), rel.Objects); diff != "" {
			t.Errorf("objects (-want +got):\n%s", diff)
		}
	})
	t.Run("no release is nil, not an error", func(t *testing.T) {
		for _, k := range []Key{{nsA, "other"}, {nsB, "web"}} {
			if rel, err := r.Find(ctx, k.Name, k.Namespace); rel != nil || err != nil {
				t.Errorf("Find(%s/%s) = %v, %v; want nil, nil", k.Namespace, k.Name, rel, err)
			}
		}
	})
	t.Run("reading writes nothing and takes one LIST per driver", func(t *testing.T) {
		c.count.take()
		if _, err := r.Find(ctx, "web", nsA); err != nil {
			t.Fatal(err)
		}
		reqs := c.count.take()
		if w := writes(reqs); len(w) != 0 {
			t.Errorf("Find wrote: %v", w)
		}
		if len(reqs) != 2 {
			t.Errorf("Find made %d requests, want 2 (one LIST of Secrets, one of ConfigMaps): %v", len(reqs), reqs)
		}
		all, err := r.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		reqs = c.count.take()
		want := []string{"GET /api/v1/secrets?labelSelector=owner%3Dhelm", "GET /api/v1/configmaps?labelSelector=owner%3Dhelm"}
		if diff := cmp.Diff(want, reqs); diff != "" {
			t.Errorf("List requests (-want +got):\n%s", diff)
		}
		if rel := all.Find("web", nsA); rel == nil || rel.Revision != 2 || rel.Driver != DriverSecret {
			t.Errorf("List: web = %v", rel)
		}
		if rel := all.Find("cm-web", nsB); rel == nil || rel.Driver != DriverConfigMap {
			t.Errorf("List: cm-web = %v", rel)
		}
		if rel := all.Find("web", nsB); rel != nil {
			t.Errorf("List: web in %s = %v, want nil", nsB, rel)
		}
	})
	t.Run("the records are unchanged by reading", func(t *testing.T) {
		out := mustHelm(t, "", "history", "web", "-n", nsA)
		if !strings.Contains(out, "superseded") || !strings.Contains(out, "deployed") {
			t.Errorf("helm history after reading:\n%s", out)
		}
	})
}
