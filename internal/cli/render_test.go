package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const renderFixture = "testdata/render/repo"

func TestRenderCommand(t *testing.T) {
	cache := t.TempDir()
	run := func(t *testing.T, args ...string) (string, string, int) {
		t.Helper()
		return runConfigCmd(t, append([]string{"render", "-C", copyConfigTree(t, renderFixture), "--cache-dir", cache}, args...)...)
	}
	t.Run("prints the cluster as one YAML stream, secrets masked", func(t *testing.T) {
		out, errOut, code := run(t, "prod")
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		checkGolden(t, "render/prod.golden", out)
		if strings.Contains(out, "hunter2") {
			t.Error("the Secret value is in the output")
		}
	})
	t.Run("prints Secret values with --show-secrets", func(t *testing.T) {
		out, _, code := run(t, "prod", "--show-secrets")
		if code != ExitOK || !strings.Contains(out, "password: hunter2") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("renders only the selected add-ons", func(t *testing.T) {
		out, errOut, code := run(t, "prod", "--addon", "base")
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if strings.Contains(out, "# Source: app/") || !strings.Contains(out, "# Source: base/Namespace/app") {
			t.Errorf("output:\n%s", out)
		}
	})
	t.Run("prints a JSON List with -o json", func(t *testing.T) {
		out, errOut, code := run(t, "prod", "-o", "json")
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var list struct {
			Kind  string           `json:"kind"`
			Items []map[string]any `json:"items"`
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		yamlOut, _, _ := run(t, "prod")
		if list.Kind != "List" || len(list.Items) == 0 || len(list.Items) != strings.Count(yamlOut, "\n---\n")+1 {
			t.Errorf("-o json has %d items (kind %q); the YAML stream has %d documents", len(list.Items), list.Kind, strings.Count(yamlOut, "\n---\n")+1)
		}
	})
	t.Run("refuses -o json with --output-dir", func(t *testing.T) {
		if _, errOut, code := run(t, "prod", "-o", "json", "--output-dir", t.TempDir()); code != ExitUsage || !strings.Contains(errOut, "--output-dir writes YAML files") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("writes one file per object with --output-dir", func(t *testing.T) {
		dir := t.TempDir()
		if _, errOut, code := run(t, "--all", "--output-dir", dir); code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
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
			"dev/base/01-namespace-app.yaml",
			"prod/app/01-secret-app-app.yaml",
			"prod/app/02-deployment-app-app.yaml",
			"prod/base/01-namespace-app.yaml",
		}
		if diff := cmp.Diff(want, files); diff != "" {
			t.Errorf("files (-want +got):\n%s", diff)
		}
	})
	t.Run("renders a git ref without a checkout", func(t *testing.T) {
		dir, _, _ := gitConfigRepo(t, renderFixture)
		if err := os.WriteFile(filepath.Join(dir, "clusters/prod/values/app.yaml"), []byte("replicas: 7\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := runConfigCmd(t, "render", "-C", dir, "--cache-dir", cache, "--ref", "main", "prod")
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		checkGolden(t, "render/prod.golden", out)
		worktree, _, _ := runConfigCmd(t, "render", "-C", dir, "--cache-dir", cache, "prod")
		if !strings.Contains(worktree, "replicas: 7") {
			t.Error("the working tree render does not show the uncommitted edit")
		}
	})
	t.Run("is a usage error without a cluster", func(t *testing.T) {
		if _, _, code := run(t); code != ExitUsage {
			t.Errorf("exit %d, want %d", code, ExitUsage)
		}
	})
	t.Run("is a usage error for an unknown cluster", func(t *testing.T) {
		_, errOut, code := run(t, "nope")
		if code != ExitUsage || !strings.Contains(errOut, `cluster "nope" does not exist`) {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("fails naming cluster and add-on when a render fails", func(t *testing.T) {
		dir := copyConfigTree(t, renderFixture)
		if err := os.WriteFile(filepath.Join(dir, "charts/app/templates/bad.yaml"), []byte("{{ fail \"replicas must be set\" }}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := runConfigCmd(t, "render", "-C", dir, "--cache-dir", cache, "prod")
		if code != ExitUsage || out != "" || !strings.Contains(errOut, `cluster "prod": add-on "app": chart app 0.1.0: helm template:`) || !strings.Contains(errOut, "replicas must be set") {
			t.Errorf("exit %d (want 2: a template error is a config error), stdout %q, stderr %s", code, out, errOut)
		}
	})
	t.Run("exits 3 when a chart repository cannot be reached", func(t *testing.T) {
		dir := copyConfigTree(t, renderFixture)
		addon := filepath.Join(dir, "addons/app/addon.yaml")
		data, err := os.ReadFile(addon)
		if err != nil {
			t.Fatal(err)
		}
		// Port 1 on loopback refuses connections: a network failure, not a config error.
		data = []byte(strings.Replace(string(data), "    path: charts/app\n",
			"    repository: http://127.0.0.1:1/charts\n    name: app\n    version: 0.1.0\n", 1))
		if err := os.WriteFile(addon, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := runConfigCmd(t, "render", "-C", dir, "--cache-dir", t.TempDir(), "prod")
		if code != ExitCluster || out != "" || !strings.Contains(errOut, "GET http://127.0.0.1:1/charts/index.yaml") {
			t.Errorf("exit %d (want 3), stdout %q, stderr %s", code, out, errOut)
		}
	})
}
