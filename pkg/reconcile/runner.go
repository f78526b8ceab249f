package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/lease"
	"github.com/addonsync/addonsync/pkg/render"
	"github.com/addonsync/addonsync/pkg/sync"
)

// RunnerOptions are a Runner's dependencies and settings.
type RunnerOptions struct {
	// Source reads the config repo (required).
	Source Source
	// Connector builds each cluster's REST config (required).
	Connector Connector
	// Renderer renders each cluster (required).
	Renderer Renderer
	// Engine builds each cluster's sync engine (default SyncEngine{}).
	Engine Engine
	// Steps run after the clusters, in order; a cancelled run skips them.
	Steps []Step
	// Clusters limits the run to these clusters (before sharding); empty: all.
	Clusters []string
	// ShardIndex and ShardCount pick this process's share of the clusters (see Shard).
	ShardIndex, ShardCount int
	// Prune deletes objects no longer rendered.
	Prune bool
	// Wait waits for each add-on to be healthy before the next one.
	Wait bool
	// ClusterTimeout bounds each cluster's render and sync; 0 for none.
	ClusterTimeout time.Duration
	// LeaseDuration is how long a cluster's sync lease lasts without renewal.
	LeaseDuration time.Duration
	// LeaseHolder names this process in the lease (default lease.Identity()).
	LeaseHolder string
	// Progress, when set, receives the run's events (from the run's goroutine).
	Progress func(Event)
	// Now returns the time (default time.Now).
	Now func() time.Time
	// Logger receives debug logs (default: discard).
	Logger *slog.Logger
}

// DefaultRunnerOptions returns the defaults: one shard, prune and wait on, 30 minutes per
// cluster, the lease's default duration.
func DefaultRunnerOptions() RunnerOptions {
	return RunnerOptions{
		Engine: SyncEngine{}, ShardCount: 1, Prune: true, Wait: true, ClusterTimeout: 30 * time.Minute,
		LeaseDuration: lease.DefaultOptions().Duration, Now: time.Now, Logger: slog.New(slog.DiscardHandler),
	}
}

// Runner runs a reconcile: fetch the config repo, pick this shard's clusters, render and sync
// each from its own branch under its sync lease, then run the steps.
type Runner struct {
	o RunnerOptions
}

// NewRunner checks the options; zero optional fields take their defaults.
func NewRunner(o RunnerOptions) (*Runner, error) {
	d := DefaultRunnerOptions()
	if o.Source == nil || o.Connector == nil || o.Renderer == nil {
		return nil, errors.New("reconcile runner: Source, Connector and Renderer are required")
	}
	if o.Engine == nil {
		o.Engine = d.Engine
	}
	if o.ShardCount == 0 {
		o.ShardCount = d.ShardCount
	}
	if err := ValidateShard(o.ShardIndex, o.ShardCount); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	return &Runner{o: o}, nil
}

func (r *Runner) emit(e Event) {
	if r.o.Progress != nil {
		r.o.Progress(e)
	}
}

// Run runs one reconcile and reports it; it implements RunFunc. A failure before the
// clusters (fetching, a config that does not load) is the Report's Err, a *ConfigError when
// the config is at fault; each cluster's failure is its ClusterResult's Err, a
// *ClusterError; each step's is its StepReport's Err.
func (r *Runner) Run(ctx context.Context) *Report {
	rep := &Report{Start: r.o.Now()}
	defer func() { rep.Duration = r.o.Now().Sub(rep.Start) }()
	clusters, err := r.prepare(ctx)
	if err != nil {
		rep.Err = err
		return rep
	}
	r.emit(Event{Type: EventRunStarted, Clusters: clusters})
	for _, name := range clusters {
		if ctx.Err() != nil {
			rep.Err = fmt.Errorf("reconcile stopped before cluster %q: %w", name, context.Cause(ctx))
			return rep
		}
		rep.Clusters = append(rep.Clusters, r.syncCluster(ctx, name))
	}
	for _, s := range r.o.Steps {
		if ctx.Err() != nil {
			break
		}
		r.emit(Event{Type: EventStepStarted, Step: s.Name()})
		items, err := s.Run(ctx, rep)
		sr := StepReport{Step: s.Name(), Items: items}
		if err != nil {
			sr.Err = fmt.Errorf("%s: %w", s.Name(), err)
		}
		rep.Steps = append(rep.Steps, sr)
		r.emit(Event{Type: EventStepFinished, Step: s.Name(), StepReport: &rep.Steps[len(rep.Steps)-1]})
	}
	return rep
}

// prepare fetches the source and returns this shard's clusters.
func (r *Runner) prepare(ctx context.Context) ([]string, error) {
	r.emit(Event{Type: EventFetch})
	if err := r.o.Source.Fetch(ctx); err != nil {
		return nil, err
	}
	cfg, err := r.o.Source.Config(ctx)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	names := cfg.ClusterNames()
	for _, c := range r.o.Clusters {
		if !slices.Contains(names, c) {
			return nil, &ConfigError{Err: fmt.Errorf("cluster %q: no such cluster (clusters: %v)", c, names)}
		}
	}
	if len(r.o.Clusters) > 0 {
		names = slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(r.o.Clusters, n) })
	}
	return Shard(names, r.o.ShardIndex, r.o.ShardCount), nil
}

// syncCluster renders and syncs one cluster; its result's Duration covers all of it.
func (r *Runner) syncCluster(ctx context.Context, name string) (res ClusterResult) {
	res = ClusterResult{Cluster: name, Status: StatusFailed}
	start := r.o.Now()
	defer func() {
		res.Duration = r.o.Now().Sub(start)
		r.emit(Event{Type: EventClusterFinished, Cluster: name, Result: &res})
	}()
	if r.o.ClusterTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.o.ClusterTimeout)
		defer cancel()
	}
	cfg, c, err := r.render(ctx, name, &res)
	if err != nil {
		res.Err = err
		return res
	}
	err = r.apply(ctx, cfg, c, &res)
	var he *lease.HeldError
	switch {
	case errors.As(err, &he):
		res.Status, res.Err = StatusLocked, &ClusterError{Cluster: name, Err: err}
	case err != nil:
		res.Err = &ClusterError{Cluster: name, Err: err}
	default:
		res.Status = StatusSynced
	}
	return res
}

// render loads the cluster's config from its branch and renders it.
func (r *Runner) render(ctx context.Context, name string, res *ClusterResult) (*config.Config, *render.Cluster, error) {
	cfg, branch, err := r.o.Source.ClusterConfig(ctx, name)
	if err != nil {
		return nil, nil, &ClusterError{Cluster: name, Err: err}
	}
	res.Branch, res.Revision = branch, cfg.Revision
	r.emit(Event{Type: EventClusterRendering, Cluster: name, Branch: branch, Revision: cfg.Revision})
	c, err := r.o.Renderer.RenderCluster(ctx, cfg, name, render.RenderOptions{Discovery: Discovery(r.o.Connector, cfg, name, r.o.Logger)})
	if err != nil {
		return nil, nil, &ClusterError{Cluster: name, Stage: "nothing applied", Err: err}
	}
	return cfg, c, nil
}

// apply connects, takes the sync lease and syncs, counting the objects into res.
func (r *Runner) apply(ctx context.Context, cfg *config.Config, c *render.Cluster, res *ClusterResult) error {
	rc, err := r.o.Connector.RESTConfig(ctx, cfg, c.Name)
	if err != nil {
		return err
	}
	syncer, err := r.o.Engine.Syncer(rc, cfg, c.Name)
	if err != nil {
		return err
	}
	ctx, release, err := HoldLease(ctx, rc, cfg, LeaseOptions{
		Duration: r.o.LeaseDuration, Holder: r.o.LeaseHolder, Logger: r.o.Logger,
		OnReleaseError: func(err error) {
			r.emit(Event{Type: EventWarning, Cluster: c.Name, Err: fmt.Errorf("cluster %q: %w", c.Name, err)})
		},
	})
	if err != nil {
		return err
	}
	defer release()
	so := sync.SyncOptions{
		Prune: r.o.Prune, PruneLimits: cfg.Repository.Spec.Prune, Wait: r.o.Wait,
		Progress: func(e sync.Event) { r.emit(Event{Type: EventSync, Cluster: c.Name, Sync: e}) },
		// Helm releases are taken over and retired as by addonsync sync; their leftovers
		// are only ever pruned by an operator's sync --prune-helm-leftovers.
		KeepHelmReleases: cfg.Repository.Spec.HelmReleases.Retire == config.HelmRetireKeep,
	}
	sres, err := syncer.Sync(ctx, c, so)
	if sres != nil {
		res.ChangeSet = sres.ChangeSet()
		s := res.ChangeSet.Summary()
		res.Counts = Counts{
			// An adopted object was written as a configured one is: it existed before.
			Created: s[sync.ActionCreated], Configured: s[sync.ActionConfigured] + s[sync.ActionAdopted],
			Unchanged: s[sync.ActionUnchanged], Pruned: s[sync.ActionPruned],
		}
	}
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, lease.ErrLost) {
			err = errors.Join(err, cause)
		}
		return err
	}
	return nil
}

// LeaseOptions configure HoldLease; zero fields take the lease package's defaults.
type LeaseOptions struct {
	// Duration is how long the lease lasts without renewal.
	Duration time.Duration
	// Holder names this process in the lease.
	Holder string
	// Logger receives renewals and losses.
	Logger *slog.Logger
	// OnReleaseError, when set, receives a failure to release the lease.
	OnReleaseError func(error)
}

// HoldLease takes a cluster's sync lease in the inventory namespace cfg names, through rc
// without printing API warnings. It returns a context cancelled with cause lease.ErrLost
// when the lease is lost, and a func that stops renewing and releases the lease (bounded to
// 10s, even after ctx is cancelled). A lease another addonsync holds is a *lease.HeldError.
func HoldLease(ctx context.Context, rc *rest.Config, cfg *config.Config, o LeaseOptions) (context.Context, func(), error) {
	lrc := rest.CopyConfig(rc)
	lrc.WarningHandler = rest.NoWarnings{}
	cs, err := kubernetes.NewForConfig(lrc)
	if err != nil {
		return ctx, nil, err
	}
	lo := lease.Options{
		Namespace: cmp.Or(cfg.Repository.Spec.InventoryNamespace, sync.DefaultInventoryNamespace),
		Holder:    o.Holder, Duration: o.Duration, Logger: o.Logger,
	}
	held, err := lease.New(cs, lo).Acquire(ctx)
	if err != nil {
		return ctx, nil, err
	}
	lctx, cancel := held.Context(ctx)
	return lctx, func() {
		cancel()
		rctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer stop()
		if err := held.Release(rctx); err != nil && o.OnReleaseError != nil {
			o.OnReleaseError(err)
		}
	}, nil
}
