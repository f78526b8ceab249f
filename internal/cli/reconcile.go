package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/addonsync/addonsync/internal/output"
	"github.com/addonsync/addonsync/pkg/git"
	"github.com/addonsync/addonsync/pkg/lease"
	"github.com/addonsync/addonsync/pkg/reconcile"
	"github.com/addonsync/addonsync/pkg/render"
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
	// NoUpgrade skips the upgrade pull requests (and the backports after them).
	NoUpgrade bool
	// NoBackport skips the backport pull requests.
	NoBackport bool
	// Prune deletes objects no longer rendered.
	Prune bool
	// Wait waits for each add-on to be healthy before the next one.
	Wait bool
	// ClusterTimeout bounds each cluster's sync; 0 for none.
	ClusterTimeout time.Duration
	// LeaseDuration is how long a cluster's sync lease lasts without renewal.
	LeaseDuration time.Duration
	// Output is table, json or yaml.
	Output output.Format
	// CacheDir overrides the chart cache directory.
	CacheDir string
	// RequireLocked refuses charts addonsync.lock does not pin (default true).
	RequireLocked bool

	token  string
	dir    string // the config repo clone: --repo, or the mirror in --work-dir
	ref    string // --ref, default auto
	remote string // the upgrade pull requests' remote ("" when NoUpgrade or not shard 0)
	upDir  string // the upgrade clone in --work-dir ("": in memory)
}

func newReconcileOptions(g *GlobalOptions) *reconcileOptions {
	return &reconcileOptions{
		g: g, ShardCount: 1, Prune: true, Wait: true, ClusterTimeout: 30 * time.Minute,
		LeaseDuration: lease.DefaultOptions().Duration,
	}
}

func newReconcileCmd(g *GlobalOptions) *cobra.Command {
	o := newReconcileOptions(g)
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Sync every cluster from its own branch, then open upgrade and backport pull requests",
		Long: `reconcile is what the CronJob runs. It mirrors the config repo (--repo-url, into
--work-dir) or reads --repo, then for every cluster of this shard (clusters sorted by
name; cluster i belongs to shard i % --shard-count) renders the cluster from its own
branch (release-<minor>, or main; --ref auto is the default here) and syncs it while
holding the cluster's sync lease. A cluster that fails, or whose lease another addonsync
holds, is reported and the others go on. Shard 0 then opens or updates the upgrade pull
requests (as "upgrade pr" does) unless --no-upgrade, and then carries main's merged
changes to the release branches (as "backport" does) unless --no-backport.

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
	o.addFlags(cmd)
	return cmd
}

func (o *reconcileOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.RepoURL, "repo-url", "", "config repo HTTPS URL to mirror into --work-dir (default: read --repo)")
	f.StringVar(&o.TokenFile, "github-token-file", "", "file holding the GitHub token (default: $GITHUB_TOKEN)")
	f.StringVar(&o.WorkDir, "work-dir", "", "directory for the config repo mirror and upgrade clone (default: in the user cache)")
	f.IntVar(&o.ShardIndex, "shard-index", 0, "this process's shard, 0 to --shard-count - 1 (an Indexed Job's $JOB_COMPLETION_INDEX)")
	f.IntVar(&o.ShardCount, "shard-count", o.ShardCount, "number of shards the clusters are split into")
	f.StringArrayVar(&o.Clusters, "cluster", nil, "only this cluster (repeatable; sharding applies to the rest)")
	f.BoolVar(&o.NoUpgrade, "no-upgrade", false, "do not open or update upgrade pull requests")
	f.BoolVar(&o.NoBackport, "no-backport", false, "do not carry main's changes to the release branches")
	f.BoolVar(&o.Prune, "prune", o.Prune, "prune objects no longer rendered")
	f.BoolVar(&o.Wait, "wait", o.Wait, "wait for each add-on to be healthy before the next")
	f.DurationVar(&o.ClusterTimeout, "cluster-timeout", o.ClusterTimeout, "give up on a cluster after this long (0: never)")
	f.DurationVar(&o.LeaseDuration, "lease-duration", o.LeaseDuration, "sync lease duration; renewed every third of it while a cluster syncs")
	output.AddFlag(cmd, &o.Output, output.Table, output.JSON, output.YAML)
	addCacheDirFlag(f, &o.CacheDir)
	f.BoolVar(&o.RequireLocked, "require-locked", true, "refuse charts addonsync.lock does not pin (run addonsync lock and commit the lock)")
}

// Complete reads the token, defaults --ref to auto and --work-dir, and finds the upgrade remote.
func (o *reconcileOptions) Complete(cmd *cobra.Command) error {
	o.dir, o.ref = o.g.Dir, o.g.Ref
	if !cmd.Flags().Changed("ref") {
		o.ref = RefAuto
	}
	var err error
	if o.token, err = readGitHubToken(o.TokenFile); err != nil {
		return err
	}
	if o.RepoURL != "" {
		o.WorkDir = cmp.Or(o.WorkDir, defaultWorkDir("reconcile", o.RepoURL))
		o.dir = filepath.Join(o.WorkDir, "config")
	}
	o.upDir = subdir(o.WorkDir, "upgrade.git")
	if !o.NoUpgrade && o.ShardIndex == 0 {
		o.remote = cmp.Or(o.RepoURL, configRemote(o.dir))
	}
	return nil
}

// Validate checks the flags.
func (o *reconcileOptions) Validate() error {
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
	return checkUpgradeAccess(o.remote, o.token)
}

// Run reconciles once, prints the summary and fails (exit 3) when any cluster failed.
func (o *reconcileOptions) Run(ctx context.Context) error {
	rep := o.reconcile(ctx)
	return errors.Join(o.classify(rep), o.write(o.g.Out, rep))
}

// reconcile builds the Runner and runs it once.
func (o *reconcileOptions) reconcile(ctx context.Context) *reconcile.Report {
	ro := sharedRenderOptions(o.g, o.CacheDir)
	ro.RequireLocked = o.RequireLocked
	ropts := reconcile.RunnerOptions{
		Source: reconcile.RepoSource{Dir: o.dir, Ref: o.ref, Remote: git.RemoteOptions{URL: o.RepoURL, Token: o.token}},
		Connector: reconcile.KubeConnector{
			Kubeconfig: o.g.Kubeconfig, Context: o.g.Context,
			Warnings: rest.NewWarningWriter(o.g.ErrOut, rest.WarningWriterOptions{Deduplicate: true}),
		},
		Renderer: render.New(ro),
		Engine:   reconcile.SyncEngine{Tooling: "addonsync/" + BuildVersion(), Logger: o.g.Logger},
		Clusters: o.Clusters, ShardIndex: o.ShardIndex, ShardCount: o.ShardCount,
		Prune: o.Prune, Wait: o.Wait, ClusterTimeout: o.ClusterTimeout, LeaseDuration: o.LeaseDuration,
		Progress: o.progress(o.g.ErrOut), Logger: o.g.Logger,
	}
	if o.remote != "" {
		ropts.Steps = []reconcile.Step{&reconcile.UpgradeStep{
			Remote:   git.RemoteOptions{URL: o.remote, Token: o.token, Dir: o.upDir},
			Renderer: ropts.Renderer, NewPullRequests: gitHubPullRequests(o.token), Explain: explainPRError, Logger: o.g.Logger,
		}}
		if !o.NoBackport {
			ropts.Steps = append(ropts.Steps, backportStep(o.g, o.remote, o.token, o.upDir, ropts.Renderer))
		}
	}
	runner, err := reconcile.NewRunner(ropts)
	if err != nil {
		return &reconcile.Report{Start: time.Now(), Err: err}
	}
	return runner.Run(ctx)
}
