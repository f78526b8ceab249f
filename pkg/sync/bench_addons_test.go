package sync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/addonsync/addonsync/internal/kube"
	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/internal/testutil/workload"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

// The benchmarks in this file run the six-add-on workload (internal/testutil/workload: 355
// objects, 55 CRDs of 7.8 MB, hook Jobs in three add-ons, seven namespaces) against the test
// API server, beside the real kubectl on the same manifests, and report ratios:
//
//	BenchmarkAddonsSyncFirst   sync into an empty cluster vs kubectl apply --server-side of
//	                           the CRDs, kubectl wait for them, kubectl apply of the rest
//	BenchmarkAddonsSteady      a CronJob run on an unchanged cluster (render from the render
//	                           cache, then sync) vs kubectl apply --server-side, and diff vs
//	                           kubectl diff --server-side; requests and peak memory
//
// A Job controller (the test API server has none) completes the hook Jobs.

// addonsBench is one copy of the workload: its config, a warm render cache, the rendered
// cluster and the manifests kubectl applies (for a copy of its own, under another prefix).
type addonsBench struct {
	prefix   string
	cfg      *config.Config
	cacheDir string
	cluster  *render.Cluster
}

func newAddonsBench(b *testing.B, prefix string) *addonsBench {
	b.Helper()
	w := workload.New(workload.Options{Prefix: prefix})
	_, cfg := w.Serve(b)
	ab := &addonsBench{prefix: prefix, cfg: cfg, cacheDir: b.TempDir()}
	ab.cluster = ab.render(b)
	// Every cluster has kube-system; the prefixed copy of it is created here.
	d, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		b.Fatal(err)
	}
	nsGVR := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	if _, err := d.Resource(nsGVR).Create(context.Background(), obj("v1", "Namespace", "", prefix+"-kube-system"), metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	return ab
}

// render renders the cluster as a new process does, with the bench's render cache.
func (ab *addonsBench) render(b *testing.B) *render.Cluster {
	o := render.DefaultOptions()
	o.CacheDir = ab.cacheDir
	c, err := render.New(o).RenderCluster(context.Background(), ab.cfg, workload.Cluster, render.RenderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// manager returns a new Manager, as a CLI run starts with, counting its requests.
func (ab *addonsBench) manager(b *testing.B, count *requestCounter) *Manager {
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = kube.DefaultOptions().QPS, kube.DefaultOptions().Burst
	if count != nil {
		cfg.WrapTransport = count.wrap
	}
	o := DefaultManagerOptions()
	o.InventoryNamespace = ab.prefix + "-addonsync-system"
	o.Tooling = "addonsync/bench"
	m, err := NewManager(cfg, o)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func addonsSyncOptions() SyncOptions {
	o := DefaultSyncOptions()
	o.Wait = false // no controllers: Deployments never become available
	return o
}

// requestCounter counts requests, and writes apart (remembering the first few).
type requestCounter struct {
	all, writes atomic.Int64
	mu          gosync.Mutex
	written     []string
}

func (c *requestCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		c.all.Add(1)
		if req.Method != http.MethodGet {
			c.writes.Add(1)
			c.mu.Lock()
			if len(c.written) < 10 {
				c.written = append(c.written, req.Method+" "+req.URL.Path)
			}
			c.mu.Unlock()
		}
		return rt.RoundTrip(req)
	})
}

// manifests writes the cluster's objects as kubectl would get them (helm template output):
// the add-ons' namespaces, the CRDs, and everything else (hooks included), in three files.
func manifests(b *testing.B, c *render.Cluster, dir string) (namespaces, crds, rest string) {
	var nsBuf, first, second bytes.Buffer
	write := func(buf *bytes.Buffer, o *unstructured.Unstructured) {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			b.Fatal(err)
		}
		buf.WriteString("---\n")
		buf.Write(data)
	}
	seen := map[string]bool{}
	for _, a := range c.Addons {
		if !seen[a.Namespace] {
			seen[a.Namespace] = true
			write(&nsBuf, obj("v1", "Namespace", "", a.Namespace))
		}
	}
	for _, a := range c.Addons {
		for _, o := range a.Objects {
			switch o.GetKind() {
			case "CustomResourceDefinition":
				write(&first, o)
			case "Namespace":
				write(&nsBuf, o)
			default:
				write(&second, o)
			}
		}
		for _, h := range a.Hooks {
			write(&second, h.Object)
		}
	}
	namespaces, crds, rest = filepath.Join(dir, "namespaces.yaml"), filepath.Join(dir, "crds.yaml"), filepath.Join(dir, "rest.yaml")
	for p, buf := range map[string]*bytes.Buffer{namespaces: &nsBuf, crds: &first, rest: &second} {
		if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return namespaces, crds, rest
}

// kubectl runs the real kubectl on the test cluster and returns its wall time and, for
// kubectl diff, whether it found changes (exit code 1).
func kubectl(b *testing.B, dir string, args ...string) (time.Duration, int) {
	b.Helper()
	args = append([]string{"--kubeconfig", env.Kubeconfig, "--cache-dir", filepath.Join(dir, "kubectl-cache")}, args...)
	cmd := exec.Command(env.Kubectl(), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 && args[4] == "diff" {
		return d, 1
	}
	if err != nil {
		b.Fatalf("kubectl %v: %v\n%s", args[4:], err, lastLines(out.String(), 15))
	}
	return d, 0
}

func kubectlApplyFirst(b *testing.B, c *render.Cluster, dir string) time.Duration {
	namespaces, crds, rest := manifests(b, c, dir)
	apply := []string{"apply", "--server-side", "--force-conflicts", "--field-manager", "kubectl-bench", "-f"}
	d1, _ := kubectl(b, dir, append(apply, namespaces, "-f", crds)...)
	d2, _ := kubectl(b, dir, "wait", "--for", "condition=Established", "--timeout", "300s", "-f", crds)
	d3, _ := kubectl(b, dir, append(apply, rest)...)
	return d1 + d2 + d3
}

// heapSampler records the peak of the heap while it runs, above what the heap held when it
// started (after a GC): what the benchmark itself keeps (the charts the loopback repository
// serves, the clusters it rendered for kubectl) is not the measured process's.
type heapSampler struct {
	stop       chan struct{}
	wg         gosync.WaitGroup
	peak, base uint64
}

func startHeapSampler() *heapSampler {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	s := &heapSampler{stop: make(chan struct{}), base: sample[0].Value.Uint64()}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			s.peak = max(s.peak, sample[0].Value.Uint64())
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *heapSampler) done() uint64 {
	close(s.stop)
	s.wg.Wait()
	return s.peak - min(s.base, s.peak)
}

// completeHookJobs plays the Job controller for the benchmark: every Job in a namespace with
// the prefix is marked Complete once.
func completeHookJobs(ctx context.Context, b testing.TB, prefix string) {
	d, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		b.Fatal(err)
	}
	jobs := d.Resource(schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"})
	go func() {
		for ctx.Err() == nil {
			list, err := jobs.List(ctx, metav1.ListOptions{})
			if err != nil {
				list = &unstructured.UnstructuredList{}
			}
			for i := range list.Items {
				job := &list.Items[i]
				if len(job.GetNamespace()) < len(prefix) || job.GetNamespace()[:len(prefix)] != prefix {
					continue
				}
				if _, done, _ := unstructured.NestedFieldNoCopy(job.Object, "status", "completionTime"); done {
					continue
				}
				now := time.Now().UTC().Format(time.RFC3339)
				cond := func(typ string) map[string]any {
					return map[string]any{"type": typ, "status": "True", "reason": "CompletionsReached", "lastTransitionTime": now, "lastProbeTime": now}
				}
				job.Object["status"] = map[string]any{
					"startTime": now, "completionTime": now, "succeeded": int64(1),
					"conditions": []any{cond("SuccessCriteriaMet"), cond("Complete")},
				}
				if _, err := jobs.Namespace(job.GetNamespace()).UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil &&
					ctx.Err() == nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
					b.Logf("job controller: %s: %v", job.GetName(), err)
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
}

// deleteCRDs removes the CRDs of a copy of the workload and waits until they are gone, so
// that the API server does not carry every iteration's 7.8 MB of schemas into the next.
func deleteCRDs(b testing.TB, c *render.Cluster) {
	d, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		b.Fatal(err)
	}
	crds := d.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	var names []string
	for _, a := range c.Addons {
		for _, o := range a.Objects {
			if o.GetKind() == "CustomResourceDefinition" {
				names = append(names, o.GetName())
				_ = crds.Delete(context.Background(), o.GetName(), metav1.DeleteOptions{})
			}
		}
	}
	// Wait until they are gone, so that the API server's clean-up does not slow the next
	// iteration down.
	deadline := time.Now().Add(3 * time.Minute)
	for _, name := range names {
		for time.Now().Before(deadline) {
			if _, err := crds.Get(context.Background(), name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

var benchSeq atomic.Int64

func benchPrefix(kind string) string {
	return fmt.Sprintf("b%s%d%d", kind, time.Now().UnixNano()%1e5, benchSeq.Add(1))
}

// BenchmarkAddonsSyncFirst syncs the workload into an empty cluster (no render: the cluster
// is rendered beforehand), beside kubectl apply + wait + apply of the same manifests.
func BenchmarkAddonsSyncFirst(b *testing.B) {
	testenv.Require(b, env)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := b.TempDir()
	var ours, theirs time.Duration
	var peak uint64
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		ab := newAddonsBench(b, benchPrefix("f"))
		kb := newAddonsBench(b, ab.prefix+"k")
		completeHookJobs(ctx, b, ab.prefix)
		b.StartTimer()
		start := time.Now()
		heap := startHeapSampler()
		res, err := ab.manager(b, nil).Sync(ctx, ab.cluster, addonsSyncOptions())
		peak = max(peak, heap.done())
		ours += time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if cs := res.ChangeSet(); cs.Count(ActionCreated) < 350 {
			b.Fatalf("first sync created %d objects: %s", cs.Count(ActionCreated), cs)
		}
		theirs += kubectlApplyFirst(b, kb.cluster, dir)
		deleteCRDs(b, ab.cluster)
		deleteCRDs(b, kb.cluster)
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(ours.Milliseconds())/n, "addonsync-ms/op")
	b.ReportMetric(float64(theirs.Milliseconds())/n, "kubectl-ms/op")
	b.ReportMetric(float64(ours)/float64(theirs), "ratio-vs-kubectl")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
}

// BenchmarkAddonsSteady runs, on a synced and unchanged cluster, what the CronJob runs every
// few minutes (a new process: render from the render cache, a new Manager, sync) and what
// `addonsync diff` runs (render, diff), beside kubectl apply --server-side and kubectl diff
// --server-side of the same manifests on a copy kubectl applied itself.
func BenchmarkAddonsSteady(b *testing.B) {
	testenv.Require(b, env)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ab := newAddonsBench(b, benchPrefix("s"))
	kb := newAddonsBench(b, ab.prefix+"k")
	completeHookJobs(ctx, b, ab.prefix)
	if _, err := ab.manager(b, nil).Sync(ctx, ab.cluster, addonsSyncOptions()); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	kubectlApplyFirst(b, kb.cluster, dir)
	all := filepath.Join(dir, "all.yaml")
	namespaces, crds, rest := manifests(b, kb.cluster, dir)
	joined := append(append(mustRead(b, namespaces), mustRead(b, crds)...), mustRead(b, rest)...)
	if err := os.WriteFile(all, joined, 0o600); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { deleteCRDs(b, ab.cluster); deleteCRDs(b, kb.cluster) })

	b.Run("noop-sync", func(b *testing.B) {
		var ours, theirs, renderTime time.Duration
		var peak uint64
		var count requestCounter
		b.ReportAllocs()
		for b.Loop() {
			heap := startHeapSampler()
			start := time.Now()
			c := ab.render(b)
			renderTime += time.Since(start)
			res, err := ab.manager(b, &count).Sync(ctx, c, addonsSyncOptions())
			ours += time.Since(start)
			peak = max(peak, heap.done())
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			cs := res.ChangeSet()
			if changed := len(cs.Entries) - cs.Count(ActionUnchanged); changed != 0 {
				b.Logf("no-op sync changed %d objects: %s", changed, cs)
			}
			d, _ := kubectl(b, dir, "apply", "--server-side", "--force-conflicts", "--field-manager", "kubectl-bench", "-f", all)
			theirs += d
			b.StartTimer()
		}
		if len(count.written) > 0 {
			b.Logf("no-op sync writes (first %d): %v", len(count.written), count.written)
		}
		n := float64(b.N)
		b.ReportMetric(float64(ours.Milliseconds())/n, "addonsync-ms/op")
		b.ReportMetric(float64(renderTime.Milliseconds())/n, "render-ms/op")
		b.ReportMetric(float64(theirs.Milliseconds())/n, "kubectl-ms/op")
		b.ReportMetric(float64(ours)/float64(theirs), "ratio-vs-kubectl")
		b.ReportMetric(float64(count.all.Load())/n, "requests")
		b.ReportMetric(float64(count.writes.Load())/n, "writes")
		b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	})
	b.Run("diff", func(b *testing.B) {
		var ours, theirs time.Duration
		var peak uint64
		var count requestCounter
		b.ReportAllocs()
		for b.Loop() {
			heap := startHeapSampler()
			start := time.Now()
			res, err := ab.manager(b, &count).Diff(ctx, ab.render(b), DefaultDiffOptions())
			ours += time.Since(start)
			peak = max(peak, heap.done())
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if res.HasChanges() {
				b.Logf("diff of an unchanged cluster: %+v", res.Summary)
			}
			d, code := kubectl(b, dir, "diff", "--server-side", "--force-conflicts", "--field-manager", "kubectl-bench", "-f", all)
			if code != 0 {
				b.Logf("kubectl diff found changes in its own unchanged copy")
			}
			theirs += d
			b.StartTimer()
		}
		n := float64(b.N)
		b.ReportMetric(float64(ours.Milliseconds())/n, "addonsync-ms/op")
		b.ReportMetric(float64(theirs.Milliseconds())/n, "kubectl-ms/op")
		b.ReportMetric(float64(ours)/float64(theirs), "ratio-vs-kubectl")
		b.ReportMetric(float64(count.all.Load())/n, "requests")
		b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	})
}

func mustRead(b *testing.B, p string) []byte {
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	return data
}
