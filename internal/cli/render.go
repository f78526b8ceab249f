package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/addonsync/addonsync/internal/output"
	"github.com/addonsync/addonsync/pkg/render"
)

type renderOptions struct {
	g *GlobalOptions
	// Cluster is the cluster to render (empty with All).
	Cluster string
	// Addons renders only these add-ons.
	Addons []string
	// Output is the format of the stream on stdout: yaml (documents) or json (a v1 List).
	Output output.Format
	// OutputDir writes one file per object under this directory instead of the stream on stdout.
	OutputDir string
	// All renders every cluster.
	All bool
	// ShowSecrets prints Secret values instead of masking them.
	ShowSecrets bool
	// RequireLocked refuses charts addonsync.lock does not pin.
	RequireLocked bool
	// CacheDir overrides the chart cache directory.
	CacheDir string
}

func newRenderCmd(g *GlobalOptions) *cobra.Command {
	o := &renderOptions{g: g}
	cmd := &cobra.Command{
		Use:   "render (CLUSTER | --all)",
		Short: "Print the manifests addonsync would apply to a cluster",
		Long: `render prints the exact objects addonsync applies to a cluster: each add-on's Helm chart
rendered for the cluster's Kubernetes minor with the add-on's and the cluster's values,
then its kustomize overlays, in dependsOn order. The output is deterministic.

Secret values are masked unless --show-secrets is given. Charts are downloaded once into
the chart cache and checked against addonsync.lock.`,
		Example: `  # everything for prod, as one YAML stream
  addonsync render prod

  # only two add-ons
  addonsync render prod --addon cert-manager --addon ingress-nginx

  # one file per object: out/<addon>/<NN>-<kind>-<namespace>-<name>.yaml
  addonsync render prod --output-dir out

  # as a JSON List, e.g. for jq
  addonsync render prod -o json | jq '.items[].kind'

  # every cluster, each from its own release branch
  addonsync render --all --ref auto --output-dir out`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeClusters(g),
		RunE:              runWithArgs(o),
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.Addons, "addon", nil, "render only this add-on (repeatable)")
	output.AddFlag(cmd, &o.Output, output.YAML, output.JSON)
	f.StringVar(&o.OutputDir, "output-dir", "", "write one file per object under this directory (Secret files 0600)")
	f.BoolVar(&o.All, "all", false, "render every cluster")
	f.BoolVar(&o.ShowSecrets, "show-secrets", false, "print Secret values instead of masking them")
	f.BoolVar(&o.RequireLocked, "require-locked", false, "refuse charts that addonsync.lock does not pin")
	f.StringVar(&o.CacheDir, "cache-dir", "", "chart and render cache directory (default $XDG_CACHE_HOME/addonsync/charts)")
	return cmd
}

// Complete takes the cluster argument.
func (o *renderOptions) Complete(args []string) error {
	if len(args) == 1 {
		o.Cluster = args[0]
	}
	return nil
}

// Validate checks the arguments.
func (o *renderOptions) Validate() error {
	switch {
	case o.All && o.Cluster != "":
		return Usage(errors.New("give a cluster or --all, not both"))
	case !o.All && o.Cluster == "":
		return Usage(errors.New("which cluster? give its name, or --all"))
	case o.OutputDir != "" && o.Output != output.YAML:
		return Usage(errors.New("--output-dir writes YAML files: drop -o"))
	}
	return nil
}

// Run renders and writes the output.
func (o *renderOptions) Run(ctx context.Context) error {
	ro := render.DefaultOptions()
	ro.Logger = o.g.Logger
	ro.RequireLocked = o.RequireLocked
	if o.CacheDir != "" {
		ro.CacheDir = o.CacheDir
	}
	r := render.New(ro)
	clusters := []string{o.Cluster}
	if o.All {
		cfg, err := loadConfig(o.g)
		if err != nil {
			return err
		}
		clusters = cfg.ClusterNames()
	}
	for _, name := range clusters {
		c, err := o.renderOne(ctx, r, name)
		if err != nil {
			return err
		}
		if err := o.write(c); err != nil {
			return err
		}
	}
	return nil
}

func (o *renderOptions) renderOne(ctx context.Context, r *render.Renderer, cluster string) (*render.Cluster, error) {
	cfg, _, err := loadClusterConfig(o.g, cluster)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	c, err := r.RenderCluster(ctx, cfg, cluster, render.RenderOptions{Addons: o.Addons})
	if err != nil {
		return nil, err
	}
	printWarnings(o.g, c)
	if !o.ShowSecrets {
		render.MaskSecrets(c)
	}
	if renderToTerminal(o.g.ErrOut) {
		n := 0
		for _, a := range c.Addons {
			n += len(a.Objects) + len(a.Hooks)
		}
		fmt.Fprintf(o.g.ErrOut, "rendered %s (Kubernetes %s): %d add-ons, %d objects in %s\n",
			cluster, c.KubernetesVersion, len(c.Addons), n, time.Since(start).Round(time.Millisecond))
	}
	return c, nil
}

func (o *renderOptions) write(c *render.Cluster) error {
	if o.OutputDir == "" {
		if o.Output == output.JSON {
			return output.WriteStructured(o.g.Out, output.JSON, renderList(c))
		}
		if o.All {
			if _, err := fmt.Fprintf(o.g.Out, "# Cluster: %s\n", c.Name); err != nil {
				return err
			}
		}
		return render.WriteYAML(o.g.Out, c)
	}
	dir := o.OutputDir
	if o.All {
		dir = filepath.Join(dir, c.Name)
	}
	if err := render.WriteDir(dir, c); err != nil {
		return fmt.Errorf("cluster %q: write %s: %w", c.Name, dir, err)
	}
	return nil
}

// printWarnings writes what the render warned about on stderr, one line each.
func printWarnings(g *GlobalOptions, c *render.Cluster) {
	for _, w := range c.Warnings {
		fmt.Fprintf(g.ErrOut, "warning: %s\n", w)
	}
}

// renderToTerminal reports whether w is a terminal.
func renderToTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// renderList is a cluster's render as a v1 List, objects then hooks of each add-on in order,
// as kubectl get -o json prints several objects.
func renderList(c *render.Cluster) map[string]any {
	items := []any{}
	for _, a := range c.Addons {
		for _, obj := range a.Objects {
			items = append(items, obj.Object)
		}
		for _, h := range a.Hooks {
			items = append(items, h.Object.Object)
		}
	}
	return map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{}, "items": items}
}
