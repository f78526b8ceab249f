package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/pkg/config"
)

// secretValue is rendered into a Secret; the render cache must keep it from other users.
const secretValue = "s3cr3t-value-42"

var secretChart = chartrepo.Chart{
	Name: "vault", Version: "0.1.0",
	Files: map[string]string{
		"values.yaml": "password: " + secretValue + "\n",
		"templates/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n" +
			"stringData:\n  password: {{ .Values.password }}\n  enabled: \"false\"\n",
	},
}

// cacheConfig is overlayConfig with its chart from a loopback repository pinned in
// addonsync.lock, plus a chart with a Secret.
func cacheConfig(t *testing.T) (*repoConfig, *chartrepo.HTTPRepo) {
	repo := chartrepo.NewHTTP(t)
	webDigest := repo.Add(t, webChart)
	vaultDigest := repo.Add(t, secretChart)
	rc := overlayConfig()
	rc.addons["web"].Spec.Chart = chartSpec(repo.URL(), "web", "1.0.0")
	rc.addon("vault", config.AddonSpec{Namespace: "vault", Chart: chartSpec(repo.URL(), "vault", "0.1.0")})
	rc.cluster("prod", "1.34", "web", "pools", "vault").cluster("dev", "1.33", "web", "pools", "vault")
	rc.file(config.LockFile, lockYAML(repo.URL(), webDigest, vaultDigest))
	return rc, repo
}

func lockYAML(repo, webDigest, vaultDigest string) string {
	return "apiVersion: addonsync.io/v1alpha1\nkind: Lock\ncharts:\n" +
		"- {source: " + repo + ", name: vault, version: 0.1.0, digest: \"" + vaultDigest + "\"}\n" +
		"- {source: " + repo + ", name: web, version: 1.0.0, digest: \"" + webDigest + "\"}\n"
}

// render renders cluster with a new Renderer on cacheDir (as the next process would) and
// returns the output and how many renders the cache could not answer.
func renderWithCache(t *testing.T, cfg *config.Config, cacheDir, cluster string, mod ...func(*Options)) (string, int64) {
	t.Helper()
	r := newTestRenderer(t, append([]func(*Options){func(o *Options) { o.CacheDir = cacheDir }}, mod...)...)
	out := renderYAML(t, r, cfg, cluster, RenderOptions{})
	return out, r.rendered.Load()
}

func TestRenderCacheAcrossProcesses(t *testing.T) {
	rc, repo := cacheConfig(t)
	dir := t.TempDir()
	first, n := renderWithCache(t, rc.config(), dir, "prod")
	if n != 1 {
		t.Fatalf("first render: %d renders, want 1", n)
	}
	fresh := renderYAML(t, newTestRenderer(t), rc.config(), "prod", RenderOptions{})

	t.Run("the next process renders nothing and gets the same objects", func(t *testing.T) {
		got, n := renderWithCache(t, rc.config(), dir, "prod")
		if n != 0 {
			t.Errorf("%d renders, want 0", n)
		}
		if got != first || got != fresh {
			t.Errorf("cached render differs from a fresh render:\n%s", lineDiff(fresh, got))
		}
	})
	t.Run("a subset of add-ons is answered from the same entries", func(t *testing.T) {
		r := newTestRenderer(t, func(o *Options) { o.CacheDir = dir })
		c, err := r.RenderCluster(context.Background(), rc.config(), "prod", RenderOptions{Addons: []string{"vault"}})
		if err != nil || len(c.Addons) != 1 || c.Addons[0].Name != "vault" || r.rendered.Load() != 0 {
			t.Fatalf("render --addon vault: %v, %d renders", err, r.rendered.Load())
		}
	})
	t.Run("renders from the cache with the chart unreachable when the lock pins the same digest", func(t *testing.T) {
		if err := os.RemoveAll(filepath.Join(dir, "blobs")); err != nil {
			t.Fatal(err)
		}
		before := repo.Requests(chartrepo.ArchivePath("web", "1.0.0")) + repo.Requests("/index.yaml")
		got, n := renderWithCache(t, rc.config(), dir, "prod")
		after := repo.Requests(chartrepo.ArchivePath("web", "1.0.0")) + repo.Requests("/index.yaml")
		if n != 0 || after != before || got != first {
			t.Errorf("%d renders, %d repository requests, output equal: %t; want 0, 0, true", n, after-before, got == first)
		}
	})
	t.Run("another digest in the lock is not answered from the cache", func(t *testing.T) {
		rc2 := *rc
		rc2.files = cloneFS(rc.files)
		rc2.file(config.LockFile, lockYAML(repo.URL(), chartrepo.Digest([]byte("another archive")), chartrepo.Digest(chartrepo.BuildChart(t, secretChart))))
		r := newTestRenderer(t, func(o *Options) { o.CacheDir = dir })
		_, err := r.RenderCluster(context.Background(), rc2.config(), "prod", RenderOptions{})
		var dm *DigestMismatchError
		if !errors.As(err, &dm) || r.rendered.Load() != 1 {
			t.Fatalf("render with another pinned digest: %v (%d renders), want a DigestMismatchError from a real render", err, r.rendered.Load())
		}
	})
	changes := []struct {
		name string
		edit func(rc *repoConfig)
		mod  func(*Options)
	}{
		{name: "cluster values", edit: func(rc *repoConfig) { rc.file("clusters/prod/values/web.yaml", "replicas: 3\n") }},
		{name: "add-on values", edit: func(rc *repoConfig) { rc.file("addons/vault/values.yaml", "password: other\n") }},
		{name: "an overlay file", edit: func(rc *repoConfig) { rc.file("clusters/prod/kustomize/web/extra.yaml", cm("prod-only-2")) }},
		{name: "an overlay file renamed", edit: func(rc *repoConfig) {
			rc.file("clusters/prod/kustomize/web/kustomization.yaml", "resources: [rendered.yaml, extra2.yaml]\n")
			rc.files["clusters/prod/kustomize/web/extra2.yaml"] = rc.files["clusters/prod/kustomize/web/extra.yaml"]
			delete(rc.files, "clusters/prod/kustomize/web/extra.yaml")
		}},
		{name: "the Kubernetes minor", edit: func(rc *repoConfig) { rc.clusters["prod"].Spec.KubernetesVersion = "1.32" }},
		{name: "the namespace", edit: func(rc *repoConfig) { rc.addons["vault"].Spec.Namespace = "vault2" }},
		{name: "the release name", edit: func(rc *repoConfig) { rc.addons["web"].Spec.ReleaseName = "web2" }},
		{name: "addonsync's version", mod: func(o *Options) { o.Version = "v99.0.0" }},
	}
	for _, c := range changes {
		t.Run("renders again after a change of "+c.name, func(t *testing.T) {
			rc2 := *rc
			rc2.files = cloneFS(rc.files)
			rc2.addons = cloneAddons(rc.addons)
			rc2.clusters = map[string]*config.Cluster{}
			for k, v := range rc.clusters {
				cl := *v
				rc2.clusters[k] = &cl
			}
			if c.edit != nil {
				c.edit(&rc2)
			}
			var mods []func(*Options)
			if c.mod != nil {
				mods = append(mods, c.mod)
			}
			got, n := renderWithCache(t, rc2.config(), dir, "prod", mods...)
			want := renderYAML(t, newTestRenderer(t, mods...), rc2.config(), "prod", RenderOptions{})
			if n != 1 || got != want {
				t.Errorf("%d renders (want 1); output equals a fresh render: %t", n, got == want)
			}
		})
	}
}

func TestRenderCacheCorruptEntries(t *testing.T) {
	rc, _ := cacheConfig(t)
	corruptions := []struct {
		name string
		fn   func([]byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)*2/3] }},
		{"a flipped byte (still valid JSON)", func(b []byte) []byte { i := bytes.LastIndex(b, []byte(`"name":"`)) + 8; b[i] ^= 0x20; return b }},
		{"another schema version", func(b []byte) []byte {
			return bytes.Replace(b, []byte("render-cache/v1"), []byte("render-cache/v0"), 1)
		}},
		{"a digest of other bytes", func(b []byte) []byte { i := bytes.Index(b, []byte("sha256:")) + 7; b[i] ^= 1; return b }},
		{"empty", func([]byte) []byte { return nil }},
	}
	for _, c := range corruptions {
		t.Run("ignores and rewrites an entry "+c.name, func(t *testing.T) {
			dir := t.TempDir()
			want, _ := renderWithCache(t, rc.config(), dir, "prod")
			files := entryFiles(t, dir)
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(f, c.fn(data), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, n := renderWithCache(t, rc.config(), dir, "prod")
			if n != 1 || got != want {
				t.Fatalf("%d renders (want 1, the entry ignored); output equals the first render: %t", n, got == want)
			}
			if _, n := renderWithCache(t, rc.config(), dir, "prod"); n != 0 {
				t.Errorf("after the re-render: %d renders, want 0 (the entries rewritten)", n)
			}
		})
	}
	t.Run("ignores an entry copied under another key", func(t *testing.T) {
		dir := t.TempDir()
		want, _ := renderWithCache(t, rc.config(), dir, "prod")
		files := entryFiles(t, dir)
		data, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files[1:] {
			if err := os.WriteFile(f, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if got, n := renderWithCache(t, rc.config(), dir, "prod"); n != 1 || got != want {
			t.Fatalf("%d renders (want 1); output equals the first render: %t", n, got == want)
		}
	})
}

func TestRenderCacheFiles(t *testing.T) {
	rc, _ := cacheConfig(t)
	dir := t.TempDir()
	renderWithCache(t, rc.config(), dir, "prod")
	t.Run("entries are readable by their owner only", func(t *testing.T) {
		found := false
		err := filepath.WalkDir(filepath.Join(dir, "renders"), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			want := fs.FileMode(0o600)
			if d.IsDir() {
				want = 0o700 | fs.ModeDir
			}
			if fi.Mode() != want {
				t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
			}
			if data, _ := os.ReadFile(p); strings.Contains(string(data), secretValue) {
				found = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			t.Error("no entry holds the Secret: the test does not test what it says")
		}
	})
	t.Run("the cache is trimmed to its bound, oldest first", func(t *testing.T) {
		small := t.TempDir()
		renderWithCache(t, rc.config(), small, "prod")
		size := dirSize(t, filepath.Join(small, "renders"))
		limit := func(o *Options) { o.RenderCacheMaxBytes = size * 3 / 2 }
		renderWithCache(t, rc.config(), small, "dev", limit)
		if got := dirSize(t, filepath.Join(small, "renders")); got > size*3/2 {
			t.Errorf("cache holds %d bytes, bound %d", got, size*3/2)
		}
		if _, n := renderWithCache(t, rc.config(), small, "dev", limit); n != 0 {
			t.Errorf("the newest entries were trimmed: %d renders of dev, want 0", n)
		}
	})
}

func entryFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "renders", "*", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no render cache entries under %s (%v)", dir, err)
	}
	return files
}

func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func cloneAddons(in map[string]*config.Addon) map[string]*config.Addon {
	out := map[string]*config.Addon{}
	for k, v := range in {
		a := *v
		out[k] = &a
	}
	return out
}

// lineDiff returns the first lines where a and b differ.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, al[i], bl[i])
		}
	}
	return "lengths differ"
}

func cloneFS(in fstest.MapFS) fstest.MapFS {
	out := fstest.MapFS{}
	for k, v := range in {
		f := *v
		out[k] = &f
	}
	return out
}

func TestRenderCacheKeepsWarnings(t *testing.T) {
	rc, _ := cacheConfig(t)
	rc.clusters["prod"].Spec.KubernetesVersion = fmt.Sprintf("1.%d", Newest()+1)
	dir := t.TempDir()
	var warnings [][]string
	for range 2 {
		r := newTestRenderer(t, func(o *Options) { o.CacheDir = dir })
		c, err := r.RenderCluster(context.Background(), rc.config(), "prod", RenderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		warnings = append(warnings, c.Warnings)
	}
	if len(warnings[0]) == 0 || fmt.Sprint(warnings[0]) != fmt.Sprint(warnings[1]) {
		t.Errorf("warnings of the render %q, from the cache %q: want the same, not empty", warnings[0], warnings[1])
	}
}
