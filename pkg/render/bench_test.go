package render

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/pkg/config"
)

// peakHeap samples the heap while a benchmark runs and reports the peak as peak-heap-MB.
type peakHeap struct {
	stop chan struct{}
	wg   sync.WaitGroup
	peak atomic.Uint64
}

func startPeakHeap() *peakHeap {
	runtime.GC()
	p := &peakHeap{stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		var ms runtime.MemStats
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > p.peak.Load() {
				p.peak.Store(ms.HeapAlloc)
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *peakHeap) report(b *testing.B) {
	close(p.stop)
	p.wg.Wait()
	b.ReportMetric(float64(p.peak.Load())/(1<<20), "peak-heap-MB")
}

func bigConfig() *config.Config {
	return newRepoConfig().
		addon("big", config.AddonSpec{Namespace: "big", Chart: &config.ChartSpec{Path: "charts/big"}}).
		chart("charts/big", bigChart(60)).
		cluster("prod", "1.34", "big").
		config()
}

// BenchmarkBigChart renders a chart of 540 objects: cold (a new Renderer each time, so Helm
// runs) and warm (the same Renderer, unchanged inputs).
func BenchmarkBigChart(b *testing.B) {
	cfg := bigConfig()
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		p := startPeakHeap()
		for b.Loop() {
			if _, err := newTestRenderer(b).RenderCluster(context.Background(), cfg, "prod", RenderOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		p.report(b)
	})
	b.Run("warm", func(b *testing.B) {
		r := newTestRenderer(b)
		if _, err := r.RenderCluster(context.Background(), cfg, "prod", RenderOptions{}); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		p := startPeakHeap()
		for b.Loop() {
			if _, err := r.RenderCluster(context.Background(), cfg, "prod", RenderOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		p.report(b)
	})
}

// fleetConfig is 3 clusters (three minors) × 6 add-ons: charts from a loopback HTTP
// repository, overlays, a chart-less add-on, per-cluster values.
func fleetConfig(b *testing.B) *config.Config {
	repo := chartrepo.NewHTTP(b)
	for _, c := range []chartrepo.Chart{webChart, umbrellaChart, bigChart(20)} {
		repo.Add(b, c)
	}
	rc := overlayConfig()
	rc.addons["web"].Spec.Chart = chartSpec(repo.URL(), "web", "1.0.0")
	rc.addon("umbrella", config.AddonSpec{Namespace: "u", Chart: chartSpec(repo.URL(), "umbrella", "1.0.0")}).
		addon("big", config.AddonSpec{Namespace: "big", Chart: chartSpec(repo.URL(), "big", "1.0.0")}).
		addon("crds", crdConfig().addons["crds"].Spec).
		addon("user", crdConfig().addons["user"].Spec)
	for p, f := range crdConfig().files {
		rc.files[p] = f
	}
	all := []string{"web", "pools", "umbrella", "big", "crds", "user"}
	rc.cluster("prod", "1.34", all...).cluster("dev", "1.33", all...).cluster("wsp", "1.31", all...).
		file("clusters/dev/values/big.yaml", "replicas: 1\n").
		file("clusters/wsp/values/umbrella.yaml", "tags:\n  extras: true\n")
	return rc.config()
}

// BenchmarkFleet renders 3 clusters × 6 add-ons: cold (empty chart cache: downloads and
// Helm), warm-disk (charts cached on disk, new Renderer) and warm (same Renderer, unchanged).
func BenchmarkFleet(b *testing.B) {
	cfg := fleetConfig(b)
	renderAll := func(b *testing.B, r *Renderer) {
		cs, err := r.RenderAll(context.Background(), cfg, RenderOptions{})
		if err != nil || len(cs) != 3 {
			b.Fatal(err)
		}
	}
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		p := startPeakHeap()
		for b.Loop() {
			renderAll(b, newTestRenderer(b))
		}
		p.report(b)
	})
	b.Run("warm-disk", func(b *testing.B) {
		dir := b.TempDir()
		renderAll(b, newTestRenderer(b, func(o *Options) { o.CacheDir = dir }))
		b.ReportAllocs()
		p := startPeakHeap()
		for b.Loop() {
			renderAll(b, newTestRenderer(b, func(o *Options) { o.CacheDir = dir }))
		}
		p.report(b)
	})
	b.Run("warm", func(b *testing.B) {
		r := newTestRenderer(b)
		renderAll(b, r)
		b.ReportAllocs()
		p := startPeakHeap()
		for b.Loop() {
			renderAll(b, r)
		}
		p.report(b)
	})
}

// BenchmarkHelmTemplateCLI times the real `helm template` on the big chart (process start
// included), for comparison with BenchmarkBigChart/cold.
func BenchmarkHelmTemplateCLI(b *testing.B) {
	if helmBin == "" {
		b.Skip("helm not found: set HELM_BIN or run hack/build-helm.sh")
	}
	dir := b.TempDir()
	tgz := filepath.Join(dir, "big.tgz")
	if err := os.WriteFile(tgz, chartrepo.BuildChart(b, bigChart(60)), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		cmd := exec.Command(helmBin, "template", "rel", tgz, "-n", "ns", "--kube-version", "v1.34.0", "--include-crds")
		cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+dir, "HELM_CONFIG_HOME="+dir, "HELM_DATA_HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
	}
}
