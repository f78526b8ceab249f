package render

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/pkg/config"
)

func webConfig(repoURL string) *repoConfig {
	return newRepoConfig().
		addon("web", config.AddonSpec{Namespace: "web", Chart: chartSpec(repoURL, "web", "1.0.0")}).
		file("addons/web/values.yaml", "replicas: 2\nextraLabels:\n  team: platform\n").
		file("clusters/prod/values/web.yaml", "replicas: 3\nresources:\n  limits:\n    memory: null\n").
		cluster("prod", "1.34", "web").
		cluster("old", "1.31", "web")
}

func TestRenderHTTPRepository(t *testing.T) {
	repo := chartrepo.NewHTTP(t, chartrepo.WithBasicAuth("reader", "s3cret"))
	repo.Add(t, webChart)
	rc := webConfig(repo.URL())
	rc.repos = []config.ChartRepository{{URL: repo.URL(), UsernameEnv: "CHARTS_USER", PasswordEnv: "CHARTS_PASSWORD"}}
	cfg := rc.config()
	env := func(k string) string {
		return map[string]string{"CHARTS_USER": "reader", "CHARTS_PASSWORD": "s3cret"}[k]
	}
	r := newTestRenderer(t, func(o *Options) { o.Env = env })

	t.Run("renders the chart with layered values for Kubernetes 1.34", func(t *testing.T) {
		checkGolden(t, "web-prod.yaml", renderYAML(t, r, cfg, "prod", RenderOptions{}))
	})
	t.Run("renders what depends on the minor differently for 1.31", func(t *testing.T) {
		got := renderYAML(t, r, cfg, "old", RenderOptions{})
		checkGolden(t, "web-old.yaml", got)
		if strings.Contains(got, "sidecars: native") {
			t.Error("1.31 render has the >=1.33 label")
		}
	})
	t.Run("reports the chart digest", func(t *testing.T) {
		a, err := r.RenderAddon(context.Background(), cfg, "prod", "web")
		if err != nil {
			t.Fatal(err)
		}
		want := &ChartInfo{Name: "web", Version: "1.0.0", Source: repo.URL(), Digest: chartrepo.Digest(chartrepo.BuildChart(t, webChart))}
		if diff := cmp.Diff(want, a.Chart); diff != "" {
			t.Errorf("chart info (-want +got):\n%s", diff)
		}
	})
	t.Run("downloads the chart once across clusters and renderers", func(t *testing.T) {
		r2 := New(r.o) // same cache directory, empty memory
		renderYAML(t, r2, cfg, "prod", RenderOptions{})
		if n := repo.Requests(chartrepo.ArchivePath("web", "1.0.0")); n != 1 {
			t.Errorf("archive downloaded %d times, want 1", n)
		}
		if n := repo.Requests("/index.yaml"); n != 1 {
			t.Errorf("index downloaded %d times, want 1", n)
		}
	})
	t.Run("fails without credentials, saying where to set them", func(t *testing.T) {
		_, err := newTestRenderer(t, func(o *Options) { o.Env = func(string) string { return "" } }).
			RenderCluster(context.Background(), cfg, "prod", RenderOptions{})
		if err == nil || !strings.Contains(err.Error(), `cluster "prod": add-on "web":`) || !strings.Contains(err.Error(), "CHARTS_PASSWORD") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestRenderMirror(t *testing.T) {
	mirror := chartrepo.NewHTTP(t)
	digest := mirror.Add(t, webChart)
	upstream := "https://charts.upstream.invalid/stable"
	rc := webConfig(upstream)
	rc.repos = []config.ChartRepository{{URL: upstream, Mirror: mirror.URL()}}
	cfg := rc.config()
	r := newTestRenderer(t)
	a, err := r.RenderAddon(context.Background(), cfg, "prod", "web")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("fetches from the mirror and keeps the upstream as source", func(t *testing.T) {
		want := &ChartInfo{Name: "web", Version: "1.0.0", Source: upstream, Digest: digest}
		if diff := cmp.Diff(want, a.Chart); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("checks the lock keyed by the upstream URL", func(t *testing.T) {
		rc.file(config.LockFile, "apiVersion: addonsync.io/v1alpha1\nkind: Lock\ncharts:\n- source: "+upstream+
			"\n  name: web\n  version: 1.0.0\n  digest: sha256:0000000000000000000000000000000000000000000000000000000000000000\n")
		_, err := newTestRenderer(t).RenderAddon(context.Background(), rc.config(), "prod", "web")
		var mm *DigestMismatchError
		if !errors.As(err, &mm) || mm.Pulled != digest {
			t.Fatalf("err = %v, want a DigestMismatchError with the pulled digest", err)
		}
	})
}

func TestRenderOCIRegistry(t *testing.T) {
	reg := chartrepo.NewOCI(t)
	digest := reg.Push(t, webChart)
	cfg := webConfig(reg.Repository()).config()
	r := newTestRenderer(t)
	c, err := r.RenderCluster(context.Background(), cfg, "prod", RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("renders the same objects as from an HTTP repository", func(t *testing.T) {
		checkGolden(t, "web-prod.yaml", yamlOf(t, c))
	})
	t.Run("records the archive digest", func(t *testing.T) {
		if c.Addons[0].Chart.Digest != digest {
			t.Errorf("digest %s, want %s", c.Addons[0].Chart.Digest, digest)
		}
	})
	t.Run("pulls the chart blob once", func(t *testing.T) {
		before := reg.Requests(strings.TrimPrefix(digest, "sha256:"))
		r2 := New(r.o)
		if _, err := r2.RenderCluster(context.Background(), cfg, "old", RenderOptions{}); err != nil {
			t.Fatal(err)
		}
		if after := reg.Requests(strings.TrimPrefix(digest, "sha256:")); after != before {
			t.Errorf("blob requests went from %d to %d on a warm cache", before, after)
		}
	})
}

func TestLock(t *testing.T) {
	repo := chartrepo.NewHTTP(t)
	digest := repo.Add(t, webChart)
	rc := webConfig(repo.URL())

	t.Run("refuses a chart whose digest differs from the lock", func(t *testing.T) {
		bad := "sha256:" + strings.Repeat("a", 64)
		rc.file(config.LockFile, "apiVersion: addonsync.io/v1alpha1\nkind: Lock\ncharts:\n- source: "+repo.URL()+
			"\n  name: web\n  version: 1.0.0\n  digest: "+bad+"\n")
		_, err := newTestRenderer(t).RenderCluster(context.Background(), rc.config(), "prod", RenderOptions{})
		if err == nil {
			t.Fatal("no error")
		}
		for _, want := range []string{`cluster "prod": add-on "web":`, "web 1.0.0", digest, bad, "addonsync.lock"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
	})
	t.Run("refuses an unlocked chart when locks are required", func(t *testing.T) {
		delete(rc.files, config.LockFile)
		_, err := newTestRenderer(t, func(o *Options) { o.RequireLocked = true }).RenderCluster(context.Background(), rc.config(), "prod", RenderOptions{})
		var nl *NotLockedError
		if !errors.As(err, &nl) || nl.Digest != digest {
			t.Fatalf("err = %v, want NotLockedError with digest %s", err, digest)
		}
	})
	t.Run("renders a locked chart when locks are required", func(t *testing.T) {
		l := &config.Lock{}
		SetLock(l, repo.URL(), "web", "1.0.0", digest)
		dir := t.TempDir()
		if err := WriteLock(dir+"/"+config.LockFile, l); err != nil {
			t.Fatal(err)
		}
		l2, err := LoadLock(osDirFS(dir))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(l.Charts, l2.Charts); diff != "" {
			t.Fatalf("lock round trip (-want +got):\n%s", diff)
		}
		data, _ := readFile(dir + "/" + config.LockFile)
		rc.file(config.LockFile, data)
		if _, err := newTestRenderer(t, func(o *Options) { o.RequireLocked = true }).RenderCluster(context.Background(), rc.config(), "prod", RenderOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLockHelpers(t *testing.T) {
	l := &config.Lock{}
	SetLock(l, "https://b", "x", "1.0.0", "sha256:1")
	SetLock(l, "https://a", "y", "2.0.0", "sha256:2")
	SetLock(l, "https://a", "y", "1.0.0", "sha256:3")
	SetLock(l, "https://b", "x", "1.0.0", "sha256:4")
	want := []config.LockedChart{
		{Source: "https://a", Name: "y", Version: "1.0.0", Digest: "sha256:3"},
		{Source: "https://a", Name: "y", Version: "2.0.0", Digest: "sha256:2"},
		{Source: "https://b", Name: "x", Version: "1.0.0", Digest: "sha256:4"},
	}
	if diff := cmp.Diff(want, l.Charts); diff != "" {
		t.Errorf("sorted, replaced (-want +got):\n%s", diff)
	}
	if d, ok := LookupLock(l, "https://a", "y", "2.0.0"); !ok || d != "sha256:2" {
		t.Errorf("LookupLock = %s, %t", d, ok)
	}
	if _, ok := LookupLock(l, "https://a", "y", "3.0.0"); ok {
		t.Error("LookupLock found a version that is not there")
	}
	dir := t.TempDir()
	if err := WriteLock(dir+"/a", l); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "addonsync.lock", mustRead(t, dir+"/a"))
}
