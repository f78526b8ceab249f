package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/addonsync/addonsync/internal/kube"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/lease"
	"github.com/addonsync/addonsync/pkg/reconcile"
	"github.com/addonsync/addonsync/pkg/render"
	"github.com/addonsync/addonsync/pkg/sync"
	"github.com/addonsync/addonsync/pkg/upgrade"
)

// reconcileOptions are the flags of addonsync reconcile (and of run, which repeats it).
type reconcileOptions struct {
	g *GlobalOptions
	// RepoURL is the config repo's HTTPS URL to mirror into WorkDir; empty reads --repo.
	RepoURL string
	// TokenFile holds the GitHub token (default: $GITHUB_TOKEN).
	TokenFile string
	// WorkDir keeps the config repo mirror and the upgrade clone between runs.
	WorkDir string
	// ShardIndex and ShardCount pick this process's share of the clusters.
	ShardIndex, ShardCount int
	// Clusters limits the run to these clusters (before sharding).
	Clusters []string
	// NoUpgrade skips the upgrade pull requests.
	NoUpgrade bool
	// Prune deletes objects no longer rendered.
	Prune bool
	// Wait waits for each add-on to be healthy before the next one.
	Wait bool
	// ClusterTimeout bounds each cluster's sync; 0 for none.
	ClusterTimeout time.Duration
	// LeaseDuration is how long a cluster's sync lease lasts without renewal.
	LeaseDuration time.Duration
	// Output is table or json.
	Output string
	// CacheDir overrides the chart cache directory.
	CacheDir string
	// RequireLocked refuses charts addonsync.lock does not pin (default true).
	RequireLocked bool

	token  string
	remote string // the upgrade pull requests' remote ("" when NoUpgrade or not shard 0)
}

func newReconcileOptions(g *GlobalOptions) *reconcileOptions {
	return &reconcileOptions{
		g: g, ShardCount: 1, Prune: true, Wait: true, ClusterTimeout: 30 * time.Minute,
		LeaseDuration: lease.DefaultOptions().Duration, Output: "table",
	}
}

func newReconcileCmd(g *GlobalOptions) *cobra.Command {
	o := newReconcileOptions(g)
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Sync every cluster from its own branch, then open upgrade pull requests",
		Long: `reconcile is what the CronJob runs. It mirrors the config repo (--repo-url, into
--work-dir) or reads --repo, then for every cluster of this shard (clusters sorted by
name; cluster i belongs to shard i % --shard-count) renders the cluster from its own
branch (release-<minor>, or main; --ref auto is the default here) and syncs it while
holding the cluster's sync lease. A cluster that fails, or whose lease another addonsync
holds, is reported and the others go on. Shard 0 then opens or updates the upgrade pull
requests (as "upgrade pr" does) unless --no-upgrade.

Progress goes to stderr; a summary table (or -o json) to stdout.
Exit status: 0 every cluster synced, 2 usage or config error, 3 a cluster or the
upgrade step failed.`,
		Example: `  # the CronJob: one shard of three, mirroring the config repo
  addonsync reconcile --repo-url https://github.com/example-org/platform-addons.git \
    --github-token-file /var/run/secrets/github/token --work-dir /work \
    --shard-index 0 --shard-count 3

  # every cluster from a local clone, no pull requests, as JSON
  addonsync reconcile -C ~/platform-addons --no-upgrade -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Complete(cmd); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

func (o *reconcileOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.RepoURL, "repo-url", "", "config repo HTTPS URL to mirror into --work-dir (default: read --repo)")
	f.StringVar(&o.TokenFile, "github-token-file", "", "file holding the GitHub token (default: $GITHUB_TOKEN)")
	f.StringVar(&o.WorkDir, "work-dir", "", "directory for the config repo mirror and upgrade clone (default: in the user cache)")
	f.IntVar(&o.ShardIndex, "shard-index", 0, "this process's shard, 0 to --shard-count - 1 (an Indexed Job's $JOB_COMPLETION_INDEX)")
	f.IntVar(&o.ShardCount, "shard-count", o.ShardCount, "number of shards the clusters are split into")
	f.StringArrayVar(&o.Clusters, "cluster", nil, "only this cluster (repeatable; sharding applies to the rest)")
	f.BoolVar(&o.NoUpgrade, "no-upgrade", false, "do not open or update upgrade pull requests")
	f.BoolVar(&o.Prune, "prune", o.Prune, "prune objects no longer rendered")
	f.BoolVar(&o.Wait, "wait", o.Wait, "wait for each add-on to be healthy before the next")
	f.DurationVar(&o.ClusterTimeout, "cluster-timeout", o.ClusterTimeout, "give up on a cluster after this long (0: never)")
	f.DurationVar(&o.LeaseDuration, "lease-duration", o.LeaseDuration, "sync lease duration; renewed every third of it while a cluster syncs")
	f.StringVarP(&o.Output, "output", "o", o.Output, "output format: table or json")
	f.StringVar(&o.CacheDir, "cache-dir", "", "chart and render cache directory (default $XDG_CACHE_HOME/addonsync/charts)")
	f.BoolVar(&o.RequireLocked, "require-locked", true, "refuse charts addonsync.lock does not pin (run addonsync lock and commit the lock)")
}

// Complete reads the token, defaults --ref to auto and --work-dir, and finds the upgrade remote.
func (o *reconcileOptions) Complete(cmd *cobra.Command) error {
	if !cmd.Flags().Changed("ref") {
		o.g.Ref = RefAuto
	}
	token, err := readGitHubToken(o.TokenFile)
	if err != nil {
		return err
	}
	o.token = token
	if o.WorkDir == "" && o.RepoURL != "" {
		o.WorkDir = defaultWorkDir("reconcile", o.RepoURL)
	}
	if o.RepoURL != "" {
		o.g.Dir = filepath.Join(o.WorkDir, "config")
	}
	if !o.NoUpgrade && o.ShardIndex == 0 {
		o.remote = o.upgradeRemote()
	}
	return nil
}

// upgradeRemote is --repo-url, $ADDONSYNC_REMOTE, or the origin of --repo.
func (o *reconcileOptions) upgradeRemote() string {
	if o.RepoURL != "" {
		return o.RepoURL
	}
	if r := os.Getenv(envRemote); r != "" {
		return r
	}
	if repo, err := git.PlainOpenWithOptions(o.g.Dir, &git.PlainOpenOptions{DetectDotGit: true}); err == nil {
		if r, err := repo.Remote("origin"); err == nil && len(r.Config().URLs) > 0 {
			return r.Config().URLs[0]
		}
	}
	return ""
}

// Validate checks the flags.
func (o *reconcileOptions) Validate() error {
	if o.Output != "table" && o.Output != "json" {
		return Usage(fmt.Errorf("--output %q: must be table or json", o.Output))
	}
	if err := reconcile.ValidateShard(o.ShardIndex, o.ShardCount); err != nil {
		return Usage(fmt.Errorf("--shard-index/--shard-count: %w", err))
	}
	if o.ClusterTimeout < 0 {
		return Usage(fmt.Errorf("--cluster-timeout %s: must not be negative", o.ClusterTimeout))
	}
	if o.LeaseDuration < 3*time.Second {
		return Usage(fmt.Errorf("--lease-duration %s: must be at least 3s", o.LeaseDuration))
	}
	if o.RepoURL != "" {
		if err := checkHTTPSRemote("--repo-url", o.RepoURL); err != nil {
			return err
		}
	}
	if o.NoUpgrade || o.ShardIndex != 0 {
		return nil
	}
	if o.remote == "" {
		return Usage(errors.New("upgrade pull requests need the config repo's remote: give --repo-url, set $ADDONSYNC_REMOTE, " +
			"or run in a clone with an origin; or pass --no-upgrade"))
	}
	if err := checkHTTPSRemote("remote "+redactURL(o.remote), o.remote); err != nil {
		return err
	}
	if o.token == "" {
		return Usage(errors.New("upgrade pull requests need a GitHub token: give --github-token-file or set $GITHUB_TOKEN; or pass --no-upgrade"))
	}
	return nil
}

func checkHTTPSRemote(what, remote string) error {
	u, err := url.Parse(remote)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return Usage(fmt.Errorf("%s: %s is not an HTTPS URL (SSH remotes are not supported; use the https:// clone URL)", what, redactURL(remote)))
	}
	if u.User != nil {
		return Usage(fmt.Errorf("%s: the URL holds credentials; remove them and give the token with --github-token-file", what))
	}
	return nil
}

// Run reconciles once, prints the summary and fails (exit 3) when any cluster failed.
func (o *reconcileOptions) Run(ctx context.Context) error {
	rep, upgrades := o.reconcile(ctx)
	if err := o.write(o.g.Out, rep, upgrades); err != nil {
		return errors.Join(rep.Error(), err)
	}
	return rep.Error()
}

// reconcile runs one reconcile: mirror, every cluster of the shard, upgrade pull requests.
func (o *reconcileOptions) reconcile(ctx context.Context) (*reconcile.Report, []upgrade.Result) {
	rep := &reconcile.Report{Start: time.Now()}
	defer func() { rep.Duration = time.Since(rep.Start) }()
	clusters, err := o.prepare(ctx)
	if err != nil {
		rep.Err = err
		return rep, nil
	}
	fmt.Fprintf(o.g.ErrOut, "reconciling %d cluster(s)%s: %s\n", len(clusters), o.shardNote(), strings.Join(clusters, ", "))
	for _, name := range clusters {
		if ctx.Err() != nil {
			rep.Err = fmt.Errorf("reconcile stopped before cluster %q: %w", name, context.Cause(ctx))
			break
		}
		rep.Clusters = append(rep.Clusters, o.syncCluster(ctx, name))
	}
	if o.remote == "" || ctx.Err() != nil {
		return rep, nil
	}
	upgrades, err := o.upgrade(ctx)
	rep.Err = errors.Join(rep.Err, err)
	return rep, upgrades
}

func (o *reconcileOptions) shardNote() string {
	if o.ShardCount <= 1 {
		return ""
	}
	return fmt.Sprintf(" (shard %d of %d)", o.ShardIndex, o.ShardCount)
}

// prepare mirrors the repo when --repo-url is set and returns the clusters of this shard.
func (o *reconcileOptions) prepare(ctx context.Context) ([]string, error) {
	if o.RepoURL != "" {
		fmt.Fprintf(o.g.ErrOut, "fetching %s\n", o.RepoURL)
		if _, err := reconcile.Mirror(ctx, reconcile.MirrorOptions{URL: o.RepoURL, Token: o.token, Dir: o.g.Dir}); err != nil {
			if errors.Is(err, reconcile.ErrGitAuth) {
				return nil, fmt.Errorf("%s: git token rejected: check --github-token-file (the token needs contents read access): %w", o.RepoURL, err)
			}
			return nil, err
		}
	}
	cfg, err := loadConfig(o.g)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, Usage(fmt.Errorf("%w: reconcile reads each cluster's own branch (--ref auto): run it on a git clone, "+
			"give --repo-url, or pass --ref '' to read the working tree", err))
	}
	if err != nil {
		return nil, err
	}
	names := cfg.ClusterNames()
	for _, c := range o.Clusters {
		if !slices.Contains(names, c) {
			return nil, Usage(fmt.Errorf("--cluster %q: no such cluster (clusters: %v)", c, names))
		}
	}
	if len(o.Clusters) > 0 {
		names = slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(o.Clusters, n) })
	}
	return reconcile.Shard(names, o.ShardIndex, o.ShardCount), nil
}

// syncCluster renders and syncs one cluster from its own branch under its sync lease.
func (o *reconcileOptions) syncCluster(ctx context.Context, name string) reconcile.ClusterResult {
	res := reconcile.ClusterResult{Cluster: name, Status: reconcile.StatusFailed}
	start := time.Now()
	defer func() { res.Duration = time.Since(start) }()
	if o.ClusterTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.ClusterTimeout)
		defer cancel()
	}
	w := &prefixWriter{w: o.g.ErrOut, prefix: name + ": "}
	fail := func(err error) reconcile.ClusterResult {
		res.Err = err
		fmt.Fprintf(w, "failed: %v\n", err)
		return res
	}
	cfg, branch, err := loadClusterConfig(o.g, name)
	if err != nil {
		return fail(fmt.Errorf("cluster %q: %w", name, err))
	}
	res.Branch, res.Revision = branch, cfg.Revision
	fmt.Fprintf(w, "rendering from %s\n", describeRev(branch, cfg.Revision))
	ro := render.DefaultOptions()
	ro.Logger = o.g.Logger
	ro.RequireLocked = o.RequireLocked
	if o.CacheDir != "" {
		ro.CacheDir = o.CacheDir
	}
	c, err := render.New(ro).RenderCluster(ctx, cfg, name, render.RenderOptions{Discovery: clusterDiscovery(o.g, cfg, name)})
	if err != nil {
		return fail(fmt.Errorf("cluster %q: nothing applied: %w", name, err))
	}
	m, err := newClusterManager(ctx, o.g, cfg, name)
	if err != nil {
		return fail(err)
	}
	ctx, release, err := holdSyncLease(ctx, o.g, cfg, name, o.LeaseDuration)
	var he *lease.HeldError
	if errors.As(err, &he) {
		res.Status = reconcile.StatusLocked
	}
	if err != nil {
		return fail(err)
	}
	defer release()
	so := sync.SyncOptions{
		Prune: o.Prune, PruneLimits: cfg.Repository.Spec.Prune, Wait: o.Wait,
		Progress: progressPrinter(w, false),
	}
	sres, err := m.Sync(ctx, c, so)
	if sres != nil {
		s := sres.ChangeSet().Summary()
		res.Counts = reconcile.Counts{
			// An adopted object was written as a configured one is: it existed before.
			Created: s[sync.ActionCreated], Configured: s[sync.ActionConfigured] + s[sync.ActionAdopted],
			Unchanged: s[sync.ActionUnchanged], Pruned: s[sync.ActionPruned],
		}
	}
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, lease.ErrLost) {
			err = errors.Join(err, cause)
		}
		return fail(fmt.Errorf("cluster %q: %w", name, err))
	}
	res.Status = reconcile.StatusSynced
	fmt.Fprintf(w, "synced: %s in %s\n", sres.ChangeSet(), time.Since(start).Round(time.Millisecond))
	return res
}

func describeRev(branch, revision string) string {
	switch {
	case branch == "":
		return "the working tree"
	case revision == "":
		return branch
	default:
		return branch + " at " + shortRev(revision)
	}
}

func shortRev(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// holdSyncLease takes the cluster's sync lease (in the inventory namespace) and returns a
// context cancelled when the lease is lost, and a func releasing it. A lease another
// addonsync holds is an error naming the holder and when the lease expires (exit 3).
func holdSyncLease(ctx context.Context, g *GlobalOptions, cfg *config.Config, cluster string, d time.Duration) (context.Context, func(), error) {
	ko := kube.DefaultOptions()
	ko.Warnings = rest.NoWarnings{}
	rc, err := kube.RESTConfig(ctx, clusterKubeconfig(g, cfg, cluster), ko)
	if err != nil {
		return ctx, nil, fmt.Errorf("cluster %q: %w", cluster, err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return ctx, nil, fmt.Errorf("cluster %q: %w", cluster, err)
	}
	lo := lease.DefaultOptions()
	lo.Namespace = sync.DefaultInventoryNamespace
	if ns := cfg.Repository.Spec.InventoryNamespace; ns != "" {
		lo.Namespace = ns
	}
	if d > 0 {
		lo.Duration = d
	}
	lo.Logger = g.Logger
	held, err := lease.New(cs, lo).Acquire(ctx)
	if err != nil {
		return ctx, nil, fmt.Errorf("cluster %q: %w", cluster, err)
	}
	lctx, cancel := held.Context(ctx)
	return lctx, func() {
		cancel()
		rctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer stop()
		if err := held.Release(rctx); err != nil {
			fmt.Fprintf(g.ErrOut, "warning: cluster %q: %v\n", cluster, err)
		}
	}, nil
}

// upgrade opens or updates the upgrade pull requests, as "upgrade pr" does.
func (o *reconcileOptions) upgrade(ctx context.Context) ([]upgrade.Result, error) {
	fmt.Fprintf(o.g.ErrOut, "upgrade pull requests: checking %s\n", redactURL(o.remote))
	ro := render.DefaultOptions()
	ro.Logger = o.g.Logger
	if o.CacheDir != "" {
		ro.CacheDir = o.CacheDir
	}
	dir := ""
	if o.WorkDir != "" {
		dir = filepath.Join(o.WorkDir, "upgrade.git")
	}
	ex := upgrade.NewExecutor(upgrade.ExecutorOptions{
		Remote:          upgrade.GitRemote{URL: o.remote, Token: o.token, Dir: dir},
		Renderer:        render.New(ro),
		Logger:          o.g.Logger,
		NewPullRequests: gitHubPullRequests(o.token),
	})
	_, results, err := ex.Run(ctx, upgrade.DiscoverOptions{Logger: o.g.Logger}, nil)
	if errors.Is(err, upgrade.ErrGitAuth) {
		err = fmt.Errorf("%s: git token rejected: check --github-token-file (the token needs contents write access): %w", redactURL(o.remote), err)
	}
	errs := []error{}
	if err != nil {
		errs = append(errs, fmt.Errorf("upgrade pull requests: %w", err))
	}
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("upgrade pull requests: %w", explainPRError(r)))
			continue
		}
		fmt.Fprintf(o.g.ErrOut, "upgrade pull requests: %s %s -> %s: %s\n", r.Addon, r.From, r.To, r.Action)
	}
	return results, errors.Join(errs...)
}

// reconcileJSON is the -o json document.
type reconcileJSON struct {
	Clusters []clusterJSON `json:"clusters"`
	Upgrades []prRow       `json:"upgrades"`
	Duration string        `json:"duration"`
	Error    string        `json:"error,omitempty"`
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

func (o *reconcileOptions) write(w io.Writer, rep *reconcile.Report, upgrades []upgrade.Result) error {
	if o.Output == "json" {
		return writeReconcileJSON(w, rep, upgrades)
	}
	return writeReconcileTable(w, rep, upgrades)
}

func writeReconcileJSON(w io.Writer, rep *reconcile.Report, upgrades []upgrade.Result) error {
	doc := reconcileJSON{Clusters: []clusterJSON{}, Upgrades: []prRow{}, Duration: rep.Duration.Round(time.Millisecond).String()}
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
	for _, r := range upgrades {
		row := prRow{
			Addon: r.Addon, From: r.From, To: r.To, Branch: r.Branch, Action: r.Action.String(), Pushed: r.Pushed,
			Commit: r.Commit, PullRequest: r.PullRequest.Number, URL: r.PullRequest.URL,
		}
		if r.Err != nil {
			row.Error = explainPRError(r).Error()
		}
		doc.Upgrades = append(doc.Upgrades, row)
	}
	if rep.Err != nil {
		doc.Error = rep.Err.Error()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func writeReconcileTable(w io.Writer, rep *reconcile.Report, upgrades []upgrade.Result) error {
	if len(rep.Clusters) == 0 && len(upgrades) == 0 && rep.Err != nil {
		return nil // nothing ran: the error says why
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tBRANCH\tREVISION\tCREATED\tCONFIGURED\tUNCHANGED\tPRUNED\tDURATION\tSTATUS")
	counts := map[reconcile.Status]int{}
	for _, c := range rep.Clusters {
		counts[c.Status]++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", c.Cluster, dash(c.Branch), dash(shortRev(c.Revision)),
			c.Counts.Created, c.Counts.Configured, c.Counts.Unchanged, c.Counts.Pruned,
			c.Duration.Round(time.Millisecond), c.Status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d clusters: %d synced, %d failed, %d locked\n", len(rep.Clusters),
		counts[reconcile.StatusSynced], counts[reconcile.StatusFailed], counts[reconcile.StatusLocked])
	if len(upgrades) == 0 {
		return nil
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nADD-ON\tFROM\tTO\tACTION\tPULL REQUEST")
	for _, r := range upgrades {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Addon, r.From, r.To, r.Action, dash(r.PullRequest.URL))
	}
	return tw.Flush()
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
