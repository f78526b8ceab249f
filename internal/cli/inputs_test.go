package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/internal/testutil/gitserver"
)

// countingCluster is an API server stand-in that counts every request and fails it: a
// command refusing bad input must not send it one.
func countingCluster(t *testing.T) (kubeconfig string, requests *atomic.Int64) {
	t.Helper()
	requests = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		http.Error(w, "this cluster must not be asked", http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	kubeconfig = filepath.Join(t.TempDir(), "kubeconfig")
	data := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, srv.URL)
	if err := os.WriteFile(kubeconfig, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return kubeconfig, requests
}

// inputRepo is a git config repo with one add-on "web" whose chart comes from repoURL, on
// cluster "test" reached through kubeconfig; edit changes files before the commit.
func inputRepo(t *testing.T, repoURL, kubeconfig string, edit func(dir string)) string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"addonsync.yaml": "apiVersion: addonsync.io/v1alpha1\nkind: Repository\nmetadata:\n  name: inputs\nspec:\n  limits:\n    maxFileSize: 4Ki\n",
		"addons/web/addon.yaml": "apiVersion: addonsync.io/v1alpha1\nkind: Addon\nmetadata:\n  name: web\nspec:\n  namespace: web\n  chart:\n" +
			"    repository: " + repoURL + "\n    name: web\n    version: 1.0.0\n",
		"clusters/test/cluster.yaml": "apiVersion: addonsync.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: test\nspec:\n" +
			"  kubernetesVersion: \"1.35\"\n  kubeconfig:\n    path: " + kubeconfig + "\n  addons:\n    - name: web\n",
	})
	if edit != nil {
		edit(dir)
	}
	gitserver.Git(t, dir, "init", "-q", "-b", "main")
	gitserver.Git(t, dir, "add", "-A")
	gitserver.Git(t, dir, "commit", "-q", "-m", "config")
	return dir
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestUnsafeInputNeverReachesTheCluster runs each unsafe input through the command that
// would apply it: each fails naming the file and field, sends no request to the cluster,
// and never shows the secret it holds.
func TestUnsafeInputNeverReachesTheCluster(t *testing.T) {
	charts := chartrepo.NewHTTP(t)
	charts.Add(t, chartrepo.Chart{Name: "web", Version: "1.0.0", Files: map[string]string{"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n"}})
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.yaml"), []byte("password: hunter2-outside\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secretLink := func(dir string) {
		symlink(t, filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "clusters", "test", "values", "web.yaml"))
	}
	const wrongDigest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	for _, tc := range []struct {
		name   string
		edit   func(dir string)
		args   []string
		secret string
		want   []string
	}{
		{
			name: "symlink out of the repo in the working tree", edit: secretLink, args: []string{"sync", "test"}, secret: "hunter2-outside",
			want: []string{`clusters/test/values/web.yaml: symlink to "` + filepath.Join(outside, "secret.yaml") + `" leaves the config repo`},
		},
		{
			name: "symlink out of the repo in a git ref", edit: secretLink, args: []string{"diff", "test", "--ref", "main"}, secret: "hunter2-outside",
			want: []string{`clusters/test/values/web.yaml: symlink to "` + filepath.Join(outside, "secret.yaml") + `" leaves the config repo`},
		},
		{
			name: "credentials in a chart URL", args: []string{"sync", "test"}, secret: "hunter2-url",
			edit: func(dir string) {
				p := filepath.Join(dir, "addons", "web", "addon.yaml")
				data, _ := os.ReadFile(p)
				_ = os.WriteFile(p, []byte(strings.Replace(string(data), "http://", "http://deploy:hunter2-url@", 1)), 0o644)
			},
			want: []string{`addons/web/addon.yaml:8: spec.chart.repository: "http://REDACTED@127.0.0.1`, "holds credentials", "usernameEnv and passwordFile"},
		},
		{
			name: "an oversized values file", args: []string{"sync", "test"}, secret: "hunter2-big",
			edit: func(dir string) {
				writeTree(t, dir, map[string]string{"addons/web/values.yaml": "blob: " + strings.Repeat("hunter2-big", 600) + "\n"})
			},
			want: []string{"addons/web/values.yaml: file is 6.5 KiB, over the limit of 4.0 KiB per file (shrink it, or raise spec.limits.maxFileSize in addonsync.yaml)"},
		},
		{
			name: "an unlocked chart under reconcile", args: []string{"reconcile", "--no-upgrade", "--wait=false"},
			want: []string{"chart web 1.0.0 from " + charts.URL() + " is not pinned in addonsync.lock", "run addonsync lock"},
		},
		{
			name: "a changed digest under sync", args: []string{"sync", "test"},
			edit: func(dir string) {
				writeTree(t, dir, map[string]string{"addonsync.lock": "apiVersion: addonsync.io/v1alpha1\nkind: Lock\ncharts:\n  - source: " + charts.URL() +
					"\n    name: web\n    version: 1.0.0\n    digest: " + wrongDigest + "\n"})
			},
			want: []string{"chart web 1.0.0 from " + charts.URL() + ": pulled archive has digest sha256:", "but addonsync.lock pins " + wrongDigest},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kubeconfig, requests := countingCluster(t)
			dir := inputRepo(t, charts.URL(), kubeconfig, tc.edit)
			stdout, stderr, code := runConfigCmd(t, append(tc.args, "-C", dir, "--cache-dir", t.TempDir())...)
			if code == ExitOK {
				t.Fatalf("exit 0\n%s", stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("%d requests reached the cluster", n)
			}
			if tc.secret != "" && strings.Contains(stdout+stderr, tc.secret) {
				t.Errorf("the output shows the secret %q:\n%s\n%s", tc.secret, stdout, stderr)
			}
		})
	}
}

// TestSyncCustomResourcesOfOtherCRDs syncs, on the real API server, a custom resource whose
// CRD was installed outside addonsync, and one whose CRD another add-on of the cluster
// renders, without dependsOn.
func TestSyncCustomResourcesOfOtherCRDs(t *testing.T) {
	testenv.Require(t, env)
	ns := env.Namespace(t)
	group := ns + ".example.org" // CRDs are cluster-wide: one group per test run
	dyn, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	crd := func(kind, plural string) string {
		return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %s.%s
spec:
  group: %s
  names: {kind: %s, plural: %s}
  scope: Namespaced
  versions:
    - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
`, plural, group, group, kind, plural)
	}
	// Gateways: installed by hand, as a CNI or Gateway API would be.
	external, err := parseYAMLObject(crd("Gateway", "gateways"))
	if err != nil {
		t.Fatal(err)
	}
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	ctx := context.Background()
	if _, err := dyn.Resource(crdGVR).Create(ctx, external, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = dyn.Resource(crdGVR).Delete(context.Background(), external.GetName(), metav1.DeleteOptions{})
	})
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := dyn.Resource(schema.GroupVersionResource{Group: group, Version: "v1", Resource: "gateways"}).Namespace(ns).List(ctx, metav1.ListOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("external CRD not served: %v", err)
	}
	dir := t.TempDir()
	cr := func(kind, name string) string {
		return fmt.Sprintf("apiVersion: %s/v1\nkind: %s\nmetadata:\n  name: %s\nspec:\n  replicas: 0\n", group, kind, name)
	}
	writeTree(t, dir, map[string]string{
		// "apps" sorts before "monitoring" and names no dependsOn: only the inferred order
		// lets its ServiceMonitor-like Probe apply after monitoring's CRD.
		"addons/apps/addon.yaml":                         "apiVersion: addonsync.io/v1alpha1\nkind: Addon\nmetadata:\n  name: apps\nspec:\n  namespace: " + ns + "\n",
		"addons/apps/kustomize/kustomization.yaml":       "resources:\n  - gateway.yaml\n  - probe.yaml\n",
		"addons/apps/kustomize/gateway.yaml":             cr("Gateway", "edge"),
		"addons/apps/kustomize/probe.yaml":               cr("Probe", "apps"),
		"addons/monitoring/addon.yaml":                   "apiVersion: addonsync.io/v1alpha1\nkind: Addon\nmetadata:\n  name: monitoring\nspec:\n  namespace: " + ns + "\n",
		"addons/monitoring/kustomize/kustomization.yaml": "resources:\n  - crd.yaml\n",
		"addons/monitoring/kustomize/crd.yaml":           crd("Probe", "probes"),
		"clusters/test/cluster.yaml": "apiVersion: addonsync.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: test\nspec:\n  kubernetesVersion: \"1.35\"\n" +
			"  kubeconfig:\n    path: " + env.Kubeconfig + "\n  addons:\n    - name: apps\n    - name: monitoring\n",
		"addonsync.yaml": "apiVersion: addonsync.io/v1alpha1\nkind: Repository\nmetadata:\n  name: crs\nspec:\n  inventoryNamespace: " + ns + "\n",
	})
	t.Cleanup(func() {
		_ = dyn.Resource(crdGVR).Delete(context.Background(), "probes."+group, metav1.DeleteOptions{})
	})
	t.Run("render offline refuses the external kind", func(t *testing.T) {
		_, stderr, code := runConfigCmd(t, "render", "test", "-C", dir)
		want := `Gateway/` + ns + `/edge: ` + group + `/v1 Gateway is not served by Kubernetes 1.35`
		if code != ExitUsage || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, want 2 and %q:\n%s", code, want, stderr)
		}
	})
	t.Run("sync applies both custom resources, the CRD add-on first", func(t *testing.T) {
		stdout, stderr, code := runConfigCmd(t, "sync", "test", "-C", dir, "--wait=false")
		if code != ExitOK {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		if i, j := strings.Index(stderr, "monitoring: syncing"), strings.Index(stderr, "apps: syncing"); i < 0 || j < 0 || i > j {
			t.Errorf("monitoring must sync before apps:\n%s", stderr)
		}
		for resource, name := range map[string]string{"gateways": "edge", "probes": "apps"} {
			if _, err := dyn.Resource(schema.GroupVersionResource{Group: group, Version: "v1", Resource: resource}).Namespace(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
				t.Errorf("%s/%s: %v", resource, name, err)
			}
		}
	})
}

func parseYAMLObject(s string) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	js, err := yaml.YAMLToJSON([]byte(s))
	if err != nil {
		return nil, err
	}
	return u, u.UnmarshalJSON(js)
}

// TestLockCommand checks that addonsync lock pins every chart version in use, that --check
// fails while one is unpinned, and that a pinned chart then renders under --require-locked.
func TestLockCommand(t *testing.T) {
	charts := chartrepo.NewHTTP(t)
	digest := charts.Add(t, chartrepo.Chart{Name: "web", Version: "1.0.0", Files: map[string]string{"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n"}})
	kubeconfig, _ := countingCluster(t)
	dir := inputRepo(t, charts.URL(), kubeconfig, nil)
	cache := t.TempDir()
	t.Run("--check fails while a chart is unpinned, writing nothing", func(t *testing.T) {
		_, stderr, code := runConfigCmd(t, "lock", "--check", "-C", dir, "--cache-dir", cache)
		if code != ExitUsage || !strings.Contains(stderr, "addonsync.lock: 1 chart versions in use are not pinned (run addonsync lock and commit it)") {
			t.Errorf("exit %d\n%s", code, stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "addonsync.lock")); !os.IsNotExist(err) {
			t.Errorf("--check wrote the lock: %v", err)
		}
	})
	t.Run("pins the chart with the digest of its archive", func(t *testing.T) {
		stdout, stderr, code := runConfigCmd(t, "lock", "-C", dir, "--cache-dir", cache)
		if code != ExitOK || stdout != "addonsync.lock: 1 charts pinned, 1 added\n" {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		data, err := os.ReadFile(filepath.Join(dir, "addonsync.lock"))
		if err != nil || !strings.Contains(string(data), "digest: "+digest) {
			t.Errorf("lock %v:\n%s", err, data)
		}
	})
	t.Run("a pinned chart renders with --require-locked", func(t *testing.T) {
		if _, stderr, code := runConfigCmd(t, "render", "test", "--require-locked", "-C", dir, "--cache-dir", cache); code != ExitOK {
			t.Errorf("exit %d\n%s", code, stderr)
		}
		if stdout, _, code := runConfigCmd(t, "lock", "--check", "-C", dir, "--cache-dir", cache); code != ExitOK || stdout != "addonsync.lock: every chart in use is pinned (1)\n" {
			t.Errorf("exit %d: %s", code, stdout)
		}
	})
}

// TestClustersWideShowsCRDOrder checks that clusters -o wide shows the order the render
// infers from CRDs.
func TestClustersWideShowsCRDOrder(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"addons/apps/addon.yaml":                         "apiVersion: addonsync.io/v1alpha1\nkind: Addon\nmetadata:\n  name: apps\nspec:\n  namespace: apps\n",
		"addons/apps/kustomize/kustomization.yaml":       "resources:\n  - probe.yaml\n",
		"addons/apps/kustomize/probe.yaml":               "apiVersion: example.org/v1\nkind: Probe\nmetadata:\n  name: apps\n",
		"addons/monitoring/addon.yaml":                   "apiVersion: addonsync.io/v1alpha1\nkind: Addon\nmetadata:\n  name: monitoring\nspec:\n  namespace: monitoring\n",
		"addons/monitoring/kustomize/kustomization.yaml": "resources:\n  - crd.yaml\n",
		"addons/monitoring/kustomize/crd.yaml": "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: probes.example.org\nspec:\n" +
			"  group: example.org\n  names: {kind: Probe, plural: probes}\n  scope: Namespaced\n  versions:\n    - {name: v1, served: true, storage: true}\n",
		"clusters/prod/cluster.yaml": "apiVersion: addonsync.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: prod\nspec:\n  kubernetesVersion: \"1.37\"\n" +
			"  addons:\n    - name: apps\n    - name: monitoring\n",
	})
	stdout, stderr, code := runConfigCmd(t, "clusters", "-C", dir, "-o", "wide")
	want := "CLUSTER   KUBERNETES   BRANCH                        ADD-ONS                             KUBECONFIG\n" +
		"prod      1.37         main (not a git repository)   monitoring,apps(after monitoring)   default kubeconfig\n"
	if code != ExitOK || stdout != want {
		t.Errorf("exit %d\n%s\nwant:\n%s\n%s", code, stdout, want, stderr)
	}
}
