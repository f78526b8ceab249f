package render

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/addonsync/addonsync/pkg/config"
)

func TestWriteDir(t *testing.T) {
	c, err := newTestRenderer(t).RenderCluster(context.Background(), overlayConfig().config(), "prod", RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	stale := filepath.Join(dir, "web", "99-configmap-web-gone.yaml")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteDir(dir, c); err != nil {
		t.Fatal(err)
	}
	var files []string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(files)
	want := []string{
		"pools/01-configmap-metallb-system-pool.yaml",
		"web/01-customresourcedefinition-widgets.example.com.yaml",
		"web/02-configmap-web-prod-only.yaml",
		"web/03-service-web-web.yaml",
		"web/04-deployment-web-web.yaml",
		"web/05-widget-web-web.yaml",
		"web/hooks/01-job-web-web-migrate.yaml",
		"web/hooks/02-configmap-web-web-after.yaml",
	}
	t.Run("writes one file per object, hooks apart, and removes stale files", func(t *testing.T) {
		if diff := cmp.Diff(want, files); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("writes the hook's phases in a comment", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(dir, "web/hooks/01-job-web-web-migrate.yaml"))
		if err != nil || !strings.HasPrefix(string(data), "# Hook: pre-install,pre-upgrade weight -5") {
			t.Errorf("%v:\n%s", err, data)
		}
	})
}

func TestMaskSecretsAndDigest(t *testing.T) {
	cfg := bigConfig()
	r := newTestRenderer(t)
	c, err := r.RenderCluster(context.Background(), cfg, "prod", RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := c.Digest()
	c2, _ := newTestRenderer(t).RenderCluster(context.Background(), cfg, "prod", RenderOptions{})
	if c2.Digest() != before {
		t.Fatal("two renders of the same input have different digests")
	}
	MaskSecrets(c)
	out := yamlOf(t, c)
	if strings.Contains(out, "token: t0") || !strings.Contains(out, "token: "+Masked) {
		t.Error("secret values not masked")
	}
	if c.Digest() == before {
		t.Error("digest did not change with the output")
	}
	t.Run("callers cannot change what the renderer remembers", func(t *testing.T) {
		c3, err := r.RenderCluster(context.Background(), cfg, "prod", RenderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if c3.Digest() != before {
			t.Error("masking one render changed the next, cached one")
		}
	})
}

func TestWriteDirSecretsPrivate(t *testing.T) {
	ch := map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: s\nversion: 1.0.0\n",
		"templates/all.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\n  labels:\n    app.kubernetes.io/managed-by: {{ .Release.Service }}\nstringData:\n  token: hunter2\n" +
			"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n",
	}
	rc := newRepoConfig().addon("s", config.AddonSpec{Namespace: "s", Chart: &config.ChartSpec{Path: "charts/s"}}).cluster("c", "1.37", "s")
	for p, data := range ch {
		rc.file("charts/s/"+p, data)
	}
	c, err := newTestRenderer(t).RenderCluster(context.Background(), rc.config(), "c", RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("keeps the chart's managed-by label and adds none", func(t *testing.T) {
		got := map[string]map[string]string{}
		for _, o := range c.Addons[0].Objects {
			got[o.GetName()] = o.GetLabels()
		}
		want := map[string]map[string]string{"token": {"app.kubernetes.io/managed-by": "Helm"}, "plain": nil}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("labels (-want +got):\n%s", diff)
		}
	})
	dir := t.TempDir()
	secret := filepath.Join(dir, "s", "01-secret-s-token.yaml")
	if err := os.MkdirAll(filepath.Dir(secret), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secret, []byte("old"), 0o644); err != nil { // left world-readable by an older addonsync
		t.Fatal(err)
	}
	if err := WriteDir(dir, c); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]os.FileMode{"s/01-secret-s-token.yaml": 0o600, "s/02-configmap-s-plain.yaml": 0o644} {
		fi, err := os.Stat(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", file, got, want)
		}
	}
}
