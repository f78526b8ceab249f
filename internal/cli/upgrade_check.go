package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/addonsync/addonsync/internal/output"
	"github.com/addonsync/addonsync/internal/redact"
	"github.com/addonsync/addonsync/pkg/upgrade"
)

type upgradeCheckOptions struct {
	g *GlobalOptions
	// Output is table, json or yaml.
	Output output.Format
	// Addons limits the check to these add-ons.
	Addons []string
	// Now is the time schedules are checked against (tests set it).
	Now func() time.Time
}

func newUpgradeCheckCmd(g *GlobalOptions) *cobra.Command {
	o := &upgradeCheckOptions{g: g, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "List add-ons with a newer upstream chart version",
		Long: `check lists every add-on whose chart comes from a repository: the version in use, the
newest version its upgrade policy allows, the newest published, and for each release
branch whether the new chart's kubeVersion admits that branch's Kubernetes minor (✓/✗).
Release branches are read from the git repository (local and origin's branches).`,
		Example: `  addonsync upgrade check

  # one add-on, for scripts
  addonsync upgrade check --addon cert-manager -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(cmd.Context()) },
	}
	f := cmd.Flags()
	output.AddFlag(cmd, &o.Output, output.Table, output.JSON, output.YAML)
	f.StringArrayVar(&o.Addons, "addon", nil, "check only this add-on (repeatable)")
	return cmd
}

// Run discovers, plans and prints.
func (o *upgradeCheckOptions) Run(ctx context.Context) error {
	cfg, err := loadConfig(o.g)
	if err != nil {
		return err
	}
	current := upgrade.CurrentOf(cfg)
	for _, a := range o.Addons {
		if !slices.ContainsFunc(current, func(c upgrade.Current) bool { return c.Addon == a }) {
			return Usage(fmt.Errorf("add-on %q: not found, or its chart is not from a repository", a))
		}
	}
	if len(o.Addons) > 0 {
		current = slices.DeleteFunc(current, func(c upgrade.Current) bool { return !slices.Contains(o.Addons, c.Addon) })
	}
	branches, err := localReleaseBranches(o.g.Dir, cfg)
	if err != nil {
		return fmt.Errorf("%s: list release branches: %w", o.g.Dir, err)
	}
	d := upgrade.NewDiscoverer(upgrade.DiscoverOptions{Repositories: cfg.Repository.Spec.Repositories, Logger: o.g.Logger})
	avail, errs := d.DiscoverAll(ctx, current)
	bumps := upgrade.Plan(current, avail, branches, o.Now())
	for _, e := range errs {
		fmt.Fprintf(o.g.ErrOut, "warning: %s\n", ErrorMessage(e))
	}
	if err := o.print(bumps); err != nil {
		return err
	}
	return errors.Join(errs...)
}

func (o *upgradeCheckOptions) print(bumps []upgrade.Bump) error {
	for i := range bumps {
		bumps[i].Source = redact.URL(bumps[i].Source)
	}
	if o.Output.Structured() {
		if bumps == nil {
			bumps = []upgrade.Bump{}
		}
		return output.WriteStructured(o.g.Out, o.Output, map[string]any{"addons": bumps})
	}
	tw := tabwriter.NewWriter(o.g.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADD-ON\tCURRENT\tNEWEST ALLOWED\tNEWEST\tBRANCHES\tNOTE")
	for _, b := range bumps {
		allowed, note := "-", b.Reason
		switch b.Status {
		case upgrade.StatusUpgrade:
			allowed = b.To
			if !b.Due {
				note = "not due (schedule)"
			}
		case upgrade.StatusUpToDate:
			note = "up to date"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", b.Addon, b.From, allowed, dash(b.Newest), dash(branchMarks(b.Branches)), dash(note))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
