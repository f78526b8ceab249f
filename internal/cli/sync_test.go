package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/addonsync/addonsync/internal/testenv"
)

// syncFixtureRepo copies testdata/sync/repo with ${NS} and ${KUBECONFIG} filled in.
func syncFixtureRepo(t *testing.T, ns string) string {
	t.Helper()
	dir := copyConfigTree(t, "testdata/sync/repo")
	fillVars(t, dir, ns)
	return dir
}

func TestSyncCommand(t *testing.T) {
	testenv.Require(t, env)
	ns := env.Namespace(t)
	dir := syncFixtureRepo(t, ns)
	cache := t.TempDir()
	run := func(t *testing.T, args ...string) (string, string, int) {
		t.Helper()
		stdout, stderr, code := runConfigCmd(t, append([]string{"sync", "test", "-C", dir, "--cache-dir", cache, "--wait=false"}, args...)...)
		if strings.Contains(stdout+stderr, "cli-secret-value-never-shown") {
			t.Errorf("a Secret value was printed:\n%s\n%s", stdout, stderr)
		}
		return stdout, stderr, code
	}
	type addonDoc struct {
		Addon   string         `json:"addon"`
		Status  string         `json:"status"`
		Summary map[string]int `json:"summary"`
	}
	type doc struct {
		Cluster string         `json:"cluster"`
		DryRun  bool           `json:"dryRun"`
		Summary map[string]int `json:"summary"`
		Addons  []addonDoc     `json:"addons"`
	}
	decode := func(t *testing.T, stdout string) doc {
		t.Helper()
		var d doc
		if err := json.Unmarshal([]byte(stdout), &d); err != nil {
			t.Fatalf("-o json: %v\n%s", err, stdout)
		}
		return d
	}

	t.Run("first sync creates the add-on and reports it as JSON", func(t *testing.T) {
		stdout, stderr, code := run(t, "-o", "json")
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		want := doc{
			Cluster: "test", Summary: map[string]int{"created": 3},
			Addons: []addonDoc{{Addon: "web", Status: "synced", Summary: map[string]int{"created": 3}}},
		}
		if diff := cmp.Diff(want, decode(t, stdout)); diff != "" {
			t.Errorf("json (-want +got):\n%s", diff)
		}
		if !strings.Contains(stderr, "web: syncing\n") || !strings.Contains(stderr, "web: 3 created, 0 configured, 0 unchanged, 0 pruned in ") {
			t.Errorf("progress on stderr:\n%s", stderr)
		}
	})

	t.Run("second sync prints an all-unchanged table", func(t *testing.T) {
		stdout, stderr, code := run(t)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if len(lines) != 3 {
			t.Fatalf("table:\n%s", stdout)
		}
		if got := strings.Fields(lines[0]); !cmp.Equal(got, []string{"ADD-ON", "CREATED", "CONFIGURED", "UNCHANGED", "PRUNED", "DURATION", "STATUS"}) {
			t.Errorf("header %q", lines[0])
		}
		if got := strings.Fields(lines[1]); len(got) != 7 || !cmp.Equal(got[:5], []string{"web", "0", "0", "3", "0"}) || got[6] != "synced" {
			t.Errorf("row %q", lines[1])
		}
		if lines[2] != "0 created, 0 configured, 3 unchanged, 0 pruned" {
			t.Errorf("summary line %q", lines[2])
		}
	})

	t.Run("dry run reports a change and writes nothing", func(t *testing.T) {
		p := filepath.Join(dir, "addons", "web", "kustomize", "objects.yaml")
		data, _ := os.ReadFile(p)
		if err := os.WriteFile(p, []byte(strings.Replace(string(data), "greeting: hello", "greeting: bonjour", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := run(t, "--dry-run", "-o", "json")
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		d := decode(t, stdout)
		if !d.DryRun || d.Summary["configured"] != 1 || d.Summary["unchanged"] != 2 {
			t.Errorf("dry run summary %+v", d)
		}
		if want := "web: would be ConfigMap/" + ns + "/web configured (render changed since the last sync)\n"; !strings.Contains(stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, stderr)
		}
		dyn, err := dynamic.NewForConfig(env.Config)
		if err != nil {
			t.Fatal(err)
		}
		cm, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace(ns).Get(t.Context(), "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := cm.Object["data"].(map[string]any)["greeting"]; got != "hello" {
			t.Errorf("dry run changed greeting to %v", got)
		}
	})

	t.Run("reports as YAML the document JSON holds", func(t *testing.T) {
		stdout, stderr, code := run(t, "--dry-run", "-o", "yaml")
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var d doc
		if err := yaml.Unmarshal([]byte(stdout), &d); err != nil {
			t.Fatalf("-o yaml: %v\n%s", err, stdout)
		}
		want := doc{
			Cluster: "test", DryRun: true, Summary: map[string]int{"configured": 1, "unchanged": 2},
			Addons: []addonDoc{{Addon: "web", Status: "synced", Summary: map[string]int{"configured": 1, "unchanged": 2}}},
		}
		if diff := cmp.Diff(want, d); diff != "" {
			t.Errorf("yaml (-want +got):\n%s", diff)
		}
	})

	t.Run("rejects an unknown output format as a usage error", func(t *testing.T) {
		_, stderr, code := run(t, "-o", "xml")
		if code != ExitUsage {
			t.Errorf("exit %d, want %d", code, ExitUsage)
		}
		if want := `invalid argument "xml" for "-o, --output" flag: must be table, json or yaml`; !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	})
}
