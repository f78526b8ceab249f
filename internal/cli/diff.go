package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/addonsync/addonsync/internal/kube"
	"github.com/addonsync/addonsync/internal/output"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/reconcile"
	"github.com/addonsync/addonsync/pkg/render"
	"github.com/addonsync/addonsync/pkg/sync"
)

type diffOptions struct {
	g *GlobalOptions
	// Cluster is the cluster to diff.
	Cluster string
	// Addons limits the diff to these add-ons.
	Addons []string
	// Output is the -o flag: text, json, yaml or markdown.
	Output output.Format
	// CacheDir overrides the chart cache directory.
	CacheDir string
	// Concurrency bounds the dry-run requests in flight.
	Concurrency int
	// MaxPrune overrides the prune limits as sync --max-prune does.
	MaxPrune int
	// Prune includes prunes, as sync --prune does.
	Prune bool
	// PruneHelmLeftovers is sync's --prune-helm-leftovers.
	PruneHelmLeftovers bool
}

func newDiffCmd(g *GlobalOptions) *cobra.Command {
	o := &diffOptions{g: g, Concurrency: sync.DefaultDiffOptions().Concurrency, Prune: true}
	cmd := &cobra.Command{
		Use:   "diff CLUSTER",
		Short: "Show what a sync would change on a cluster",
		Long: `diff renders a cluster's add-ons and compares them with the live cluster through a
server-side dry-run apply (the same field manager and force as sync), so server
defaults never show as changes. It shows the plan sync executes: per add-on the
objects a sync would create (whole YAML), adopt (objects that exist but are not in the
add-on's inventory), change (unified diff of what changes), leave unchanged, and
prune, the Helm hooks that would run, and prunes the limits refuse.
Secret values are never shown: a key whose value stays reads (masked), the others
(masked, changed), (masked, added) or (masked, removed).

Exit status: 0 no changes, 1 changes, 2 usage or config error, 3 cluster error or
anything sync would fail on (a refused prune, an object in a namespace that does not
exist).`,
		Example: `  # what a sync of prod would do
  addonsync diff prod

  # one add-on, as JSON
  addonsync diff prod --addon cert-manager -o json

  # a pull request comment: summary table and collapsed diffs
  addonsync diff prod -o markdown > comment.md`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeClusters(g),
		RunE:              runWithArgs(o),
	}
	output.AddFlag(cmd, &o.Output, output.DiffFormats()...)
	f := cmd.Flags()
	addAddonsFlag(f, &o.Addons, "diff only this add-on (repeatable)")
	addCacheDirFlag(f, &o.CacheDir)
	f.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "dry-run requests in flight")
	f.IntVar(&o.MaxPrune, "max-prune", 0, "as for sync: allow up to N deletions per add-on (-1: any)")
	f.BoolVar(&o.Prune, "prune", o.Prune, "as for sync: include prunes")
	f.BoolVar(&o.PruneHelmLeftovers, "prune-helm-leftovers", false, "as for sync: show the objects of an adopted Helm release the render lacks as pruned")
	return cmd
}

// Complete takes the cluster argument.
func (o *diffOptions) Complete(args []string) error {
	o.Cluster = args[0]
	return nil
}

// Validate checks the flags.
func (o *diffOptions) Validate() error {
	if o.Concurrency < 1 {
		return Usage(fmt.Errorf("--concurrency %d: must be at least 1", o.Concurrency))
	}
	if o.MaxPrune < -1 {
		return Usage(fmt.Errorf("--max-prune %d: must be -1 (no limit), 0 (configured limits) or more", o.MaxPrune))
	}
	return nil
}

// Run renders the cluster, diffs it against the live cluster and writes the report; it
// returns ErrChanges when a sync would change anything.
func (o *diffOptions) Run(ctx context.Context) error {
	cfg, c, err := renderForCluster(ctx, o.g, o.Cluster, o.Addons, o.CacheDir)
	if err != nil {
		return err
	}
	m, err := newClusterManager(ctx, o.g, cfg, o.Cluster)
	if err != nil {
		return err
	}
	do := sync.DefaultDiffOptions()
	do.Addons = o.Addons
	do.Concurrency = o.Concurrency
	do.MaxPrune = o.MaxPrune
	do.NoPrune = !o.Prune
	do.PruneHelmLeftovers = o.PruneHelmLeftovers
	do.PruneLimits = cfg.Repository.Spec.Prune
	res, diffErr := m.Diff(ctx, c, do)
	if res != nil {
		ro := output.DiffOptions{Format: o.Output, Color: renderToTerminal(o.g.Out) && !o.g.NoColor}
		if err := output.WriteDiff(o.g.Out, res, ro); err != nil {
			return err
		}
	}
	switch {
	case diffErr != nil:
		return diffErr
	case res.HasChanges():
		return ErrChanges
	}
	return nil
}

// checkAddons refuses --addon names the cluster does not run.
func checkAddons(cfg *config.Config, cluster string, addons []string) error {
	var names []string
	for _, a := range cfg.Clusters[cluster].Spec.Addons {
		names = append(names, a.Name)
	}
	var errs []error
	for _, a := range addons {
		if !slices.Contains(names, a) {
			errs = append(errs, fmt.Errorf("add-on %q: cluster %q does not run it (it runs %v)", a, cluster, names))
		}
	}
	return Usage(errors.Join(errs...))
}

// clusterKubeconfig is how to reach a cluster: as its cluster.yaml says, unless --kubeconfig
// or --context override it.
func clusterKubeconfig(g *GlobalOptions, cfg *config.Config, cluster string) config.KubeconfigRef {
	ref := cfg.Clusters[cluster].Spec.Kubeconfig
	if g.Kubeconfig != "" {
		ref = config.KubeconfigRef{Path: g.Kubeconfig}
	}
	if g.Context != "" {
		ref.Context = g.Context
	}
	return ref
}

// newClusterManager connects to a cluster as its cluster.yaml says, with the repository's
// field manager and inventory namespace.
func newClusterManager(ctx context.Context, g *GlobalOptions, cfg *config.Config, cluster string) (*sync.Manager, error) {
	ko := kube.DefaultOptions()
	// API server warnings (deprecated fields, APIs) as plain lines, once each, not klog lines.
	ko.Warnings = rest.NewWarningWriter(g.ErrOut, rest.WarningWriterOptions{Deduplicate: true})
	rc, err := kube.RESTConfig(ctx, clusterKubeconfig(g, cfg, cluster), ko)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: %w", cluster, err)
	}
	mo := sync.DefaultManagerOptions()
	mo.Logger = g.Logger
	mo.Tooling = "addonsync/" + BuildVersion()
	if spec := cfg.Repository.Spec; spec.FieldManager != "" {
		mo.FieldManager = spec.FieldManager
	}
	if spec := cfg.Repository.Spec; spec.InventoryNamespace != "" {
		mo.InventoryNamespace = spec.InventoryNamespace
	}
	m, err := sync.NewManager(rc, mo)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: %w", cluster, err)
	}
	return m, nil
}

// clusterDiscovery lists what a cluster serves, once per run, for the render's API set.
func clusterDiscovery(g *GlobalOptions, cfg *config.Config, cluster string) render.DiscoveryFunc {
	return reconcile.Discovery(reconcile.KubeConnector{Kubeconfig: g.Kubeconfig, Context: g.Context}, cfg, cluster, g.Logger)
}

// renderForCluster loads the config a cluster renders from (its branch per --ref) and renders
// the cluster, or only the named add-ons of it.
func renderForCluster(ctx context.Context, g *GlobalOptions, cluster string, addons []string, cacheDir string) (*config.Config, *render.Cluster, error) {
	cfg, _, err := loadClusterConfig(g, cluster)
	if err != nil {
		return nil, nil, err
	}
	if err := checkAddons(cfg, cluster, addons); err != nil {
		return nil, nil, err
	}
	ro := render.DefaultOptions()
	ro.Logger = g.Logger
	if cacheDir != "" {
		ro.CacheDir = cacheDir
	}
	c, err := render.New(ro).RenderCluster(ctx, cfg, cluster, render.RenderOptions{Addons: addons, Discovery: clusterDiscovery(g, cfg, cluster)})
	if err != nil {
		return cfg, nil, err
	}
	printWarnings(g, c)
	return cfg, c, nil
}
