// Package cli implements the addonsync command line.
package cli

import (
	"context"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/addonsync/addonsync/internal/redact"
)

// Streams are the standard streams a command writes to.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// GlobalOptions are the flags every command shares.
type GlobalOptions struct {
	Streams
	// Dir is the config repo directory (--repo, default ".").
	Dir string
	// Ref reads the config from a git ref instead of the working tree (--ref).
	Ref string
	// Kubeconfig, when set, is used instead of the kubeconfig cluster.yaml names (--kubeconfig).
	Kubeconfig string
	// Context, when set, selects this kubeconfig context (--context).
	Context string
	// Verbose turns on debug logging to stderr.
	Verbose bool
	// NoColor disables colour even on a terminal.
	NoColor bool
	// Logger is built in PersistentPreRun from Verbose.
	Logger *slog.Logger
}

// NewRootCmd returns the addonsync command with every subcommand added.
func NewRootCmd(s Streams) *cobra.Command {
	g := &GlobalOptions{Streams: s, Dir: ".", Logger: slog.New(slog.DiscardHandler)}
	root := &cobra.Command{
		Use:   "addonsync",
		Short: "GitOps reconciler for Kubernetes cluster add-ons",
		Long: `addonsync renders the cluster add-ons described in a config repo (Helm charts,
values and kustomize overlays per cluster), diffs them against the live clusters,
server-side applies them, prunes what is no longer rendered, and opens pull
requests when upstream charts release new versions.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          unknownCommand,
		RunE:          helpWhenNoArgs,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			if g.Verbose {
				g.Logger = slog.New(slog.NewTextHandler(g.ErrOut, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: redact.ReplaceAttr}))
			}
		},
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	pf := root.PersistentFlags()
	pf.StringVarP(&g.Dir, "repo", "C", g.Dir, "config repo directory")
	pf.StringVar(&g.Ref, "ref", "", `read the config from this git branch, tag or commit instead of the working tree ("auto": each cluster's own branch)`)
	pf.StringVar(&g.Kubeconfig, "kubeconfig", "", "reach clusters with this kubeconfig file instead of the one cluster.yaml names (e.g. from a CI runner)")
	pf.StringVar(&g.Context, "context", "", "kubeconfig context to use instead of the one cluster.yaml names")
	pf.BoolVarP(&g.Verbose, "verbose", "v", false, "debug logging to stderr")
	pf.BoolVar(&g.NoColor, "no-color", false, "never colour the output")

	// Every command is added here, explicitly.
	root.AddCommand(
		newVersionCmd(g),
		newValidateCmd(g),
		newClustersCmd(g),
		newRenderCmd(g),
		newLockCmd(g),
		newDiffCmd(g),
		newSyncCmd(g),
		newUpgradeCmd(g),
		newBackportCmd(g),
		newBranchCmd(g),
		newBranchesCmd(g),
		newReconcileCmd(g),
		newRunCmd(g),
	)
	markUsageErrors(root)
	return root
}

// argsCommand is the shape of a command taking positional arguments: Complete fills the
// options from them, Validate checks the flags, Run does the work.
type argsCommand interface {
	Complete(args []string) error
	Validate() error
	Run(ctx context.Context) error
}

// runWithArgs is the RunE of an argsCommand.
func runWithArgs(o argsCommand) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := o.Complete(args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		return o.Run(cmd.Context())
	}
}
