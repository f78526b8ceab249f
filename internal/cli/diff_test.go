package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
	"github.com/addonsync/addonsync/pkg/sync"
)

const (
	diffFixture = "testdata/diff/repo"
	diffSecret  = "cli-secret-value-never-shown"
)

// diffRepo copies the diff fixture with ${NS} and ${KUBECONFIG} filled in.
func diffRepo(t *testing.T, ns, kubeconfig string) string {
	t.Helper()
	dir := copyConfigTree(t, diffFixture)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := strings.NewReplacer("${NS}", ns, "${KUBECONFIG}", kubeconfig).Replace(string(data))
		return os.WriteFile(p, []byte(s), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// syncRepo syncs the fixture's cluster with the library, as `addonsync sync` would.
func syncRepo(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.OpenWorktree(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := render.New(render.DefaultOptions()).RenderCluster(ctx, cfg, "test", render.RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := &GlobalOptions{}
	m, err := newClusterManager(ctx, g, cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	o := sync.DefaultSyncOptions()
	o.Wait = false
	if _, err := m.Sync(ctx, c, o); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

func TestDiffCommand(t *testing.T) {
	testenv.Require(t, env)
	ctx := context.Background()
	ns := env.Namespace(t)
	dir := diffRepo(t, ns, env.Kubeconfig)
	diff := func(t *testing.T, args ...string) (string, string, int) {
		t.Helper()
		return runConfigCmd(t, append([]string{"diff", "-C", dir, "--cache-dir", t.TempDir()}, args...)...)
	}
	anon := func(s string) string { return strings.ReplaceAll(s, ns, "NS") }

	t.Run("lists everything as create and exits 1 before the first sync", func(t *testing.T) {
		out, errOut, code := diff(t, "test")
		if code != ExitChanges {
			t.Fatalf("exit %d, want %d: %s", code, ExitChanges, errOut)
		}
		for _, want := range []string{
			"  + ConfigMap/" + ns + "/web (create)", "  + Secret/" + ns + "/web (create)", "  + Service/" + ns + "/web (create)",
			"      +  password: (masked, added)", "cluster test: 3 to create, 0 to change, 0 unchanged, 0 to prune",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, diffSecret) {
			t.Errorf("output shows the Secret value")
		}
	})

	syncRepo(t, dir)

	t.Run("shows nothing and exits 0 after a sync", func(t *testing.T) {
		out, errOut, code := diff(t, "test")
		if code != ExitOK {
			t.Fatalf("exit %d, want 0: %s\n%s", code, errOut, out)
		}
		if !strings.Contains(out, "cluster test: 0 to create, 0 to change, 3 unchanged, 0 to prune") {
			t.Errorf("output:\n%s", out)
		}
	})

	cms := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	d, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	patch := []byte(`{"data":{"mode":"debug"}}`)
	if _, err := d.Resource(cms).Namespace(ns).Patch(ctx, "web", types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}

	t.Run("shows a hand edit as a one-field diff in text", func(t *testing.T) {
		out, errOut, code := diff(t, "test")
		if code != ExitChanges {
			t.Fatalf("exit %d, want 1: %s", code, errOut)
		}
		if strings.Contains(out, "\x1b[") {
			t.Errorf("output to a buffer is coloured")
		}
		checkGolden(t, "diff/hand-edit.txt", anon(out))
	})
	t.Run("and in markdown", func(t *testing.T) {
		out, _, code := diff(t, "test", "-o", "markdown")
		if code != ExitChanges {
			t.Fatalf("exit %d, want 1", code)
		}
		checkGolden(t, "diff/hand-edit.md", anon(out))
	})
	for _, format := range []string{"json", "yaml"} {
		t.Run("and in "+format, func(t *testing.T) {
			out, _, code := diff(t, "test", "-o", format)
			if code != ExitChanges {
				t.Fatalf("exit %d, want 1", code)
			}
			var got sync.DiffResult
			if err := yaml.UnmarshalStrict([]byte(out), &got); err != nil { // JSON is YAML too
				t.Fatalf("output is not %s: %v\n%s", format, err, out)
			}
			if format == "json" && !json.Valid([]byte(out)) {
				t.Fatalf("output is not JSON:\n%s", out)
			}
			want := sync.DiffSummary{Change: 1, Unchanged: 2}
			if diff := cmp.Diff(want, got.Summary); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			if got.Cluster != "test" || len(got.Addons) != 1 || len(got.Addons[0].Change) != 1 ||
				got.Addons[0].Change[0].Subject != "ConfigMap/"+ns+"/web" ||
				!strings.Contains(got.Addons[0].Change[0].Diff, "-  mode: debug\n+  mode: production\n") {
				t.Errorf("result: %+v", got)
			}
		})
	}
	t.Run("diffs only the add-ons asked for", func(t *testing.T) {
		if _, errOut, code := diff(t, "test", "--addon", "nope"); code != ExitUsage || !strings.Contains(errOut, `add-on "nope": cluster "test" does not run it`) {
			t.Errorf("exit %d, want 2: %s", code, errOut)
		}
	})
	t.Run("exits 2 on a config error", func(t *testing.T) {
		if _, errOut, code := diff(t, "nowhere"); code != ExitUsage {
			t.Errorf("exit %d, want 2: %s", code, errOut)
		}
		_, errOut, code := diff(t, "test", "-o", "table")
		if want := `invalid argument "table" for "-o, --output" flag: must be text, json, yaml or markdown`; code != ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, want 2 and %q: %s", code, want, errOut)
		}
	})
	t.Run("exits 3 when the cluster cannot be reached", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "kubeconfig")
		kc := "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n" +
			"users: [{name: u, user: {token: x}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"
		if err := os.WriteFile(bad, []byte(kc), 0o600); err != nil {
			t.Fatal(err)
		}
		unreachable := diffRepo(t, ns, bad)
		_, errOut, code := runConfigCmd(t, "diff", "-C", unreachable, "test")
		if code != ExitCluster {
			t.Errorf("exit %d, want 3: %s", code, errOut)
		}
	})
}

func TestKubeconfigFlagOverridesClusterYAML(t *testing.T) {
	testenv.Require(t, env)
	ns := env.Namespace(t)
	// cluster.yaml names a kubeconfig that does not exist: only --kubeconfig can reach the cluster.
	dir := diffRepo(t, ns, filepath.Join(t.TempDir(), "missing-kubeconfig"))
	if _, errOut, code := runConfigCmd(t, "diff", "-C", dir, "test"); code != ExitCluster {
		t.Fatalf("without --kubeconfig: exit %d, want 3: %s", code, errOut)
	}
	out, errOut, code := runConfigCmd(t, "diff", "-C", dir, "--kubeconfig", env.Kubeconfig, "test")
	if code != ExitChanges {
		t.Fatalf("with --kubeconfig: exit %d, want 1 (everything to create): %s", code, errOut)
	}
	if !strings.Contains(out, "to create") {
		t.Errorf("diff output lacks the summary line:\n%s", out)
	}
	if _, errOut, code := runConfigCmd(t, "diff", "-C", dir, "--kubeconfig", env.Kubeconfig, "--context", "nope", "test"); code != ExitCluster {
		t.Errorf("with a missing --context: exit %d, want 3: %s", code, errOut)
	}
}
