package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/addonsync/addonsync/internal/output"
	"github.com/addonsync/addonsync/pkg/backport"
)

func newBranchCmd(g *GlobalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "branch",
		Short: "Manage release branches (one per Kubernetes minor)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newBranchCutCmd(g))
	return cmd
}

func newBranchCutCmd(g *GlobalOptions) *cobra.Command {
	o := &remoteOptions{upgradePROptions: upgradePROptions{g: g, Timeout: 15 * time.Minute}, needToken: true}
	cmd := &cobra.Command{
		Use:   "cut <minor>",
		Short: "Start release-<minor> from main, after checking every add-on suits the minor",
		Long: `cut creates the release branch of a Kubernetes minor (release-1.NN) at main's head and
pushes it, after checking that every add-on's chart version admits the minor (its
kubeVersion) and that every cluster renders for the minor with no API the minor no longer
serves. It refuses, naming the add-on and chart, when one does not; and refuses a branch
that already exists.`,
		Example: `  # check only
  addonsync branch cut 1.35 --dry-run

  addonsync branch cut 1.35 --remote https://github.com/example-org/platform-addons.git \
    --github-token-file /var/run/secrets/github/token`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.complete(); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), o.Timeout)
			defer cancel()
			res, err := o.executor().Cut(ctx, strings.TrimPrefix(args[0], "v"))
			if err != nil {
				return gitAuthHint(o.Remote, fmt.Errorf("branch cut %s: %w", args[0], err))
			}
			if o.Output.Structured() {
				return output.WriteStructured(g.Out, o.Output, res)
			}
			verb := "created"
			if !res.Pushed {
				verb = "would create (dry run)"
			}
			fmt.Fprintf(g.Out, "%s %s at %.12s: %d chart(s) admit it, %d cluster(s) render for it\n", verb, res.Branch, res.Commit, len(res.Checked), len(res.Rendered))
			return nil
		},
	}
	o.flags(cmd, "check, push nothing")
	return cmd
}

func newBranchesCmd(g *GlobalOptions) *cobra.Command {
	o := &remoteOptions{upgradePROptions: upgradePROptions{g: g, Timeout: 10 * time.Minute}}
	cmd := &cobra.Command{
		Use:   "branches",
		Short: "List the release branches, their clusters and the backports they lack",
		Long: `branches reads the config repo's remote and lists every release branch with the clusters
that render from it (those of its Kubernetes minor) and the changes of main it should get
but does not have yet (what "addonsync backport" would carry). It writes nothing.`,
		Example: `  addonsync branches
  addonsync branches -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.complete(); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), o.Timeout)
			defer cancel()
			sts, err := o.executor().Status(ctx)
			if sts == nil && err != nil {
				return gitAuthHint(o.Remote, err)
			}
			if werr := writeBranches(g.Out, o.Output, sts); werr != nil {
				return werr
			}
			return err
		},
	}
	o.flags(cmd, "")
	return cmd
}

func writeBranches(w io.Writer, f output.Format, sts []backport.BranchStatus) error {
	if f.Structured() {
		return output.WriteStructured(w, f, map[string]any{"branches": sts})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BRANCH\tKUBERNETES\tCLUSTERS\tLACKS")
	for _, s := range sts {
		clusters := strings.Join(s.Clusters, ",")
		if clusters == "" {
			clusters = "-"
		}
		lacks := []string{}
		for _, it := range s.Lacks {
			lacks = append(lacks, fmt.Sprintf("%s %s", it.Change.Commit.Short(), it.Change.Commit.Subject()))
		}
		if len(lacks) == 0 {
			lacks = []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Branch, s.KubernetesVersion, clusters, lacks[0])
		for _, l := range lacks[1:] {
			fmt.Fprintf(tw, "\t\t\t%s\n", l)
		}
	}
	return tw.Flush()
}
