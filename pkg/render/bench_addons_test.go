package render

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/internal/testutil/workload"
)

// BenchmarkRenderAddons renders the six-add-on workload (internal/testutil/workload: 55 CRDs
// of 7.8 MB, 355 objects) as the CronJob does, a new Renderer per run:
//
//   - cold: empty cache directory (charts downloaded from the loopback repository, Helm and
//     kustomize run), beside the real `helm template` of the same six charts one after
//     another (ratio-vs-helm-template; target at most 0.7);
//   - warm: the cache directory of the previous run (target at most 0.1 s).
func BenchmarkRenderAddons(b *testing.B) {
	w := workload.New(workload.Options{})
	_, cfg := w.Serve(b)
	render := func(b *testing.B, dir string) {
		r := newTestRenderer(b, func(o *Options) { o.CacheDir = dir })
		c, err := r.RenderCluster(context.Background(), cfg, workload.Cluster, RenderOptions{})
		if err != nil || len(c.Addons) != len(w.Addons) {
			b.Fatalf("render: %v", err)
		}
	}
	b.Run("cold", func(b *testing.B) {
		helm := newHelmTemplate(b, w)
		b.ReportAllocs()
		p := startPeakHeap()
		var ours, theirs, ourCPU, theirCPU time.Duration
		for b.Loop() {
			dir := b.TempDir()
			start, cpu := time.Now(), cpuTime()
			render(b, dir)
			ours += time.Since(start)
			ourCPU += cpuTime() - cpu
			b.StopTimer()
			wall, cpu := helm.run(b)
			theirs += wall
			theirCPU += cpu
			b.StartTimer()
		}
		p.report(b)
		n := float64(b.N)
		b.ReportMetric(float64(theirs.Milliseconds())/n, "helm-template-ms/op")
		b.ReportMetric(float64(ours)/float64(theirs), "ratio-vs-helm-template")
		b.ReportMetric(float64(ourCPU.Milliseconds())/n, "cpu-ms/op")
		b.ReportMetric(float64(theirCPU.Milliseconds())/n, "helm-template-cpu-ms/op")
		b.ReportMetric(float64(ourCPU)/float64(theirCPU), "cpu-ratio-vs-helm-template")
	})
	b.Run("warm", func(b *testing.B) {
		dir := b.TempDir()
		render(b, dir)
		b.ReportAllocs()
		p := startPeakHeap()
		var cpu time.Duration
		for b.Loop() {
			start := cpuTime()
			render(b, dir)
			cpu += cpuTime() - start
		}
		p.report(b)
		b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	})
}

// cpuTime is the CPU time (user and system) the process used so far: on a machine shared
// with other work, a steadier measure than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// helmTemplateRun runs the real helm CLI on the workload's charts, with the add-ons' values.
type helmTemplateRun struct {
	dir  string
	cmds [][]string
}

func newHelmTemplate(b *testing.B, w *workload.Workload) *helmTemplateRun {
	if helmBin == "" {
		b.Fatal("helm not found: set HELM_BIN or run hack/build-helm.sh")
	}
	h := &helmTemplateRun{dir: b.TempDir()}
	charts := map[string]chartrepo.Chart{}
	for _, c := range w.Charts {
		charts[c.Name] = c
	}
	for _, a := range w.Addons {
		c, ok := charts[a.Chart]
		if !ok {
			continue // chart-less
		}
		tgz := filepath.Join(h.dir, c.Name+".tgz")
		vals := filepath.Join(h.dir, a.Name+"-values.yaml")
		if err := os.WriteFile(tgz, chartrepo.BuildChart(b, c), 0o600); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(vals, []byte(a.Values), 0o600); err != nil {
			b.Fatal(err)
		}
		h.cmds = append(h.cmds, []string{
			"template", a.Name, tgz, "-n", a.Namespace, "-f", vals,
			"--kube-version", "v" + workload.Minor + ".0", "--include-crds",
		})
	}
	return h
}

// run templates every chart one after another and returns the wall time and the CPU time
// the helm processes used.
func (h *helmTemplateRun) run(b *testing.B) (wall, cpu time.Duration) {
	start := time.Now()
	for _, args := range h.cmds {
		cmd := exec.Command(helmBin, args...)
		cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+h.dir, "HELM_CONFIG_HOME="+h.dir, "HELM_DATA_HOME="+h.dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("helm %v: %v\n%.2000s", args, err, out)
		}
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	return time.Since(start), cpu
}
