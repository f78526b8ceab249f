package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/addonsync/addonsync/internal/output"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/git"
	"github.com/addonsync/addonsync/pkg/render"
)

type clustersOptions struct {
	g *GlobalOptions
	// Output is table, wide (add-on names and kubeconfig), json or yaml.
	Output output.Format
}

func newClustersCmd(g *GlobalOptions) *cobra.Command {
	o := &clustersOptions{g: g}
	cmd := &cobra.Command{
		Use:   "clusters",
		Short: "List the clusters, their Kubernetes minor, branch and add-ons",
		Long: `clusters lists every cluster of the config repo with its Kubernetes minor, the branch
it is rendered from (its release branch, or main when that branch does not exist yet)
and its add-ons, in the order sync applies them. With -o wide it renders every cluster
(charts from the cache or their repositories) to show the order the render infers: an
add-on using kinds whose CustomResourceDefinitions another add-on renders syncs after it,
shown as "app(after monitoring)".`,
		Example: `  addonsync clusters

  # add-on names, how each cluster is reached, and the add-ons that run as Helm
  # releases today (reads each cluster)
  addonsync clusters -o wide

  # as seen on a release branch
  addonsync clusters --ref release-1.34 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(cmd.Context()) },
	}
	output.AddFlag(cmd, &o.Output, output.Table, output.Wide, output.JSON, output.YAML)
	return cmd
}

// clusterRow is one cluster as clusters shows it.
type clusterRow struct {
	Name              string `json:"name"`
	KubernetesVersion string `json:"kubernetesVersion"`
	// Branch is the branch the cluster is rendered from.
	Branch string `json:"branch"`
	// ReleaseBranch is the cluster's release branch, whether or not it exists.
	ReleaseBranch       string   `json:"releaseBranch"`
	ReleaseBranchExists bool     `json:"releaseBranchExists"`
	Kubeconfig          string   `json:"kubeconfig"`
	Addons              []string `json:"addons"`
}

// Run lists the clusters; with -o wide also the add-ons that run as Helm releases today.
func (o *clustersOptions) Run(ctx context.Context) error {
	cfg, err := loadConfig(o.g)
	if err != nil {
		return err
	}
	rows, gitRepo, err := clusterRows(o.g.Dir, cfg)
	if err != nil {
		return err
	}
	if o.Output == output.Wide {
		o.inferOrder(ctx, cfg, rows)
	}
	if o.Output.Structured() {
		return output.WriteStructured(o.g.Out, o.Output, rows)
	}
	if err := printClusters(o.g.Out, rows, gitRepo, o.Output == output.Wide); err != nil || o.Output != output.Wide {
		return err
	}
	return printHelmReleases(o.g.Out, helmReleaseRows(ctx, o.g, cfg, rows))
}

// inferOrder replaces each row's add-ons by the order the render gives, marking the
// add-ons ordered by the CRDs they use; a cluster that does not render keeps its config
// order, with a warning on stderr.
func (o *clustersOptions) inferOrder(ctx context.Context, cfg *config.Config, rows []clusterRow) {
	ro := render.DefaultOptions()
	ro.Logger = o.g.Logger
	r := render.New(ro)
	for i := range rows {
		c, err := r.RenderCluster(ctx, cfg, rows[i].Name, render.RenderOptions{})
		if err != nil {
			fmt.Fprintf(o.g.ErrOut, "warning: cluster %q: add-on order without CRD dependencies, the cluster does not render: %s\n", rows[i].Name, ErrorMessage(err))
			continue
		}
		rows[i].Addons = rows[i].Addons[:0]
		for _, a := range c.Addons {
			name := a.Name
			if len(a.InferredDependsOn) > 0 {
				name += "(after " + strings.Join(a.InferredDependsOn, ",") + ")"
			}
			rows[i].Addons = append(rows[i].Addons, name)
		}
	}
}

// clusterRows describes every cluster; gitRepo is false when dir is not a git repository
// (every cluster is then rendered from the working tree).
func clusterRows(dir string, cfg *config.Config) (rows []clusterRow, gitRepo bool, err error) {
	gitRepo = true
	for _, name := range cfg.ClusterNames() {
		c := cfg.Clusters[name]
		addons, err := cfg.AddonsFor(name)
		if err != nil {
			return nil, false, err
		}
		row := clusterRow{
			Name:              name,
			KubernetesVersion: c.Spec.KubernetesVersion,
			ReleaseBranch:     config.ReleaseBranch(cfg.Repository, c.Spec.KubernetesVersion),
			Kubeconfig:        kubeconfigSummary(c.Spec.Kubeconfig),
			Addons:            make([]string, len(addons)),
		}
		for i, a := range addons {
			row.Addons[i] = a.Metadata.Name
		}
		row.Branch, row.ReleaseBranchExists, err = config.BranchForCluster(dir, cfg, name)
		if errors.Is(err, git.ErrNotRepository) {
			gitRepo, err = false, nil
		}
		if err != nil {
			return nil, false, err
		}
		rows = append(rows, row)
	}
	return rows, gitRepo, nil
}

// kubeconfigSummary says how a cluster is reached, without secrets: a file, a Secret's name
// or in-cluster.
func kubeconfigSummary(k config.KubeconfigRef) string {
	var s string
	switch {
	case k.InCluster:
		s = "in-cluster"
	case k.Secret != nil:
		s = fmt.Sprintf("secret %s/%s[%s]", k.Secret.Namespace, k.Secret.Name, k.Secret.Key)
	case k.Path != "":
		s = "file " + k.Path
	default:
		s = "default kubeconfig"
	}
	if k.Context != "" {
		s += " (context " + k.Context + ")"
	}
	return s
}

func printClusters(w io.Writer, rows []clusterRow, gitRepo, wide bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	header := "CLUSTER\tKUBERNETES\tBRANCH\tADD-ONS"
	if wide {
		header += "\tKUBECONFIG"
	}
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		branch := r.Branch
		switch {
		case !gitRepo:
			branch += " (not a git repository)"
		case !r.ReleaseBranchExists:
			branch += " (no " + r.ReleaseBranch + " branch)"
		}
		addons := fmt.Sprint(len(r.Addons))
		if wide {
			addons = strings.Join(r.Addons, ",")
		}
		line := r.Name + "\t" + r.KubernetesVersion + "\t" + branch + "\t" + addons
		if wide {
			line += "\t" + r.Kubeconfig
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}
