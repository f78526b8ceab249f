package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	gosync "sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

// DefaultFieldManager is the server-side apply field manager when none is configured.
const DefaultFieldManager = "addonsync"

// DefaultInventoryNamespace holds the ApplySet parents when none is configured.
const DefaultInventoryNamespace = "addonsync-system"

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	// FieldManager is the server-side apply field manager (default "addonsync").
	FieldManager string
	// InventoryNamespace holds one ApplySet parent ConfigMap per add-on (default "addonsync-system").
	InventoryNamespace string
	// Concurrency bounds the requests in flight per stage (default 16).
	Concurrency int
	// AddonConcurrency bounds the add-ons executed at once (default 4). An add-on starts
	// when the add-ons it depends on (spec.dependsOn, and the CRD order render infers)
	// have finished.
	AddonConcurrency int
	// Logger receives debug logs (default: discard).
	Logger *slog.Logger
	// Tooling is the applyset.kubernetes.io/tooling value, "addonsync/<version>".
	Tooling string
	// CRDTimeout bounds the wait for a CustomResourceDefinition to be Established (default 2m).
	CRDTimeout time.Duration
	// DeleteTimeout bounds the wait for an object deleted to be recreated (default 2m).
	DeleteTimeout time.Duration
}

// DefaultManagerOptions returns the defaults.
func DefaultManagerOptions() ManagerOptions {
	return ManagerOptions{
		FieldManager:       DefaultFieldManager,
		InventoryNamespace: DefaultInventoryNamespace,
		Concurrency:        16,
		AddonConcurrency:   4,
		Logger:             slog.New(slog.DiscardHandler),
		Tooling:            "addonsync/dev",
		CRDTimeout:         2 * time.Minute,
		DeleteTimeout:      2 * time.Minute,
	}
}

func (o ManagerOptions) withDefaults() ManagerOptions {
	d := DefaultManagerOptions()
	if o.FieldManager == "" {
		o.FieldManager = d.FieldManager
	}
	if o.InventoryNamespace == "" {
		o.InventoryNamespace = d.InventoryNamespace
	}
	if o.Concurrency <= 0 {
		o.Concurrency = d.Concurrency
	}
	if o.AddonConcurrency <= 0 {
		o.AddonConcurrency = d.AddonConcurrency
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	if o.Tooling == "" {
		o.Tooling = d.Tooling
	}
	if o.CRDTimeout <= 0 {
		o.CRDTimeout = d.CRDTimeout
	}
	if o.DeleteTimeout <= 0 {
		o.DeleteTimeout = d.DeleteTimeout
	}
	return o
}

// Manager applies rendered add-ons to one cluster and prunes what they no longer render.
type Manager struct {
	dynamic dynamic.Interface
	// lists sends the gather step's LISTs (listSelected).
	lists rest.Interface
	// kube reads and retires Helm release records.
	kube   kubernetes.Interface
	mapper meta.ResettableRESTMapper
	log    *slog.Logger
	opts   ManagerOptions
}

// NewManager returns a Manager for the cluster cfg reaches. A cfg without QPS gets 500 QPS and
// a burst of 1000 (as internal/kube sets): client-go's 5/10 would throttle a sync of a thousand
// objects, and the API server protects itself with priority and fairness.
func NewManager(cfg *rest.Config, o ManagerOptions) (*Manager, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 500, 1000
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	lc := dynamic.ConfigFor(cfg)
	lc.AcceptContentTypes = "application/json"
	lists, err := rest.UnversionedRESTClientFor(lc)
	if err != nil {
		return nil, fmt.Errorf("list client: %w", err)
	}
	o = o.withDefaults()
	return &Manager{
		dynamic: dyn,
		lists:   lists,
		kube:    kube,
		mapper:  restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)),
		log:     o.Logger,
		opts:    o,
	}, nil
}

// SyncOptions tune one Sync call.
type SyncOptions struct {
	// DryRun decides the plan and returns it as the result, writing nothing.
	DryRun bool
	// Prune deletes objects the inventory lists and the render lacks (default true).
	Prune bool
	// MaxPrune overrides the prune limits: >0 allows at most that many deletions per add-on,
	// <0 removes the limit, 0 uses the configured limits.
	MaxPrune int
	// PruneLimits are the repo-wide limits (Repository.Spec.Prune); add-on limits override them.
	PruneLimits config.PruneLimits
	// Partial means the render holds only some of the cluster's add-ons (sync --addon): add-ons
	// missing from it are left alone instead of being pruned as removed.
	Partial bool
	// Wait waits for each add-on's objects to be healthy before the next add-on.
	Wait bool
	// PruneHelmLeftovers deletes the objects of an adopted Helm release the render lacks
	// (--prune-helm-leftovers), where the add-on's prune policy allows; else they are kept.
	PruneHelmLeftovers bool
	// KeepHelmReleases keeps the records of a retired Helm release, relabelled, instead of
	// deleting them (the repo's spec.helmReleases.retire: keep).
	KeepHelmReleases bool
	// Progress, when set, receives events as the sync runs (called from one goroutine at a time).
	Progress func(Event)
}

// DefaultSyncOptions returns the defaults: prune on, wait on.
func DefaultSyncOptions() SyncOptions { return SyncOptions{Prune: true, Wait: true} }

// EventType says what an Event reports.
type EventType string

// Event types.
const (
	EventAddonStarted  EventType = "addon-started"
	EventObject        EventType = "object"
	EventAddonFinished EventType = "addon-finished"
	EventPrune         EventType = "prune"
)

// String returns the type.
func (t EventType) String() string { return string(t) }

// Event reports progress.
type Event struct {
	// Type of the event.
	Type EventType
	// Addon it concerns.
	Addon string
	// Entry is set for EventObject and EventPrune.
	Entry *ChangeSetEntry
	// Result is set for EventAddonFinished: sent once the add-on is applied (its prune runs
	// after every add-on applied, reported by EventPrune), and for each removed add-on.
	Result *AddonResult
	// Message is set for EventWaiting and EventHook (wait.go).
	Message string
}

// AddonResult is the outcome for one add-on.
type AddonResult struct {
	// Addon name.
	Addon string `json:"addon"`
	// ChangeSet lists what happened per object (applies, then prunes).
	ChangeSet ChangeSet `json:"changeSet"`
	// Duration of the add-on's apply and prune.
	Duration time.Duration `json:"duration"`
	// Err is why the add-on failed or was skipped.
	Err error `json:"-"`
	// Removed is true for an add-on no longer in the cluster config, pruned with its inventory.
	Removed bool `json:"removed,omitempty"`
	// HelmRelease says what became of the Helm release the add-on adopted: "Helm release
	// web rev 3, chart 1.2.3 retired: 3 record(s)", or why it was not retired.
	HelmRelease string `json:"helmRelease,omitempty"`
	// HelmRetired is true when the sync retired the add-on's Helm release.
	HelmRetired bool `json:"helmRetired,omitempty"`
}

// Result is the outcome of a Sync.
type Result struct {
	// Cluster name.
	Cluster string `json:"cluster"`
	// Addons in sync order, then removed add-ons.
	Addons []AddonResult `json:"addons"`
	// Plan is what the sync decided to do.
	Plan *Plan `json:"-"`
}

// ChangeSet merges every add-on's change set.
func (r *Result) ChangeSet() ChangeSet {
	var c ChangeSet
	for _, a := range r.Addons {
		c.Append(a.ChangeSet)
	}
	return c
}

// addonRun is the state of one add-on through the pipeline.
type addonRun struct {
	addon   *render.Addon
	opts    SyncOptions
	started time.Time
	// crdScopes are the kinds the cluster's render defines and whether they are namespaced;
	// nil takes those of the add-on's own CRDs.
	crdScopes map[schema.GroupKind]bool

	// Set by prepare.
	set     applySet
	objects []*unstructured.Unstructured
	hashes  map[ObjectID]string

	// Set from the plan.
	state *AddonState
	plan  *AddonPlan
	steps map[ObjectID]*ObjectStep
	// live holds the live copies of the objects, keyed by ID.
	live    map[ObjectID]*unstructured.Unstructured
	changes ChangeSet
}

// step is a named stage of the per-add-on pipeline.
type step struct {
	name string
	run  func(ctx context.Context, r *addonRun) error
}

// addonPipeline lists the per-add-on steps that execute an add-on's plan, in order.
func (m *Manager) addonPipeline() []step {
	return []step{
		{"widenInventory", m.widenInventory},
		{"ensureNamespace", m.ensureNamespace},
		{"preHooks", m.preHooks},
		{"transferHelm", m.transferHelm},
		{"applyStages", m.applyStages},
		{"postHooks", m.postHooks},
		{"wait", m.wait},
		{"commitRelease", m.commitRelease},
	}
}

func (o SyncOptions) planOptions(fieldManager string) PlanOptions {
	return PlanOptions{Prune: o.Prune, MaxPrune: o.MaxPrune, PruneLimits: o.PruneLimits, Partial: o.Partial, FieldManager: fieldManager}
}

// Sync reads the cluster's state once, decides the plan (Decide) and executes it: each
// add-on once those it depends on are done, then, if all applied, the prunes. A dry run returns the plan as the
// result and writes nothing. On a partial failure it returns the partial result and the
// error.
func (m *Manager) Sync(ctx context.Context, c *render.Cluster, o SyncOptions) (*Result, error) {
	res := &Result{Cluster: c.Name}
	progress := serialise(o.Progress)
	o.Progress = progress
	addons := make([]*render.Addon, len(c.Addons))
	for i := range c.Addons {
		addons[i] = &c.Addons[i]
	}
	in, err := m.gather(ctx, c, addons, o.planOptions(m.opts.FieldManager),
		gatherOptions{removed: o.Prune && !o.Partial, pruneHelmLeftovers: o.Prune && o.PruneHelmLeftovers})
	if err != nil {
		return res, err
	}
	plan := Decide(*in)
	res.Plan = plan
	if o.DryRun {
		return planResult(plan, c, o), plan.Err()
	}
	if plan.changes() {
		if err := m.ensureInventoryNamespace(ctx); err != nil {
			return res, err
		}
	}
	runs, results, errs := m.execute(ctx, c, in, plan, o, progress)
	res.Addons = results
	if len(errs) > 0 || ctx.Err() != nil {
		errs = append(errs, ctx.Err())
		return res, fmt.Errorf("cluster %q: nothing pruned because the apply did not complete: %w", c.Name, errors.Join(errs...))
	}
	if err := m.pruneAll(ctx, c, runs, plan.Addons[len(c.Addons):], res, o); err != nil {
		return res, err
	}
	if o.Partial {
		return res, nil // a sync of some add-ons retires no Helm release: the next full sync does
	}
	if err := m.retireHelm(ctx, runs, res, o); err != nil {
		return res, fmt.Errorf("cluster %q: retire Helm releases: %w", c.Name, err)
	}
	return res, nil
}

// execute runs the plans of the add-ons, up to AddonConcurrency at once: an add-on starts
// when the add-ons before it that it depends on have finished, and is skipped if one of
// them failed. Once ctx is done no add-on starts. The runs and results of the add-ons that
// started are returned in the cluster's order, with their errors.
func (m *Manager) execute(ctx context.Context, c *render.Cluster, in *PlanInput, plan *Plan, o SyncOptions, progress func(Event)) ([]*addonRun, []AddonResult, []error) {
	n := len(c.Addons)
	runs := make([]*addonRun, n)
	results := make([]AddonResult, n)
	errs := make([]error, n)
	done := make([]chan struct{}, n)
	index := make(map[string]int, n)
	for i := range c.Addons {
		done[i] = make(chan struct{})
		index[c.Addons[i].Name] = i
	}
	slots := make(chan struct{}, m.opts.AddonConcurrency)
	var wg gosync.WaitGroup
	for i := range c.Addons {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[i])
			// Only add-ons earlier in the order are waited for: the render orders
			// dependencies first, and a later one cannot be waited for without a cycle.
			// Once done[j] is closed, errs[j] is final.
			failedDep := ""
			for _, d := range c.Addons[i].Spec.DependsOn {
				if j, ok := index[d]; ok && j < i {
					<-done[j]
					if failedDep == "" && errs[j] != nil {
						failedDep = d
					}
				}
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-slots }()
			if ctx.Err() != nil {
				return
			}
			r := m.newRun(&in.Addons[i], &plan.Addons[i], o)
			progress(Event{Type: EventAddonStarted, Addon: r.addon.Name})
			var err error
			if failedDep != "" {
				err = skipForDependency(r, failedDep)
			} else {
				err = m.runAddon(ctx, r)
			}
			runs[i], errs[i] = r, err
			results[i] = AddonResult{Addon: r.addon.Name, ChangeSet: r.changes, Duration: time.Since(r.started), Err: err}
			progress(Event{Type: EventAddonFinished, Addon: r.addon.Name, Result: &results[i]})
		}()
	}
	wg.Wait()
	var outRuns []*addonRun
	var outResults []AddonResult
	var outErrs []error
	for i := range runs {
		if runs[i] == nil {
			continue // not started: ctx was done
		}
		outRuns = append(outRuns, runs[i])
		outResults = append(outResults, results[i])
		if errs[i] != nil {
			outErrs = append(outErrs, errs[i])
		}
	}
	return outRuns, outResults, outErrs
}

// newRun sets up the execution of one add-on's plan.
func (m *Manager) newRun(st *AddonState, ap *AddonPlan, o SyncOptions) *addonRun {
	r := &addonRun{
		addon: st.Addon, opts: o, started: time.Now(), state: st, plan: ap, set: m.applySetFor(st.Addon.Name),
		steps: make(map[ObjectID]*ObjectStep, len(ap.Objects)), live: make(map[ObjectID]*unstructured.Unstructured, len(st.Objects)),
	}
	for i := range ap.Objects {
		r.steps[ap.Objects[i].ID] = &ap.Objects[i]
	}
	for _, os := range st.Objects {
		r.objects = append(r.objects, os.Desired)
		if os.Live != nil {
			r.live[IDOf(os.Desired)] = os.Live
		}
	}
	return r
}

// skipForDependency records every object of r as skipped because dependency dep failed.
func skipForDependency(r *addonRun, dep string) error {
	for _, obj := range r.objects {
		r.changes.Add(newEntry(r.addon.Name, IDOf(obj), ActionSkipped, "dependency "+dep+" failed"))
	}
	return fmt.Errorf("add-on %q: skipped: dependency %q failed; fix it and sync again", r.addon.Name, dep)
}

// runAddon executes one add-on's plan unless the plan refused it.
func (m *Manager) runAddon(ctx context.Context, r *addonRun) error {
	if r.plan.Err != nil {
		return r.plan.Err
	}
	return m.runPipeline(ctx, r)
}

// runPipeline runs the steps of one add-on, stopping at the first error.
func (m *Manager) runPipeline(ctx context.Context, r *addonRun) error {
	for _, s := range m.addonPipeline() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("add-on %q: %s: %w", r.addon.Name, s.name, err)
		}
		m.log.Debug("step", "addon", r.addon.Name, "step", s.name)
		if err := s.run(ctx, r); err != nil {
			return fmt.Errorf("add-on %q: %w", r.addon.Name, err)
		}
	}
	return nil
}

// serialise makes a progress callback safe to call from several goroutines; nil becomes a no-op.
func serialise(f func(Event)) func(Event) {
	if f == nil {
		return func(Event) {}
	}
	var mu gosync.Mutex
	return func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		f(e)
	}
}

// preHooks runs the pre hooks of the planned phase (hooks.go).
func (m *Manager) preHooks(ctx context.Context, r *addonRun) error {
	pre, _ := r.plan.Hooks.events()
	return m.runHooks(ctx, r, pre)
}

// postHooks runs the post hooks of the planned phase.
func (m *Manager) postHooks(ctx context.Context, r *addonRun) error {
	_, post := r.plan.Hooks.events()
	return m.runHooks(ctx, r, post)
}

// wait waits for the add-on's objects to be healthy when SyncOptions.Wait is set (wait.go).
func (m *Manager) wait(ctx context.Context, r *addonRun) error { return m.waitForAddon(ctx, r) }
