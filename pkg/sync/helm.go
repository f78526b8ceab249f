package sync

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/pkg/helmrelease"
	"github.com/addonsync/addonsync/pkg/render"
)

// Taking over Helm releases (issue 13), in the order a sync runs it:
//
//   - gather: the cluster's Helm releases are listed once (one LIST per storage driver);
//     each add-on's release (spec.releaseName or the add-on name, in the add-on namespace) is
//     checked and planned with helmrelease.PlanAdoption. A failed, pending or other-chart
//     release is an *helmrelease.AdoptionError and aborts the sync before anything is written.
//   - Decide: the release's objects the render has are adopted (VerbAdopt), those it lacks
//     are "left by Helm release" (HelmLeftovers: pruned only with --prune-helm-leftovers and
//     the add-on's prune policy), and an add-on without a completed addonsync install counts
//     as installed when its release is: no install hooks, upgrade hooks only when the render
//     differs from the release's manifest.
//   - execute: before the apply, Helm's field ownership of the live objects moves to
//     addonsync's field manager in place (helmrelease.Transferrer); the leftovers to prune go
//     with the add-on's prune; once the whole cluster synced cleanly (not a dry run, not a
//     sync of some add-ons only: --addon defers it to the next full sync) every adopted
//     release that is Retirable is retired.

// releaseNameOf is the Helm release name of an add-on.
func releaseNameOf(a *render.Addon) string {
	if a.Spec.ReleaseName != "" {
		return a.Spec.ReleaseName
	}
	return a.Name
}

// listHelmReleases lists the cluster's Helm releases, once per gather.
func (m *Manager) listHelmReleases(ctx context.Context) (helmrelease.Releases, error) {
	if m.kube == nil {
		return nil, nil
	}
	rs, err := helmrelease.NewReader(m.kube, m.mapper, helmrelease.DefaultReaderOptions()).List(ctx)
	if apierrors.IsForbidden(err) {
		return nil, fmt.Errorf("list Helm releases (to take them over): %w; grant list on secrets and configmaps in every namespace (docs/moving-from-helm.md, Permissions)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("list Helm releases: %w", err)
	}
	return rs, nil
}

// planAdoption decides the takeover of the add-on's Helm release, if it has one, from the
// prepared objects (namespaces filled in; addonsync's bookkeeping left out of the comparison
// with the release's manifest).
func planAdoption(a *render.Addon, rel *helmrelease.Release, objs []*unstructured.Unstructured, pruneLeftovers bool) (*helmrelease.Adoption, error) {
	if rel == nil {
		return nil, nil
	}
	o := helmrelease.DefaultAdoptOptions()
	o.Prune, o.PruneHelmLeftovers = a.Spec.Prune, pruneLeftovers
	o.IgnoreLabels = append(o.IgnoreLabels, LabelApplySetPartOf)
	if a.Chart != nil {
		o.Chart = a.Chart.Name
	}
	rendered := make([]*unstructured.Unstructured, len(objs))
	for i, obj := range objs {
		rendered[i] = withoutMetadataKey(obj, "annotations", AnnotationAppliedHash)
	}
	return helmrelease.PlanAdoption(a.Name, rel, rendered, o)
}

// decideHelm adds the takeover of the add-on's Helm release to its plan: the leftovers, and
// the hook phase of an add-on addonsync has not installed yet but Helm has.
func decideHelm(a *AddonState, ap *AddonPlan, renderedBy map[ObjectID]string) {
	h := a.Helm
	if h == nil {
		return
	}
	ap.Helm = h
	name := h.Release.Name
	for _, l := range h.Plan.Leftovers {
		id := l.ID
		if renderedBy[id] != "" {
			continue // another add-on renders it and adopts it there
		}
		reason := strings.Replace(l.Reason, "left by Helm release", "left by Helm release "+name, 1)
		verb := VerbKeep
		if l.Prune {
			verb = VerbPrune
		}
		ap.HelmLeftovers = append(ap.HelmLeftovers, ObjectStep{ID: id, Verb: verb, Reason: reason})
	}
	if h.Installed && (a.Record == nil || !a.Record.Installed) {
		ap.Hooks = HookPhaseNone
		if h.UpgradeHooks {
			ap.Hooks = HookPhaseUpgrade
		}
		ap.Record = nextRecord(a, ap.Hooks)
		if ap.Record.Revision == 0 {
			ap.Record.Revision = 1
		}
	}
}

// reasonHelmAdopt starts the reason of an object adopted from a Helm release.
const reasonHelmAdopt = "adopted from Helm release "

// withoutPartOf returns a copy of u without the ApplySet part-of label: the diff of an
// object adopted from a Helm release shows what changes besides addonsync's bookkeeping.
func withoutPartOf(u *unstructured.Unstructured) *unstructured.Unstructured {
	if u == nil {
		return nil
	}
	return withoutMetadataKey(u, "labels", LabelApplySetPartOf)
}

// withoutMetadataKey returns a copy of u without key in its metadata.labels or
// metadata.annotations (field), and without the field itself when nothing is left in it.
func withoutMetadataKey(u *unstructured.Unstructured, field, key string) *unstructured.Unstructured {
	c := u.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "metadata", field, key)
	if m, _, _ := unstructured.NestedMap(c.Object, "metadata", field); len(m) == 0 {
		unstructured.RemoveNestedField(c.Object, "metadata", field)
	}
	return c
}

// withoutHelmOnlyFields returns a copy of merged (a dry-run apply of desired, made while
// Helm still owned its fields) without the fields the Helm release's manifest sets that
// desired does not: once the transfer moved Helm's ownership to addonsync, the apply removes
// them, so the diff of an adopted object shows their removal too. Map fields are followed;
// list elements are not (their removal shows only when the whole list goes).
func withoutHelmOnlyFields(merged, desired *unstructured.Unstructured, h *helmrelease.Adoption) *unstructured.Unstructured {
	if merged == nil || h == nil {
		return merged
	}
	manifest := h.Release.ManifestObject(helmrelease.IDOf(desired))
	if manifest == nil {
		return merged
	}
	out := merged.DeepCopy()
	dropUnset(out.Object, desired.Object, manifest.Object)
	return out
}

// dropUnset deletes from obj the map fields helm has that want lacks.
func dropUnset(obj, want, helm map[string]any) {
	for k, hv := range helm {
		w, inWant := want[k]
		if !inWant {
			delete(obj, k)
			continue
		}
		hm, hok := hv.(map[string]any)
		wm, wok := w.(map[string]any)
		om, ook := obj[k].(map[string]any)
		if hok && wok && ook {
			dropUnset(om, wm, hm)
		}
	}
}

// helmAdoptReason is the reason of an object adopted from the add-on's Helm release.
func helmAdoptReason(h *helmrelease.Adoption, id ObjectID) (string, bool) {
	if h == nil {
		return "", false
	}
	for _, a := range h.Plan.Adopted {
		if a == id {
			return reasonHelmAdopt + h.Release.Name, true
		}
	}
	return "", false
}

// transferHelm moves the field ownership Helm's Update operations hold on the add-on's live
// objects to addonsync's field manager, in place, so the apply that follows takes every
// field over (and removes those the render lacks) without deleting or recreating anything.
// It also reports the leftovers the sync keeps.
func (m *Manager) transferHelm(ctx context.Context, r *addonRun) error {
	if r.plan.Helm == nil {
		return nil
	}
	for _, s := range r.plan.HelmLeftovers {
		if s.Verb == VerbKeep {
			e := newEntry(r.addon.Name, s.ID, ActionSkipped, s.Reason)
			r.changes.Add(e)
			r.opts.Progress(Event{Type: EventObject, Addon: r.addon.Name, Entry: &e})
		}
	}
	live := make([]*unstructured.Unstructured, 0, len(r.live))
	for _, obj := range r.objects {
		if u := r.live[IDOf(obj)]; u != nil {
			live = append(live, u)
		}
	}
	t := helmrelease.NewTransferrer(m.dynamic, m.mapper, helmrelease.TransferOptions{To: m.opts.FieldManager})
	ids, err := t.TransferAll(ctx, live, m.opts.Concurrency)
	if err != nil {
		return fmt.Errorf("%s: %w", r.plan.Helm.Release.Summary(), err)
	}
	m.log.Debug("Helm field ownership transferred", "addon", r.addon.Name, "objects", len(ids))
	return nil
}

// helmLeftoverPrunes are the leftover steps the add-on's prune deletes.
func helmLeftoverPrunes(ap *AddonPlan) []ObjectStep {
	var out []ObjectStep
	for _, s := range ap.HelmLeftovers {
		if s.Verb == VerbPrune {
			out = append(out, s)
		}
	}
	return out
}

// retireHelm retires the Helm release of every add-on that adopted one, once the whole
// cluster synced cleanly: its records are deleted, or kept and relabelled with
// SyncOptions.KeepHelmReleases. A release that is not Retirable (a leftover is kept) stays,
// and its add-on's result says why. A release someone upgraded meanwhile
// (*helmrelease.ChangedError) fails its add-on.
func (m *Manager) retireHelm(ctx context.Context, runs []*addonRun, res *Result, o SyncOptions) error {
	var errs []error
	for i, r := range runs {
		h := r.plan.Helm
		if h == nil {
			continue
		}
		ar := &res.Addons[i]
		if ok, why := h.Retirable(); !ok {
			ar.HelmRelease = why
			continue
		}
		recs, err := helmrelease.Retire(ctx, m.kube, h.Release, helmrelease.RetireOptions{Keep: o.KeepHelmReleases})
		if err != nil {
			err = fmt.Errorf("add-on %q: %w", r.addon.Name, err)
			ar.Err = errors.Join(ar.Err, err)
			errs = append(errs, err)
			continue
		}
		verb := "retired"
		if o.KeepHelmReleases {
			verb = "retired (records kept, labelled " + helmrelease.LabelRetired + "=true)"
		}
		ar.HelmRelease = fmt.Sprintf("%s %s: %d record(s)", h.Release.Summary(), verb, len(recs))
		ar.HelmRetired = true
	}
	return errors.Join(errs...)
}
