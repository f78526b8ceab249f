package cli

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/git"
	"github.com/addonsync/addonsync/pkg/upgrade"
)

func newUpgradeCmd(g *GlobalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "upgrade",
		Short: "Find newer chart versions and propose them as pull requests",
		Long: `upgrade finds newer upstream versions of every add-on's chart within its upgrade policy
(spec.upgrade: constraint, preRelease, schedule) and says which release branches the new
chart's kubeVersion admits. "upgrade check" reports; "upgrade pr" opens one pull request per
add-on against main and keeps it up to date.`,
		Example: `  addonsync upgrade check
  addonsync upgrade pr --github-token-file /var/run/secrets/github/token`,
		Args: unknownCommand,
		RunE: helpWhenNoArgs,
	}
	cmd.AddCommand(newUpgradeCheckCmd(g), newUpgradePRCmd(g))
	return cmd
}

// localReleaseBranches lists the release branches of the git repository at dir: local
// branches and origin's remote-tracking branches. A directory that is not a git repository
// has none.
func localReleaseBranches(dir string, cfg *config.Config) ([]upgrade.Branch, error) {
	repo, err := git.Open(dir)
	if errors.Is(err, git.ErrNotRepository) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names, err := repo.Branches()
	return upgrade.ReleaseBranches(names, cfg.Repository.Spec.Branches.ReleasePrefix), err
}

// branchMarks formats branch fits as "release-1.33 ✗ release-1.34 ✓".
func branchMarks(fits []upgrade.BranchFit) string {
	parts := make([]string, len(fits))
	for i, f := range fits {
		mark := "✗"
		if f.Compatible {
			mark = "✓"
		}
		parts[i] = f.Branch + " " + mark
	}
	return strings.Join(parts, " ")
}
