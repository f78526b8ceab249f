package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

// Notes on objects to create that a dry run cannot check yet.
const (
	noteCRDMissing = "CRD not installed yet"
	noteNamespace  = "namespace %q not created yet"
)

// diffJob is one rendered object of one add-on to compare with the cluster.
type diffJob struct {
	run *addonRun
	obj *unstructured.Unstructured
}

// diffOutcome is what comparing one object found.
type diffOutcome struct {
	od     ObjectDiff
	action diffAction
	err    error
}

// Diff tells what a Sync of c would do, changing nothing: every rendered object is applied
// with dryRun=All (same field manager and force as a sync) and the result compared with the
// live object, both without what the server owns; objects whose live copy is up to date are
// counted unchanged without a request. Objects of kinds the cluster does not serve yet, or in
// namespaces the sync creates, are listed as creates with a note. Prune candidates come from
// each add-on's inventory. On errors Diff returns what it found and every error joined.
func (m *Manager) Diff(ctx context.Context, c *render.Cluster, o DiffOptions) (*DiffResult, error) {
	o = o.withDefaults()
	addons, err := selectAddons(c, o.Addons)
	if err != nil {
		return nil, err
	}
	res := &DiffResult{Cluster: c.Name, Revision: c.Revision, Addons: make([]AddonDiff, len(addons))}
	runs := make([]*addonRun, len(addons))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Concurrency)
	for i, a := range addons {
		g.Go(func() error {
			r, err := m.diffPrepare(gctx, a)
			runs[i] = r
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("cluster %q: %w", c.Name, err)
	}
	var jobs []diffJob
	for _, r := range runs {
		for _, obj := range r.objects {
			jobs = append(jobs, diffJob{run: r, obj: obj})
		}
	}
	outcomes := m.diffObjects(ctx, jobs, o)
	var errs []error
	next := 0
	for i, r := range runs {
		ad := &res.Addons[i]
		*ad = AddonDiff{Name: r.addon.Name, Namespace: addonNamespace(r.addon), Create: []ObjectDiff{}, Change: []ObjectDiff{}, Prune: []ObjectDiff{}}
		for range r.objects {
			out := outcomes[next]
			next++
			switch {
			case out.err != nil:
				errs = append(errs, fmt.Errorf("add-on %q: %w", r.addon.Name, out.err))
			case out.action == diffCreate:
				ad.Create = append(ad.Create, out.od)
			case out.action == diffChange:
				ad.Change = append(ad.Change, out.od)
			default:
				ad.Unchanged++
			}
		}
		prune, err := m.diffPrune(ctx, r)
		if err != nil {
			errs = append(errs, fmt.Errorf("add-on %q: %w", r.addon.Name, err))
		}
		ad.Prune = prune
	}
	if len(o.Addons) == 0 {
		removed, err := m.diffRemoved(ctx, c)
		if err != nil {
			errs = append(errs, err)
		}
		res.Addons = append(res.Addons, removed...)
	}
	res.summarize()
	if len(errs) > 0 {
		return res, fmt.Errorf("cluster %q: diff incomplete: %w", c.Name, errors.Join(errs...))
	}
	return res, nil
}

func (o DiffOptions) withDefaults() DiffOptions {
	d := DefaultDiffOptions()
	if o.Concurrency <= 0 {
		o.Concurrency = d.Concurrency
	}
	if o.ContextLines <= 0 {
		o.ContextLines = d.ContextLines
	}
	return o
}

// selectAddons returns the add-ons of c named in names (all when empty), in c's order.
func selectAddons(c *render.Cluster, names []string) ([]*render.Addon, error) {
	var out []*render.Addon
	for i := range c.Addons {
		if len(names) == 0 || slices.Contains(names, c.Addons[i].Name) {
			out = append(out, &c.Addons[i])
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(out, func(a *render.Addon) bool { return a.Name == n }) {
			return nil, fmt.Errorf("add-on %q: not rendered for cluster %q; check the cluster's add-on list", n, c.Name)
		}
	}
	return out, nil
}

// diffPrepare prepares an add-on's objects as a sync would (namespaces, ApplySet label,
// applied hash) and lists its live members once per kind and namespace.
func (m *Manager) diffPrepare(ctx context.Context, a *render.Addon) (*addonRun, error) {
	r := &addonRun{addon: a, opts: SyncOptions{DryRun: true, Progress: func(Event) {}}}
	if err := m.prepare(ctx, r); err != nil {
		return nil, fmt.Errorf("add-on %q: %w", a.Name, err)
	}
	if err := m.refreshLive(ctx, r, r.objects); err != nil {
		return nil, fmt.Errorf("add-on %q: %w", a.Name, err)
	}
	return r, nil
}

// diffObjects compares every job's object concurrently; outcomes are written by index.
func (m *Manager) diffObjects(ctx context.Context, jobs []diffJob, o DiffOptions) []diffOutcome {
	outcomes := make([]diffOutcome, len(jobs))
	var g errgroup.Group
	g.SetLimit(o.Concurrency)
	for i, j := range jobs {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				outcomes[i].err = fmt.Errorf("%s: %w", IDOf(j.obj), err)
				return nil
			}
			od, action, err := m.diffObject(ctx, j.run, j.obj, o)
			outcomes[i] = diffOutcome{od: od, action: action, err: err}
			return nil
		})
	}
	_ = g.Wait()
	return outcomes
}

// diffObject compares one prepared object with the cluster.
func (m *Manager) diffObject(ctx context.Context, r *addonRun, obj *unstructured.Unstructured, o DiffOptions) (ObjectDiff, diffAction, error) {
	contextLines := o.ContextLines
	id := IDOf(obj)
	live := r.live[id]
	if live != nil && !o.DryRunAll && UpToDate(obj, live) {
		return ObjectDiff{}, diffUnchanged, nil
	}
	ri, err := m.resourceFor(obj)
	if meta.IsNoMatchError(err) {
		od, action, err := compareObject(obj, nil, nil, contextLines)
		od.Note = noteCRDMissing
		return od, action, err
	}
	if err != nil {
		return ObjectDiff{}, "", fmt.Errorf("%s: %w", id, err)
	}
	if live == nil {
		// Not a member (yet): it may still exist, made by hand or by another tool.
		live, err = ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			live, err = nil, nil
		}
		if err != nil {
			return ObjectDiff{}, "", fmt.Errorf("%s: read failed: %w", id, err)
		}
	}
	merged, err := m.apply(ctx, ri, obj, r)
	if err != nil {
		if live == nil && apierrors.IsNotFound(err) && obj.GetNamespace() != "" {
			od, action, cerr := compareObject(obj, nil, nil, contextLines)
			od.Note = fmt.Sprintf(noteNamespace, obj.GetNamespace())
			return od, action, cerr
		}
		return ObjectDiff{}, "", fmt.Errorf("dry run: %w", err)
	}
	return compareObject(obj, live, merged, contextLines)
}

// diffPrune lists the add-on's inventory members a sync would prune, as the prune phase
// decides it: members the render lacks, except those the prune rules keep.
func (m *Manager) diffPrune(ctx context.Context, r *addonRun) ([]ObjectDiff, error) {
	if r.addon.Spec.Prune.Disabled {
		return []ObjectDiff{}, nil
	}
	inv, err := m.readParent(ctx, r.set)
	if err != nil {
		return nil, err
	}
	skip := map[listKey]bool{}
	for k := range r.listed {
		skip[listKey{gvk: k.gvk.GroupKind().WithVersion(""), namespace: k.namespace}] = true
	}
	more, err := m.listInventory(ctx, inv, skip)
	if err != nil {
		return nil, fmt.Errorf("prune candidates: %w", err)
	}
	inv.Members = membersOf(append(liveValues(r), more...))
	return pruneDiffs(PruneCandidates(inv, r.objects, r.addon.Spec.Prune)), nil
}

// diffRemoved lists the add-ons whose ApplySet parent is in the inventory namespace but which
// the cluster no longer renders: a sync prunes all of their members.
func (m *Manager) diffRemoved(ctx context.Context, c *render.Cluster) ([]AddonDiff, error) {
	rendered := map[string]bool{}
	for _, a := range c.Addons {
		rendered[a.Name] = true
	}
	list, err := m.dynamic.Resource(configMapGVR).Namespace(m.opts.InventoryNamespace).List(ctx,
		metav1.ListOptions{LabelSelector: LabelApplySetID + "," + render.LabelAddon})
	if err != nil {
		return nil, fmt.Errorf("inventory namespace %q: list parents: %w", m.opts.InventoryNamespace, err)
	}
	var out []AddonDiff
	for _, p := range list.Items {
		addon := p.GetLabels()[render.LabelAddon]
		if rendered[addon] || p.GetName() != ParentPrefix+addon {
			continue
		}
		inv, err := m.Inventory(ctx, addon)
		if err != nil {
			return nil, fmt.Errorf("removed add-on %q: %w", addon, err)
		}
		out = append(out, AddonDiff{
			Name: addon, Removed: true, Create: []ObjectDiff{}, Change: []ObjectDiff{},
			Prune: pruneDiffs(PruneCandidates(inv, nil, config.PrunePolicy{})),
		})
	}
	return out, nil
}

// pruneDiffs lists a prune plan's deletions.
func pruneDiffs(plan PrunePlan) []ObjectDiff {
	out := make([]ObjectDiff, len(plan.Delete))
	for i, id := range plan.Delete {
		out[i] = ObjectDiff{Subject: id.String(), Group: id.Group, Kind: id.Kind, Namespace: id.Namespace, Name: id.Name}
	}
	return out
}
