package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/git"
)

// RefAuto as --ref reads each cluster's config from its own branch (release-<minor>, or main
// when there is none).
const RefAuto = "auto"

// loadConfig loads the config repo g.Dir: its working tree, or the git ref g.Ref without a
// checkout. With --ref auto it reads the main branch (see loadClusterConfig for one cluster).
// Config problems are usage errors (exit 2).
func loadConfig(g *GlobalOptions) (*config.Config, error) {
	cfg, err := openConfig(g)
	return cfg, Usage(err)
}

func openConfig(g *GlobalOptions) (*config.Config, error) {
	switch g.Ref {
	case "":
		return config.OpenWorktree(g.Dir)
	case RefAuto:
		head, err := config.OpenRef(g.Dir, "HEAD")
		if err != nil {
			return nil, err
		}
		cfg, err := config.OpenRef(g.Dir, head.MainBranch())
		if err != nil {
			return head, nil //nolint:nilerr // no main branch in a detached clone: HEAD is the best guess
		}
		return cfg, nil
	default:
		return config.OpenRef(g.Dir, g.Ref)
	}
}

// loadClusterConfig loads the config a cluster is rendered from, and names the branch it was
// read from ("" for the working tree):
//   - no --ref: the working tree, with a warning on stderr when the checked-out branch is not
//     the cluster's branch;
//   - --ref auto: the cluster's branch (release-<minor>, or main when there is none);
//   - --ref REF: that ref.
func loadClusterConfig(g *GlobalOptions, cluster string) (*config.Config, string, error) {
	cfg, err := loadConfig(g)
	if err != nil {
		return nil, "", err
	}
	if cfg.Clusters[cluster] == nil {
		return nil, "", Usage(fmt.Errorf("cluster %q does not exist in %s (clusters: %v)", cluster, g.Dir, cfg.ClusterNames()))
	}
	branch, _, err := config.BranchForCluster(g.Dir, cfg, cluster)
	if errors.Is(err, git.ErrNotRepository) {
		return cfg, g.Ref, nil // not a git repository: nothing to choose from or warn about
	}
	if err != nil {
		return nil, "", err
	}
	switch g.Ref {
	case "":
		warnBranch(g, cfg, cluster, branch)
		return cfg, "", nil
	case RefAuto:
		cfg, err := config.OpenRef(g.Dir, branch)
		if err != nil {
			return nil, "", Usage(err)
		}
		if cfg.Clusters[cluster] == nil {
			return nil, "", Usage(fmt.Errorf("cluster %q: not defined on its branch %s", cluster, branch))
		}
		return cfg, branch, nil
	default:
		return cfg, g.Ref, nil
	}
}

// warnBranch warns on stderr when the working tree is on another branch than the cluster's.
func warnBranch(g *GlobalOptions, cfg *config.Config, cluster, branch string) {
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
