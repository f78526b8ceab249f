package sync

import (
	"context"
	"fmt"

	"github.com/addonsync/addonsync/pkg/render"
)

// widenInventory records old ∪ new group-kinds and namespaces before anything is applied, so
// a sync cut short leaves every object it created findable by the next one. A new parent
// starts the release record as not installed: until an install completes, install hooks run.
func (m *Manager) widenInventory(ctx context.Context, r *addonRun) error {
	inv := r.state.Inventory
	if !r.plan.Changes() && inv.Exists {
		return nil
	}
	gks, nss := scopeOf(r.objects)
	rec := inv.Record
	if rec == nil {
		rec = &ReleaseRecord{}
	}
	return m.writeParent(ctx, r.set, inv, unionGroupKinds(inv.GroupKinds, gks), append(nss, inv.Namespaces...), rec)
}

// commitRelease writes the release record of a successful sync (nothing when it is
// unchanged), keeping the widened scope until the prune phase narrows it.
func (m *Manager) commitRelease(ctx context.Context, r *addonRun) error {
	inv := r.state.Inventory
	rec := r.plan.Record
	return m.writeParent(ctx, r.set, inv, inv.GroupKinds, inv.Namespaces, &rec)
}

// recordHookFailure notes a failed hook in the release record, so the next sync retries the
// same phase (the digest and installed flag are left as they were).
func (m *Manager) recordHookFailure(ctx context.Context, r *addonRun, hfe *HookFailedError) {
	inv := r.state.Inventory
	rec := ReleaseRecord{}
	if inv.Record != nil {
		rec = *inv.Record
	}
	rec.LastHook = fmt.Sprintf("%s failed: %s", hfe.Event, hfe.Reason)
	if err := m.writeParent(ctx, r.set, inv, inv.GroupKinds, inv.Namespaces, &rec); err != nil {
		m.log.Warn("recording the hook failure failed", "addon", r.addon.Name, "err", err)
	}
}

// changes reports whether executing the plan writes anything.
func (p *Plan) changes() bool {
	for i := range p.Addons {
		if p.Addons[i].Changes() {
			return true
		}
	}
	return false
}

// planResult is the result a dry run reports: what the plan would do, per add-on.
func planResult(p *Plan, c *render.Cluster, o SyncOptions) *Result {
	res := &Result{Cluster: p.Cluster, Plan: p}
	for i := range p.Addons {
		ap := &p.Addons[i]
		ar := AddonResult{Addon: ap.Addon, Removed: ap.Removed, Err: ap.Err}
		if ap.CreateNamespace {
			ar.ChangeSet.Add(newEntry(ap.Addon, ObjectID{Kind: "Namespace", Name: ap.Namespace}, ActionCreated, "add-on namespace"))
		}
		if i < len(c.Addons) {
			pre, post := ap.Hooks.events()
			for _, ev := range []render.HookEvent{pre, post} {
				for _, h := range hooksFor(c.Addons[i].Hooks, ev) {
					ar.ChangeSet.Add(newEntry(ap.Addon, IDOf(h.Object), ActionCreated, ev.String()+" hook"))
				}
			}
		}
		for _, s := range ap.Objects {
			ar.ChangeSet.Add(stepEntry(ap.Addon, s))
		}
		if o.Prune {
			for _, s := range ap.Prune {
				if ap.PruneRefused == nil || s.Verb == VerbKeep {
					ar.ChangeSet.Add(stepEntry(ap.Addon, s))
				}
			}
		}
		for _, s := range ap.HelmLeftovers {
			if s.Verb == VerbKeep || o.Prune {
				ar.ChangeSet.Add(newEntry(ap.Addon, s.ID, s.Verb.action(), s.Reason))
			}
		}
		if ap.Helm != nil {
			ar.HelmRelease = ap.Helm.Release.Summary() + ": to adopt"
		}
		if ap.PruneRefused != nil {
			ar.Err = ap.PruneRefused
		}
		res.Addons = append(res.Addons, ar)
		if o.Progress != nil {
			o.Progress(Event{Type: EventAddonFinished, Addon: ap.Addon, Result: &res.Addons[len(res.Addons)-1]})
		}
	}
	return res
}

// stepEntry is the change-set entry a step reports.
func stepEntry(addon string, s ObjectStep) ChangeSetEntry {
	msg := ""
	switch s.Verb {
	case VerbAdopt, VerbKeep, VerbConfigure:
		msg = s.Reason
	}
	return newEntry(addon, s.ID, s.Verb.action(), msg)
}
