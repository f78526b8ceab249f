package sync

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/pkg/render"
)

// benchCRDSizes are the openAPIV3Schema sizes of the generated CRDs, like kube-prometheus-stack's.
var benchCRDSizes = []int{300 << 10, 350 << 10, 400 << 10, 450 << 10, 500 << 10, 600 << 10, 700 << 10}

// benchObjects returns a Namespace, the big CRDs and n namespaced objects of the usual kinds.
func benchObjects(ns, group string, n int) []*unstructured.Unstructured {
	nsObj := obj("v1", "Namespace", "", ns)
	out := []*unstructured.Unstructured{nsObj}
	for i, size := range benchCRDSizes {
		out = append(out, bigCRD(group, fmt.Sprintf("things%d", i), fmt.Sprintf("Thing%d", i), size))
	}
	for i := range n {
		name := fmt.Sprintf("obj-%04d", i)
		var o *unstructured.Unstructured
		switch i % 6 {
		case 0:
			o = obj("v1", "ConfigMap", ns, name)
			o.Object["data"] = map[string]any{"config.yaml": strings.Repeat("key: value\n", 20), "index": fmt.Sprint(i)}
		case 1:
			o = obj("v1", "Secret", ns, name)
			o.Object["stringData"] = map[string]any{"token": fmt.Sprintf("token-%d", i)}
		case 2:
			o = obj("v1", "Service", ns, name)
			o.Object["spec"] = map[string]any{
				"selector": map[string]any{"app": name},
				"ports":    []any{map[string]any{"name": "http", "port": int64(80), "targetPort": int64(8080)}},
			}
		case 3:
			o = obj("v1", "ServiceAccount", ns, name)
		case 4:
			o = obj("apps/v1", "Deployment", ns, name)
			o.Object["spec"] = map[string]any{
				"replicas": int64(1),
				"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
				"template": map[string]any{
					"metadata": map[string]any{"labels": map[string]any{"app": name}},
					"spec": map[string]any{"containers": []any{map[string]any{
						"name": "app", "image": "registry.example.com/app:1.0.0",
						"ports":     []any{map[string]any{"containerPort": int64(8080)}},
						"resources": map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "64Mi"}},
					}}},
				},
			}
		case 5:
			o = obj("rbac.authorization.k8s.io/v1", "Role", ns, name)
			o.Object["rules"] = []any{map[string]any{"apiGroups": []any{""}, "resources": []any{"configmaps"}, "verbs": []any{"get", "list"}}}
		}
		o.SetLabels(map[string]string{"app.kubernetes.io/name": "bench", render.LabelAddon: "bench"})
		out = append(out, o)
	}
	return out
}

// benchN is the number of namespaced objects besides the CRDs.
const benchN = 1000

// kubectlApply runs kubectl apply --server-side on manifests and returns its wall time and
// peak RSS in bytes.
func kubectlApply(b *testing.B, objs []*unstructured.Unstructured, dir string) (time.Duration, int64) {
	b.Helper()
	var buf bytes.Buffer
	for _, o := range objs {
		y, err := yaml.Marshal(o.Object)
		if err != nil {
			b.Fatal(err)
		}
		buf.WriteString("---\n")
		buf.Write(y)
	}
	file := filepath.Join(dir, "manifests.yaml")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(env.Kubectl(), "--kubeconfig", env.Kubeconfig, "--cache-dir", filepath.Join(dir, "cache"),
		"apply", "--server-side", "--force-conflicts", "--field-manager", "kubectl-bench", "-f", file)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		b.Fatalf("kubectl apply: %v\n%s", err, lastLines(string(out), 10))
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss << 10
	}
	return d, rss
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// peakHeap samples the live heap every few milliseconds until stop is called.
func peakHeap() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done := make(chan struct{})
	result := make(chan uint64)
	go func() {
		var peak uint64
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				result <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-result }
}

// benchSync times one addonsync sync with a fresh Manager (discovery included, as in the CLI).
func benchSync(b *testing.B, ns string, objs []*unstructured.Unstructured) (time.Duration, uint64, ChangeSet) {
	b.Helper()
	stop := peakHeap()
	start := time.Now()
	m := newTestManager(b, ns, nil)
	c := &render.Cluster{Name: "bench", Addons: []render.Addon{addon("bench", ns, objs)}}
	res, err := m.Sync(context.Background(), c, syncOpts())
	d := time.Since(start)
	peak := stop()
	if err != nil {
		b.Fatal(err)
	}
	return d, peak, res.ChangeSet()
}

type benchTotals struct {
	ours, kubectl time.Duration
	heap          uint64
	rss           int64
}

func (t *benchTotals) report(b *testing.B) {
	n := float64(b.N)
	b.ReportMetric(float64(t.ours.Milliseconds())/n, "addonsync-ms/op")
	b.ReportMetric(float64(t.kubectl.Milliseconds())/n, "kubectl-ms/op")
	b.ReportMetric(float64(t.ours)/float64(t.kubectl), "ratio")
	b.ReportMetric(float64(t.heap)/(1<<20), "addonsync-peak-heap-MiB")
	b.ReportMetric(float64(t.rss)/(1<<20), "kubectl-peak-rss-MiB")
}

func (t *benchTotals) add(ours time.Duration, heap uint64, kubectl time.Duration, rss int64) {
	t.ours += ours
	t.kubectl += kubectl
	t.heap = max(t.heap, heap)
	t.rss = max(t.rss, rss)
}

// BenchmarkSyncFirst syncs 1,000 objects and seven 300-700 KiB CRDs into a fresh namespace,
// beside kubectl apply --server-side of the same manifests into another fresh namespace.
func BenchmarkSyncFirst(b *testing.B) {
	testenv.Require(b, env)
	b.ReportAllocs()
	var tot benchTotals
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		ns := fmt.Sprintf("bench-first-%d-%d", time.Now().UnixNano()%1e6, i)
		objs := benchObjects(ns, ns+".bench.example.com", benchN)
		d, heap, cs := benchSync(b, ns, objs)
		if n := cs.Count(ActionCreated); n < len(objs) {
			b.Fatalf("created %d of %d", n, len(objs))
		}
		b.StopTimer()
		kns := ns + "-k"
		kd, rss := kubectlApply(b, benchObjects(kns, kns+".bench.example.com", benchN), dir)
		tot.add(d, heap, kd, rss)
		b.StartTimer()
	}
	tot.report(b)
}

// BenchmarkSyncNoop syncs an unchanged cluster of 1,000 objects and seven big CRDs, beside
// kubectl apply --server-side of the same unchanged manifests.
func BenchmarkSyncNoop(b *testing.B) {
	benchSteady(b, "noop", func(int, []*unstructured.Unstructured) {})
}

// BenchmarkSyncOneChange syncs the same set with one ConfigMap value changed per iteration.
func BenchmarkSyncOneChange(b *testing.B) {
	benchSteady(b, "change", func(i int, objs []*unstructured.Unstructured) {
		objs[len(benchCRDSizes)+1].Object["data"].(map[string]any)["index"] = fmt.Sprintf("changed-%d", i)
	})
}

func benchSteady(b *testing.B, name string, change func(i int, objs []*unstructured.Unstructured)) {
	testenv.Require(b, env)
	ns := fmt.Sprintf("bench-%s-%d", name, time.Now().UnixNano()%1e6)
	kns := ns + "-k"
	objs := benchObjects(ns, ns+".bench.example.com", benchN)
	kobjs := benchObjects(kns, kns+".bench.example.com", benchN)
	dir := b.TempDir()
	benchSync(b, ns, objs)
	kubectlApply(b, kobjs, dir)
	b.ReportAllocs()
	var tot benchTotals
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		change(i, objs)
		change(i, kobjs)
		d, heap, cs := benchSync(b, ns, objs)
		b.StopTimer()
		if got := len(cs.Entries) - cs.Count(ActionUnchanged); got > 1 {
			b.Fatalf("%d objects changed, want at most 1: %s", got, cs)
		}
		kd, rss := kubectlApply(b, kobjs, dir)
		tot.add(d, heap, kd, rss)
		b.StartTimer()
	}
	tot.report(b)
}
