package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/addonsync/addonsync/internal/output"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/reconcile"
	"github.com/addonsync/addonsync/pkg/sync"
)

// syncOptions are the flags of addonsync sync.
type syncOptions struct {
	g *GlobalOptions
	// Cluster is the cluster to sync.
	Cluster string
	// Addons limits the sync to these add-ons (nothing is pruned as removed then).
	Addons []string
	// DryRun prints the plan (what diff shows) and writes nothing.
	DryRun bool
	// Prune deletes objects no longer rendered (--prune, default true).
	Prune bool
	// MaxPrune overrides the prune limits: N allows N deletions per add-on, -1 any number.
	MaxPrune int
	// PruneHelmLeftovers deletes objects of adopted Helm releases the render lacks.
	PruneHelmLeftovers bool
	// Wait waits for each add-on to be healthy before the next one.
	Wait bool
	// Timeout bounds the whole sync; 0 for none.
	Timeout time.Duration
	// Output is table, json or yaml.
	Output output.Format
	// CacheDir overrides the chart cache directory.
	CacheDir string
}

func newSyncCmd(g *GlobalOptions) *cobra.Command {
	o := &syncOptions{g: g, Prune: true, Wait: true, Timeout: 30 * time.Minute}
	cmd := &cobra.Command{
		Use:   "sync CLUSTER",
		Short: "Apply a cluster's add-ons and prune what they no longer render",
		Long: `sync renders every add-on of a cluster, then server-side applies them in dependsOn
order: per add-on CRDs and Namespaces first (waiting until the CRDs are Established),
cluster RBAC, the rest, admission webhooks last. Unchanged objects are not written,
and an unchanged add-on runs no Helm hook: install hooks run until an install
completed, upgrade hooks when what the add-on renders changed. sync executes the same
plan diff shows; objects that exist outside the inventory read "adopted".
When every add-on applied, objects the add-on's inventory lists and the render no
longer has are pruned, within the prune limits; add-ons removed from the cluster
config are pruned with their inventory. Progress goes to stderr, the summary to
stdout.

Exit status: 0 synced, 2 usage or config error, 3 cluster error or refused prune.
A sync (not --dry-run) holds the cluster's sync lease (Lease addonsync-sync in the
inventory namespace); while another addonsync holds it, sync fails at once (exit 3).`,
		Example: `  # sync prod
  addonsync sync prod

  # what a sync would do, without changing anything
  addonsync sync prod --dry-run

  # one add-on, allowing a large prune, as JSON
  addonsync sync prod --addon kube-prometheus-stack --max-prune 60 -o json`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeClusters(g),
		RunE:              runWithArgs(o),
	}
	output.AddFlag(cmd, &o.Output, output.Table, output.JSON, output.YAML)
	f := cmd.Flags()
	addAddonsFlag(f, &o.Addons, "sync only this add-on (repeatable); removed add-ons are not pruned then")
	f.BoolVar(&o.DryRun, "dry-run", false, "print what the sync would do (the plan diff shows); write nothing")
	f.BoolVar(&o.Prune, "prune", o.Prune, "prune objects no longer rendered")
	f.IntVar(&o.MaxPrune, "max-prune", 0, "allow up to N deletions per add-on (-1: any), overriding the prune limits")
	f.BoolVar(&o.PruneHelmLeftovers, "prune-helm-leftovers", false, "delete the objects of an adopted Helm release the render lacks (where the add-on's prune policy allows)")
	f.BoolVar(&o.Wait, "wait", o.Wait, "wait for each add-on to be healthy before the next")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "give up after this long (0: never)")
	addCacheDirFlag(f, &o.CacheDir)
	return cmd
}

// Complete takes the cluster argument.
func (o *syncOptions) Complete(args []string) error {
	o.Cluster = args[0]
	return nil
}

// Validate checks the flags.
func (o *syncOptions) Validate() error {
	if o.Timeout < 0 {
		return Usage(fmt.Errorf("--timeout %s: must not be negative", o.Timeout))
	}
	if o.MaxPrune < -1 {
		return Usage(fmt.Errorf("--max-prune %d: must be -1 (no limit), 0 (configured limits) or more", o.MaxPrune))
	}
	return nil
}

// Run renders the cluster (nothing is applied on a render error), syncs it and writes the summary.
func (o *syncOptions) Run(ctx context.Context) error {
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	cfg, c, err := renderForCluster(ctx, o.g, o.Cluster, o.Addons, o.CacheDir)
	if err != nil {
		return &reconcile.ClusterError{Cluster: o.Cluster, Stage: "nothing applied", Err: err} // names the cluster once
	}
	m, err := newClusterManager(ctx, o.g, cfg, o.Cluster)
	if err != nil {
		return err
	}
	if !o.DryRun { // two syncs of one cluster at once: the second fails naming the first
		var release func()
		if ctx, release, err = holdSyncLease(ctx, o.g, cfg, o.Cluster, 0); err != nil {
			return err
		}
		defer release()
	}
	so := sync.SyncOptions{
		DryRun:      o.DryRun,
		Prune:       o.Prune,
		MaxPrune:    o.MaxPrune,
		PruneLimits: cfg.Repository.Spec.Prune,
		Partial:     len(o.Addons) > 0,
		Wait:        o.Wait,
		Progress:    progressPrinter(o.g.ErrOut, o.DryRun),

		PruneHelmLeftovers: o.PruneHelmLeftovers,
		KeepHelmReleases:   cfg.Repository.Spec.HelmReleases.Retire == config.HelmRetireKeep,
	}
	res, syncErr := m.Sync(ctx, c, so)
	if res != nil {
		if err := o.write(res); err != nil {
			return errors.Join(syncErr, err)
		}
	}
	return syncErr
}

// progressPrinter writes one line per add-on as it starts and finishes, and one per pruned object.
func progressPrinter(w io.Writer, dryRun bool) func(sync.Event) {
	suffix := ""
	if dryRun {
		suffix = " (dry run)"
	}
	return func(e sync.Event) {
		switch e.Type {
		case sync.EventAddonStarted:
			fmt.Fprintf(w, "%s: syncing%s\n", e.Addon, suffix)
		case sync.EventAddonFinished:
			if e.Result.Err != nil {
				fmt.Fprintf(w, "%s: failed after %s: %v\n", e.Addon, e.Result.Duration.Round(time.Millisecond), e.Result.Err)
				return
			}
			if dryRun { // the plan: what each write would be, and why
				for _, en := range e.Result.ChangeSet.Entries {
					if en.Action != sync.ActionUnchanged {
						fmt.Fprintf(w, "%s: would be %s\n", e.Addon, en)
					}
				}
				fmt.Fprintf(w, "%s: %s\n", e.Addon, e.Result.ChangeSet)
				return
			}
			fmt.Fprintf(w, "%s: %s in %s\n", e.Addon, e.Result.ChangeSet, e.Result.Duration.Round(time.Millisecond))
		case sync.EventPrune:
			fmt.Fprintf(w, "%s: %s\n", e.Addon, e.Entry)
		case sync.EventHook:
			fmt.Fprintf(w, "%s: hook %s\n", e.Addon, e.Message)
		case sync.EventWaiting:
			fmt.Fprintf(w, "%s: waiting: %s\n", e.Addon, e.Message)
		}
	}
}

func (o *syncOptions) write(res *sync.Result) error {
	if o.Output.Structured() {
		return output.WriteStructured(o.g.Out, o.Output, newSyncDoc(res, o.DryRun))
	}
	return writeSyncTable(o.g.Out, res)
}

// writeSyncTable writes the per-add-on table and the summary line.
func writeSyncTable(w io.Writer, res *sync.Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADD-ON\tCREATED\tCONFIGURED\tUNCHANGED\tPRUNED\tDURATION\tSTATUS")
	for _, a := range res.Addons {
		s := a.ChangeSet.Summary()
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", a.Addon, s[sync.ActionCreated], s[sync.ActionConfigured],
			s[sync.ActionUnchanged], s[sync.ActionPruned], a.Duration.Round(time.Millisecond), addonStatus(a))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(w, res.ChangeSet()); err != nil {
		return err
	}
	for _, a := range res.Addons {
		if a.HelmRelease != "" {
			if _, err := fmt.Fprintf(w, "%s: %s\n", a.Addon, a.HelmRelease); err != nil {
				return err
			}
		}
	}
	return nil
}

func addonStatus(a sync.AddonResult) string {
	switch {
	case a.Err != nil:
		return "failed"
	case a.Removed:
		return "removed"
	default:
		return "synced"
	}
}

// syncDoc is the -o json and -o yaml document.
type syncDoc struct {
	Cluster string         `json:"cluster"`
	DryRun  bool           `json:"dryRun"`
	Summary map[string]int `json:"summary"`
	Addons  []syncAddonDoc `json:"addons"`
}

type syncAddonDoc struct {
	Addon    string                `json:"addon"`
	Status   string                `json:"status"`
	Error    string                `json:"error,omitempty"`
	Duration string                `json:"duration"`
	Summary  map[string]int        `json:"summary"`
	Entries  []sync.ChangeSetEntry `json:"entries"`
	// HelmRelease says what became of the add-on's adopted Helm release.
	HelmRelease string `json:"helmRelease,omitempty"`
	// HelmRetired is true when the sync retired it.
	HelmRetired bool `json:"helmRetired,omitempty"`
}

func summaryDoc(cs sync.ChangeSet) map[string]int {
	out := map[string]int{}
	for a, n := range cs.Summary() {
		out[a.String()] = n
	}
	return out
}

// newSyncDoc is the document of a sync's result.
func newSyncDoc(res *sync.Result, dryRun bool) syncDoc {
	doc := syncDoc{Cluster: res.Cluster, DryRun: dryRun, Summary: summaryDoc(res.ChangeSet()), Addons: []syncAddonDoc{}}
	for _, a := range res.Addons {
		aj := syncAddonDoc{
			Addon: a.Addon, Status: addonStatus(a), Duration: a.Duration.Round(time.Millisecond).String(),
			Summary: summaryDoc(a.ChangeSet), Entries: a.ChangeSet.Entries,
			HelmRelease: a.HelmRelease, HelmRetired: a.HelmRetired,
		}
		if a.Err != nil {
			aj.Error = a.Err.Error()
		}
		if aj.Entries == nil {
			aj.Entries = []sync.ChangeSetEntry{}
		}
		doc.Addons = append(doc.Addons, aj)
	}
	return doc
}
