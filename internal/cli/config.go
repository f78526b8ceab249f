package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/addonsync/addonsync/pkg/config"
)

// RefAuto as --ref reads each cluster's config from its own branch (release-<minor>, or main
// when there is none).
const RefAuto = config.RefAuto

// loadConfig loads the config repo g.Dir: its working tree, or the git ref g.Ref without a
// checkout. With --ref auto it reads the main branch (see loadClusterConfig for one cluster).
// Config problems are usage errors (exit 2).
func loadConfig(g *GlobalOptions) (*config.Config, error) {
	cfg, err := openConfig(g)
	return cfg, Usage(err)
}

func openConfig(g *GlobalOptions) (*config.Config, error) {
	return config.Open(g.Dir, g.Ref)
}

// loadClusterConfig loads the config a cluster is rendered from, and names the branch it was
// read from ("" for the working tree):
//   - no --ref: the working tree, with a warning on stderr when the checked-out branch is not
//     the cluster's branch;
//   - --ref auto: the cluster's branch (release-<minor>, or main when there is none);
//   - --ref REF: that ref.
func loadClusterConfig(g *GlobalOptions, cluster string) (*config.Config, string, error) {
	cfg, branch, err := config.OpenCluster(g.Dir, g.Ref, cluster)
	if err != nil {
		return nil, "", Usage(err)
	}
	if g.Ref == "" {
		warnBranch(g, cfg, cluster)
	}
	return cfg, branch, nil
}

// warnBranch warns when the working tree is not on the branch cluster renders from.
func warnBranch(g *GlobalOptions, cfg *config.Config, cluster string) {
	branch, _, err := config.BranchForCluster(g.Dir, cfg, cluster)
	if err != nil {
		return // not a git repository: nothing to choose from or warn about
	}
	current, err := config.CurrentBranch(g.Dir)
	if err != nil || current == branch {
		return
	}
	if current == "" {
		current = "a detached HEAD"
	}
	fmt.Fprintf(g.ErrOut, "warning: cluster %q (Kubernetes %s) is rendered from branch %s, but the working tree is on %s; "+
		"check out %s or pass --ref auto\n", cluster, cfg.Clusters[cluster].Spec.KubernetesVersion, branch, current, branch)
}

// completeClusters completes cluster names for commands that take one.
func completeClusters(g *GlobalOptions) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cfg, err := openConfig(g)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return cfg.ClusterNames(), cobra.ShellCompDirectiveNoFileComp
	}
}
