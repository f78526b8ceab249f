package workload

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/pkg/config"
)

// Cluster is the name of the one cluster of the generated config repo.
const Cluster = "bench"

// Minor is the cluster's Kubernetes minor.
const Minor = "1.34"

// Options configure New.
type Options struct {
	// Prefix, when set, is put before every namespace ("<prefix>-monitoring"), every
	// cluster-scoped name and every CRD group ("<prefix>.monitoring.coreos.com"), so several
	// copies of the workload live side by side in one API server.
	Prefix string
}

// Addon is one add-on of the workload.
type Addon struct {
	// Name of the add-on (addons/<name>).
	Name string
	// Namespace it installs into.
	Namespace string
	// Values is addons/<name>/values.yaml.
	Values string
	// DependsOn are the add-ons synced first.
	DependsOn []string
	// Kustomize, for a chart-less add-on, are the files of addons/<name>/kustomize.
	Kustomize map[string]string
	// Chart is the chart's name and version; empty for a chart-less add-on.
	Chart, Version string
}

// Workload is the generated add-ons and their charts.
type Workload struct {
	o Options
	// Charts are the charts to serve.
	Charts []chartrepo.Chart
	// Addons in the order the cluster lists them.
	Addons []Addon
}

// New generates the workload.
func New(o Options) *Workload {
	w := &Workload{o: o}
	for _, f := range []func() (chartrepo.Chart, Addon){w.coredns, w.metallb, w.certManager, w.rookCeph, w.kubePrometheusStack, w.ingressNginx} {
		c, a := f()
		a.Chart, a.Version = c.Name, c.Version
		w.Charts = append(w.Charts, c)
		w.Addons = append(w.Addons, a)
	}
	w.Addons = append(w.Addons, w.metallbConfig())
	return w
}

// Namespaces are the namespaces the workload's objects live in.
func (w *Workload) Namespaces() []string {
	var out []string
	for _, n := range []string{"kube-system", "metallb-system", "cert-manager", "rook-ceph", "monitoring", "kube-state-metrics", "ingress-nginx"} {
		out = append(out, w.ns(n))
	}
	return out
}

func (w *Workload) ns(n string) string {
	if w.o.Prefix == "" {
		return n
	}
	return w.o.Prefix + "-" + n
}

func (w *Workload) name(n string) string { return w.ns(n) }

func (w *Workload) group(g string) string {
	if w.o.Prefix == "" {
		return g
	}
	return w.o.Prefix + "." + g
}

// Serve publishes the charts in a loopback HTTP chart repository and writes the config
// repo pointing at it into a temporary directory; it returns both.
func (w *Workload) Serve(t testing.TB) (*chartrepo.HTTPRepo, *config.Config) {
	t.Helper()
	repo := chartrepo.NewHTTP(t)
	for _, c := range w.Charts {
		repo.Add(t, c)
	}
	dir := t.TempDir()
	w.WriteConfig(t, dir, repo.URL())
	cfg, err := config.Load(os.DirFS(dir))
	if err != nil {
		t.Fatalf("workload config: %v", err)
	}
	return repo, cfg
}

// WriteConfig writes the config repo (addonsync.yaml, addons/, clusters/bench) into dir,
// with charts from the repository at repoURL.
func (w *Workload) WriteConfig(t testing.TB, dir, repoURL string) {
	t.Helper()
	write := func(p, content string) {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(config.RepositoryFile, fmt.Sprintf("apiVersion: %s\nkind: Repository\nmetadata:\n  name: bench\nspec:\n  inventoryNamespace: %s\n",
		config.APIVersion, w.ns("addonsync-system")))
	var names []string
	for _, a := range w.Addons {
		names = append(names, "  - name: "+a.Name)
		var b strings.Builder
		fmt.Fprintf(&b, "apiVersion: %s\nkind: Addon\nmetadata:\n  name: %s\nspec:\n  namespace: %s\n", config.APIVersion, a.Name, a.Namespace)
		if a.Chart != "" {
			fmt.Fprintf(&b, "  chart:\n    repository: %s\n    name: %s\n    version: %s\n", repoURL, a.Chart, a.Version)
		}
		if len(a.DependsOn) > 0 {
			fmt.Fprintf(&b, "  dependsOn: [%s]\n", strings.Join(a.DependsOn, ", "))
		}
		b.WriteString("  sync:\n    timeout: 5m\n")
		write(filepath.Join(config.AddonsDir, a.Name, config.AddonFile), b.String())
		if a.Values != "" {
			write(filepath.Join(config.AddonsDir, a.Name, config.ValuesFile), a.Values)
		}
		for p, content := range a.Kustomize {
			write(filepath.Join(config.AddonsDir, a.Name, config.KustomizeDir, p), content)
		}
	}
	write(filepath.Join(config.ClustersDir, Cluster, config.ClusterFile), fmt.Sprintf(
		"apiVersion: %s\nkind: Cluster\nmetadata:\n  name: %s\nspec:\n  kubernetesVersion: %q\n  addons:\n%s\n",
		config.APIVersion, Cluster, Minor, strings.Join(names, "\n")))
}
