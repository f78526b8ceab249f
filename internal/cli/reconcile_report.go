package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/addonsync/addonsync/internal/output"
	"github.com/addonsync/addonsync/pkg/backport"
	"github.com/addonsync/addonsync/pkg/git"
	"github.com/addonsync/addonsync/pkg/reconcile"
	"github.com/addonsync/addonsync/pkg/sync"
	"github.com/addonsync/addonsync/pkg/upgrade"
)

// classify returns the report's error, a usage error (exit 2) when the config is at fault.
func (o *reconcileOptions) classify(rep *reconcile.Report) error {
	var ce *reconcile.ConfigError
	switch {
	case errors.Is(rep.Err, git.ErrNotRepository):
		return Usage(fmt.Errorf("%w: reconcile reads each cluster's own branch (--ref auto): run it on a git clone, "+
			"give --repo-url, or pass --ref '' to read the working tree", rep.Err))
	case errors.As(rep.Err, &ce):
		return Usage(rep.Error())
	}
	return rep.Error()
}

// progress prints a run's events to w, each cluster's lines prefixed with its name.
func (o *reconcileOptions) progress(w io.Writer) func(reconcile.Event) {
	printers := map[string]func(sync.Event){}
	return func(e reconcile.Event) {
		cw := &prefixWriter{w: w, prefix: e.Cluster + ": "}
		switch e.Type {
		case reconcile.EventFetch:
			if o.RepoURL != "" {
				fmt.Fprintf(w, "fetching %s\n", o.RepoURL)
			}
		case reconcile.EventRunStarted:
			fmt.Fprintf(w, "reconciling %d cluster(s)%s: %s\n", len(e.Clusters), o.shardNote(), strings.Join(e.Clusters, ", "))
		case reconcile.EventClusterRendering:
			printers[e.Cluster] = progressPrinter(cw, false)
			fmt.Fprintf(cw, "rendering from %s\n", describeRev(e.Branch, e.Revision))
		case reconcile.EventSync:
			if p := printers[e.Cluster]; p != nil {
				p(e.Sync)
			}
		case reconcile.EventClusterFinished:
			if r := e.Result; r.Err != nil {
				fmt.Fprintf(cw, "failed: %s\n", strings.TrimPrefix(r.Err.Error(), fmt.Sprintf("cluster %q: ", r.Cluster)))
			} else {
				fmt.Fprintf(cw, "synced: %s in %s\n", r.ChangeSet, r.Duration.Round(time.Millisecond))
			}
		case reconcile.EventWarning:
			fmt.Fprintf(w, "warning: %v\n", e.Err)
		case reconcile.EventStepStarted:
			fmt.Fprintf(w, "%s: checking %s\n", e.Step, redactURL(o.remote))
		case reconcile.EventStepFinished:
			for _, it := range e.StepReport.Items {
				if it.Err == nil {
					fmt.Fprintf(w, "%s: %s %s: %s\n", e.Step, it.Subject, it.Change, it.Action)
				}
			}
		}
	}
}

func (o *reconcileOptions) shardNote() string {
	if o.ShardCount <= 1 {
		return ""
	}
	return fmt.Sprintf(" (shard %d of %d)", o.ShardIndex, o.ShardCount)
}

func describeRev(branch, revision string) string {
	switch {
	case branch == "":
		return "the working tree"
	case revision == "":
		return branch
	default:
		return branch + " at " + shortRevision(revision)
	}
}

// upgradeResults are the upgrade step's results in rep.
func upgradeResults(rep *reconcile.Report) []upgrade.Result {
	var out []upgrade.Result
	for _, s := range rep.Steps {
		for _, it := range s.Items {
			if r, ok := it.Detail.(upgrade.Result); ok {
				out = append(out, r)
			}
		}
	}
	return out
}

// backportResults are the backport step's results in rep.
func backportResults(rep *reconcile.Report) []backport.Result {
	out := []backport.Result{}
	for _, s := range rep.Steps {
		for _, it := range s.Items {
			if r, ok := it.Detail.(backport.Result); ok {
				out = append(out, r)
			}
		}
	}
	return out
}

// reconcileJSON is the -o json document.
type reconcileJSON struct {
	Clusters  []clusterJSON `json:"clusters"`
	Upgrades  []prRow       `json:"upgrades"`
	Backports []backportRow `json:"backports"`
	Duration  string        `json:"duration"`
	Error     string        `json:"error,omitempty"`
}

type clusterJSON struct {
	Cluster  string         `json:"cluster"`
	Branch   string         `json:"branch"`
	Revision string         `json:"revision"`
	Status   string         `json:"status"`
	Summary  map[string]int `json:"summary"`
	Duration string         `json:"duration"`
	Error    string         `json:"error,omitempty"`
}

func (o *reconcileOptions) write(w io.Writer, rep *reconcile.Report) error {
	if o.Output.Structured() {
		return writeReconcileDoc(w, o.Output, rep)
	}
	return writeReconcileTable(w, rep)
}

func writeReconcileDoc(w io.Writer, f output.Format, rep *reconcile.Report) error {
	doc := reconcileJSON{Clusters: []clusterJSON{}, Upgrades: []prRow{}, Backports: backportRows(backportResults(rep)), Duration: rep.Duration.Round(time.Millisecond).String()}
	for _, c := range rep.Clusters {
		cj := clusterJSON{
			Cluster: c.Cluster, Branch: c.Branch, Revision: c.Revision, Status: c.Status.String(),
			Duration: c.Duration.Round(time.Millisecond).String(),
			Summary: map[string]int{
				"created": c.Counts.Created, "configured": c.Counts.Configured,
				"unchanged": c.Counts.Unchanged, "pruned": c.Counts.Pruned,
			},
		}
		if c.Err != nil {
			cj.Error = c.Err.Error()
		}
		doc.Clusters = append(doc.Clusters, cj)
	}
	for _, r := range upgradeResults(rep) {
		row := prRow{
			Addon: r.Addon, From: r.From, To: r.To, Branch: r.Branch, Action: r.Action.String(), Pushed: r.Pushed,
			Commit: r.Commit, PullRequest: r.PullRequest.Number, URL: r.PullRequest.URL,
		}
		if r.Err != nil {
			row.Error = explainPRError(r).Error()
		}
		doc.Upgrades = append(doc.Upgrades, row)
	}
	if err := rep.Error(); err != nil {
		doc.Error = err.Error()
	}
	return output.WriteStructured(w, f, doc)
}

func writeReconcileTable(w io.Writer, rep *reconcile.Report) error {
	if len(rep.Clusters) == 0 && len(rep.Steps) == 0 && rep.Err != nil {
		return nil // nothing ran: the error says why
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tBRANCH\tREVISION\tCREATED\tCONFIGURED\tUNCHANGED\tPRUNED\tDURATION\tSTATUS")
	counts := map[reconcile.Status]int{}
	for _, c := range rep.Clusters {
		counts[c.Status]++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", c.Cluster, dash(c.Branch), dash(shortRevision(c.Revision)),
			c.Counts.Created, c.Counts.Configured, c.Counts.Unchanged, c.Counts.Pruned,
			c.Duration.Round(time.Millisecond), c.Status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d clusters: %d synced, %d failed, %d locked\n", len(rep.Clusters),
		counts[reconcile.StatusSynced], counts[reconcile.StatusFailed], counts[reconcile.StatusLocked])
	for _, s := range rep.Steps {
		if len(s.Items) == 0 {
			continue
		}
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "\n%s\nSUBJECT\tCHANGE\tACTION\tLINK\n", strings.ToUpper(s.Step))
		for _, it := range s.Items {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Subject, it.Change, it.Action, dash(it.URL))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// prefixWriter prefixes every line written with prefix (progress lines of one cluster).
type prefixWriter struct {
	w      io.Writer
	prefix string
	mid    bool // inside a line
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	var sb strings.Builder
	for _, c := range string(b) {
		if !p.mid {
			sb.WriteString(p.prefix)
		}
		sb.WriteRune(c)
		p.mid = c != '\n'
	}
	if _, err := io.WriteString(p.w, sb.String()); err != nil {
		return 0, err
	}
	return len(b), nil
}
