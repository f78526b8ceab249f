package sync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/pkg/render"
)

// benchCluster is 10 add-ons of 100 objects each (40 ConfigMaps, 20 Secrets, 20 Services,
// 10 ServiceAccounts, 10 Deployments), all in ns.
func benchCluster(ns string) *render.Cluster {
	c := &render.Cluster{Name: "bench"}
	for a := range 10 {
		name := fmt.Sprintf("addon%02d", a)
		var objs []*unstructured.Unstructured
		add := func(y string, args ...any) {
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(fmt.Sprintf(y, args...)), &u.Object); err != nil {
				panic(err)
			}
			objs = append(objs, u)
		}
		for i := range 40 {
			add("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s-cm-%d, namespace: %s}\ndata: {key: value-%d, other: text}\n", name, i, ns, i)
		}
		for i := range 20 {
			add("apiVersion: v1\nkind: Secret\nmetadata: {name: %s-secret-%d, namespace: %s}\nstringData: {password: p-%d}\n", name, i, ns, i)
		}
		for i := range 20 {
			add("apiVersion: v1\nkind: Service\nmetadata: {name: %s-svc-%d, namespace: %s}\nspec: {selector: {app: a%d}, ports: [{name: http, port: 80, targetPort: 8080}]}\n", name, i, ns, i)
		}
		for i := range 10 {
			add("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: %s-sa-%d, namespace: %s}\n", name, i, ns)
		}
		for i := range 10 {
			add(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %s-dep-%d, namespace: %s}
spec:
  replicas: 1
  selector: {matchLabels: {app: d%d}}
  template:
    metadata: {labels: {app: d%d}}
    spec:
      containers:
      - name: app
        image: registry.example.org/app:1.0.0
        resources: {requests: {cpu: 10m, memory: 16Mi}}
`, name, i, ns, i, i)
		}
		c.Addons = append(c.Addons, addon(name, ns, objs))
	}
	return c
}

// BenchmarkDiffUnchanged1000 measures Diff of a synced, unchanged 1,000-object cluster, and
// `kubectl diff --server-side` on the same objects beside it.
func BenchmarkDiffUnchanged1000(b *testing.B) {
	testenv.Require(b, env)
	ctx := context.Background()
	ns := env.Namespace(b)
	m := newTestManager(b, ns, nil)
	c := benchCluster(ns)
	if _, err := m.Sync(ctx, c, syncOpts()); err != nil {
		b.Fatal(err)
	}
	diff := func(o DiffOptions) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := m.Diff(ctx, c, o)
				if err != nil {
					b.Fatal(err)
				}
				if res.HasChanges() || res.Summary.Unchanged != 1000 {
					b.Fatalf("diff of an unchanged cluster: %s", res.Summary)
				}
			}
		}
	}
	b.Run("addonsync", diff(DefaultDiffOptions()))
	all := DefaultDiffOptions()
	all.DryRunAll = true
	b.Run("addonsync-dry-run-every-object", diff(all))
	// The same with the client rate limit (env: 200 QPS) out of the way: what the API server
	// itself takes for 1,000 dry-run applies.
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 5000, 5000
	fast, err := NewManager(cfg, m.opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("addonsync-dry-run-every-object-qps-5000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			res, err := fast.Diff(ctx, c, all)
			if err != nil || res.HasChanges() {
				b.Fatalf("diff: %v, %+v", err, res.Summary)
			}
		}
	})

	manifest := benchManifest(b, m, c)
	for _, conc := range []int{1, 16} {
		b.Run(fmt.Sprintf("kubectl-diff-server-side-concurrency-%d", conc), func(b *testing.B) {
			for b.Loop() {
				cmd := exec.CommandContext(ctx, env.Kubectl(), "--kubeconfig", env.Kubeconfig, "diff", "--server-side",
					"--field-manager", DefaultFieldManager, "--force-conflicts", fmt.Sprintf("--concurrency=%d", conc), "-f", manifest)
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Run(); err != nil {
					var ee *exec.ExitError
					if errors.As(err, &ee) && ee.ExitCode() == 1 {
						b.Fatalf("kubectl diff found changes in the unchanged cluster:\n%.2000s", out.String())
					}
					b.Fatalf("kubectl diff: %v\n%.2000s", err, out.String())
				}
			}
		})
	}
}

// benchManifest writes the objects as the sync applied them (ApplySet label, applied hash)
// to a file for kubectl.
func benchManifest(b *testing.B, m *Manager, c *render.Cluster) string {
	var buf bytes.Buffer
	for i := range c.Addons {
		r := &addonRun{addon: &c.Addons[i]}
		if err := m.prepare(context.Background(), r); err != nil {
			b.Fatal(err)
		}
		for _, o := range r.objects {
			y, err := yaml.Marshal(o.Object)
			if err != nil {
				b.Fatal(err)
			}
			buf.WriteString("---\n")
			buf.Write(y)
		}
	}
	path := filepath.Join(b.TempDir(), "objects.yaml")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}
