package sync

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Reasons the planner gives.
const (
	reasonNew          = "not on the cluster"
	reasonCRDMissing   = "CRD not installed yet"
	reasonNamespace    = "namespace %q created by this sync"
	reasonRendered     = "render changed since the last sync"
	reasonNoHash       = "not applied by addonsync yet"
	reasonDryRunNoop   = "a dry-run apply changes nothing"
	reasonUpToDate     = "every field addonsync sets is as applied"
	reasonNotOwned     = "%s changed or removed by someone else"
	reasonAdopt        = "exists, not in the add-on's inventory"
	reasonRecreate     = "recreated: immutable %s changed"
	reasonRemovedAddon = "add-on removed from the cluster"
	reasonNotRendered  = "no longer rendered"
)

// decideObject plans one rendered object.
func decideObject(a *AddonState, os ObjectState, renderedBy map[ObjectID]string, crdKinds map[schema.GroupKind]bool, manager string) (ObjectStep, error) {
	id := IDOf(os.Desired)
	step := ObjectStep{ID: id, Desired: os.Desired, Live: os.Live, Merged: os.DryRun}
	if other := renderedBy[id]; other != "" && other != a.Addon.Name {
		return step, fmt.Errorf("%s: rendered by add-ons %q and %q; render it in one of them only", id, other, a.Addon.Name)
	}
	switch {
	case os.Unserved && crdKinds[id.GroupKind()]:
		step.Verb, step.Reason = VerbCreate, reasonCRDMissing
		return step, nil
	case os.Unserved:
		return step, fmt.Errorf("%s: the cluster does not serve kind %s; install its CRD first (in this add-on or one it dependsOn)", id, id.GroupKind())
	case os.DryRunErr != nil:
		var imm *ImmutableFieldError
		if errors.As(os.DryRunErr, &imm) && a.Helm != nil && !os.Member {
			return step, fmt.Errorf("%s: cannot adopt from %s in place: %w; nothing was written: make the render match the live object, or delete the object and sync again", id, a.Helm.Release.Summary(), os.DryRunErr)
		}
		if errors.As(os.DryRunErr, &imm) && a.Addon.Spec.Sync.Recreate {
			step.Verb, step.Reason = VerbConfigure, fmt.Sprintf(reasonRecreate, imm.fieldList())
			return step, nil
		}
		return step, os.DryRunErr
	case os.Live == nil:
		step.Verb, step.Reason = VerbCreate, reasonNew
		if ns := os.Desired.GetNamespace(); ns != "" && !a.Namespaces[ns].Exists {
			step.Reason = fmt.Sprintf(reasonNamespace, ns)
		}
		return step, nil
	case !os.Member:
		step.Verb, step.Reason = VerbAdopt, reasonAdopt
		if why, ok := helmAdoptReason(a.Helm, id); ok {
			step.Reason = why
		} else if os.Owner != "" {
			step.Reason += " (held by " + os.Owner + ")"
		}
		return step, nil
	}
	step.Verb, step.Reason = objectVerdict(&os, manager)
	return step, nil
}

// objectVerdict decides configure or unchanged for a member: unchanged when the live copy
// carries the desired applied hash (the render is what was last applied) and the field
// manager still owns every field the desired object sets (a field removed, changed or taken
// over by anyone else leaves the manager's managedFields entry). When the ownership check
// fails a dry-run apply, if the gather step made one, decides.
func objectVerdict(os *ObjectState, manager string) (Verb, string) {
	want := os.Desired.GetAnnotations()[AnnotationAppliedHash]
	got := os.Live.GetAnnotations()[AnnotationAppliedHash]
	switch {
	case got == "":
		return VerbConfigure, reasonNoHash
	case got != want:
		return VerbConfigure, reasonRendered
	}
	path, owned := os.owns(manager)
	if owned {
		return VerbUnchanged, reasonUpToDate
	}
	if os.DryRun != nil && sameContent(os.Live, os.DryRun) {
		return VerbUnchanged, reasonDryRunNoop
	}
	return VerbConfigure, fmt.Sprintf(reasonNotOwned, path)
}

// needsDryRun reports whether the cheap check cannot decide a member: its hash is current
// but the field manager does not own every field (e.g. the server drops a field it does
// not know, so the manager never owns it).
func needsDryRun(os *ObjectState, manager string) bool {
	if os.Live == nil || !os.Member || os.Unserved {
		return false
	}
	if os.Live.GetAnnotations()[AnnotationAppliedHash] != os.Desired.GetAnnotations()[AnnotationAppliedHash] {
		return false
	}
	_, owned := os.owns(manager)
	return !owned
}
