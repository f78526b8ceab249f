package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/addonsync/addonsync/pkg/helmrelease"
	"github.com/addonsync/addonsync/pkg/render"
)

// Diff tells what a Sync of c would do, changing nothing: it gathers the live state as a sync
// does, dry-run applying (same field manager and force) every object that is not unchanged,
// and renders the plan Decide makes of it: per add-on what is created, adopted, changed,
// left unchanged or pruned, the hook phase that runs, and prunes refused by the limits. On
// errors Diff returns what it found and every error joined; the same errors fail a sync.
func (m *Manager) Diff(ctx context.Context, c *render.Cluster, o DiffOptions) (*DiffResult, error) {
	o = o.withDefaults()
	addons, err := selectAddons(c, o.Addons)
	if err != nil {
		return nil, err
	}
	policy := dryRunChanged
	if o.DryRunAll {
		policy = dryRunAll
	}
	po := PlanOptions{Prune: !o.NoPrune, MaxPrune: o.MaxPrune, PruneLimits: o.PruneLimits, Partial: len(o.Addons) > 0, FieldManager: m.opts.FieldManager}
	in, err := m.gather(ctx, c, addons, po, gatherOptions{dryRun: policy, removed: po.Prune && !po.Partial, pruneHelmLeftovers: po.Prune && o.PruneHelmLeftovers})
	if err != nil {
		return nil, err
	}
	plan := Decide(*in)
	res, err := diffResult(plan, c, o.ContextLines)
	if err = errors.Join(plan.Err(), err); err != nil {
		return res, fmt.Errorf("cluster %q: %w", c.Name, err)
	}
	return res, nil
}

// diffResult renders a plan as a DiffResult.
func diffResult(p *Plan, c *render.Cluster, contextLines int) (*DiffResult, error) {
	res := &DiffResult{Cluster: c.Name, Revision: c.Revision, Addons: make([]AddonDiff, 0, len(p.Addons))}
	var errs []error
	for i := range p.Addons {
		ap := &p.Addons[i]
		ad := AddonDiff{
			Name: ap.Addon, Namespace: ap.Namespace, Removed: ap.Removed, Create: []ObjectDiff{},
			Adopt: []ObjectDiff{}, Change: []ObjectDiff{}, Prune: []ObjectDiff{},
		}
		if ap.Hooks != HookPhaseNone && hasPhaseHooks(c, ap) {
			ad.Hooks = ap.Hooks.String()
		}
		if ap.CreateNamespace {
			ad.Create = append(ad.Create, ObjectDiff{Subject: "Namespace/" + ap.Namespace, APIVersion: "v1", Kind: "Namespace", Name: ap.Namespace, Note: "add-on namespace"})
		}
		for _, s := range ap.Objects {
			if s.Verb != VerbCreate && s.Verb != VerbAdopt && s.Verb != VerbConfigure {
				ad.Unchanged++ // shown by count only: no YAML of it (a CRD's is megabytes)
				continue
			}
			od, err := objectDiff(s, ap.Helm, contextLines)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			switch s.Verb {
			case VerbCreate:
				ad.Create = append(ad.Create, od)
			case VerbAdopt:
				ad.Adopt = append(ad.Adopt, od)
				if od.Diff == "" && od.YAML == "" {
					ad.AdoptedAsIs++
				}
			default:
				ad.Change = append(ad.Change, od)
			}
		}
		for _, s := range ap.Prune {
			od := ObjectDiff{Subject: s.ID.String(), Group: s.ID.Group, Kind: s.ID.Kind, Namespace: s.ID.Namespace, Name: s.ID.Name}
			switch {
			case s.Verb == VerbKeep:
				od.Note = strings.TrimPrefix(s.Reason, "kept: ")
				ad.Keep = append(ad.Keep, od)
			case ap.PruneRefused != nil:
				od.Note = "refused"
				ad.PruneRefused = append(ad.PruneRefused, od)
			default:
				ad.Prune = append(ad.Prune, od)
			}
		}
		helmDiff(ap, &ad)
		if ap.PruneRefused != nil {
			ad.Error = ap.PruneRefused.Error()
		}
		if ap.Err != nil {
			ad.Error = ap.Err.Error()
		}
		res.Addons = append(res.Addons, ad)
	}
	res.summarize()
	return res, errors.Join(errs...)
}

// helmDiff adds the takeover of the add-on's Helm release: the release, and its leftovers
// (pruned ones to Prune, kept ones to HelmLeftovers).
func helmDiff(ap *AddonPlan, ad *AddonDiff) {
	if ap.Helm == nil {
		return
	}
	ad.HelmRelease = ap.Helm.Release.Summary() + ": to adopt"
	for _, s := range ap.HelmLeftovers {
		od := ObjectDiff{Subject: s.ID.String(), Group: s.ID.Group, Kind: s.ID.Kind, Namespace: s.ID.Namespace, Name: s.ID.Name, Note: s.Reason}
		if s.Verb == VerbPrune && ap.PruneRefused == nil {
			ad.Prune = append(ad.Prune, od)
			continue
		}
		ad.HelmLeftovers = append(ad.HelmLeftovers, od)
	}
}

func hasPhaseHooks(c *render.Cluster, ap *AddonPlan) bool {
	pre, post := ap.Hooks.events()
	for _, a := range c.Addons {
		if a.Name == ap.Addon {
			return len(hooksFor(a.Hooks, pre))+len(hooksFor(a.Hooks, post)) > 0
		}
	}
	return false
}

// objectDiff shows one step: a create as the rendered YAML, a change or an adoption as the
// unified diff of the live object against the dry-run result.
func objectDiff(s ObjectStep, helm *helmrelease.Adoption, contextLines int) (ObjectDiff, error) {
	if s.Verb == VerbCreate || s.Verb == VerbUnchanged || s.Live == nil {
		od, _, err := compareObject(s.Desired, nil, nil, contextLines)
		if s.Verb == VerbCreate && s.Reason != reasonNew {
			od.Note = s.Reason
		}
		return od, err
	}
	if s.Merged == nil {
		od, _, err := compareObject(s.Desired, nil, nil, contextLines)
		od.YAML, od.Note = "", s.Reason
		return od, err
	}
	merged := s.Merged
	if s.Verb == VerbAdopt && strings.HasPrefix(s.Reason, reasonHelmAdopt) {
		merged = withoutPartOf(withoutHelmOnlyFields(merged, s.Desired, helm)) // the ApplySet label aside
	}
	od, _, err := compareObject(s.Desired, s.Live, merged, contextLines)
	switch {
	case s.Verb == VerbAdopt:
		od.Note = s.Reason
	case od.Diff == "":
		od.Note = s.Reason + "; only addonsync's bookkeeping (ownership, applied hash) changes"
	}
	return od, err
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
