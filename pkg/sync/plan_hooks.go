package sync

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/addonsync/addonsync/pkg/render"
)

// ReleaseRecord is addonsync's record of an add-on's release, kept in the ApplySet parent
// (data key "release", JSON), as Helm keeps a release: the hooks of the next sync follow from
// it, not from whether the parent exists.
type ReleaseRecord struct {
	// Revision counts the successful syncs that installed or upgraded the add-on.
	Revision int `json:"revision"`
	// Digest identifies the render of the last successful sync (addonDigest).
	Digest string `json:"digest,omitempty"`
	// Installed is true once an install completed (pre-install hooks, objects, post-install
	// hooks, health): install hooks run until then.
	Installed bool `json:"installed"`
	// LastHook is the outcome of the last hook that ran, e.g. "pre-install failed: ...".
	LastHook string `json:"lastHook,omitempty"`
	// Hooks are the hook objects of the last render, deleted when the add-on is removed.
	Hooks string `json:"hooks,omitempty"`
	// Namespace is the add-on namespace addonsync created.
	Namespace string `json:"namespace,omitempty"`
	// PruneNamespace is true when the add-on's prune policy allows deleting Namespace once
	// the add-on is removed.
	PruneNamespace bool `json:"pruneNamespace,omitempty"`
}

// decideHooks picks the hook phase from the record and the render's digest: install until an
// install completed once, upgrade when the render changed since the last successful sync (a
// failed upgrade left the old digest, so it is retried), else none.
func decideHooks(rec *ReleaseRecord, digest string) HookPhase {
	switch {
	case rec == nil || !rec.Installed:
		return HookPhaseInstall
	case rec.Digest != digest:
		return HookPhaseUpgrade
	}
	return HookPhaseNone
}

// nextRecord is the record a successful sync of a writes: unchanged when nothing about the
// release changed, so an unchanged add-on writes nothing.
func nextRecord(a *AddonState, phase HookPhase) ReleaseRecord {
	var rec ReleaseRecord
	if a.Record != nil {
		rec = *a.Record
	}
	if phase != HookPhaseNone {
		rec.Revision++
		if pre, post := phase.events(); hasHooks(a, string(pre)) || hasHooks(a, string(post)) {
			rec.LastHook = phase.String() + " hooks succeeded"
		}
	}
	rec.Digest, rec.Installed = a.Digest, true
	rec.Hooks = hookList(a)
	if own := addonNamespace(a.Addon); own != "" && rec.Namespace == "" && namespaceCreated(a, own) {
		rec.Namespace = own
	}
	rec.PruneNamespace = rec.Namespace != "" && a.Addon.Spec.Prune.AllowNamespaces
	return rec
}

// namespaceCreated reports whether this sync creates the add-on namespace ns.
func namespaceCreated(a *AddonState, ns string) bool {
	for _, o := range a.Objects {
		if IDOf(o.Desired) == (ObjectID{Kind: "Namespace", Name: ns}) {
			return false
		}
	}
	st, ok := a.Namespaces[ns]
	return ok && !st.Exists
}

func hasHooks(a *AddonState, event string) bool {
	for _, h := range a.Addon.Hooks {
		for _, e := range h.Events {
			if string(e) == event {
				return true
			}
		}
	}
	return false
}

// hookList lists the add-on's hook objects, "Kind.group/namespace/name", sorted.
func hookList(a *AddonState) string {
	var ids []string
	for _, h := range a.Addon.Hooks {
		obj := h.Object
		ns := obj.GetNamespace()
		if ns == "" && obj.GetKind() != "Namespace" {
			ns = addonNamespace(a.Addon)
		}
		ids = append(ids, formatID(ObjectID{Group: obj.GroupVersionKind().Group, Kind: obj.GetKind(), Namespace: ns, Name: obj.GetName()}))
	}
	slices.Sort(ids)
	return strings.Join(ids, ",")
}

// formatID and parseID encode an ObjectID as "Kind.group/namespace/name".
func formatID(id ObjectID) string {
	return id.GroupKind().String() + "/" + id.Namespace + "/" + id.Name
}

func parseID(s string) (ObjectID, bool) {
	parts := strings.SplitN(s, "/", 3)
	if len(parts) != 3 {
		return ObjectID{}, false
	}
	kind, group, _ := strings.Cut(parts[0], ".")
	return ObjectID{Group: group, Kind: kind, Namespace: parts[1], Name: parts[2]}, true
}

// addonDigest identifies a render: the applied hashes of the objects, in render order, and
// the hooks (objects, events, weights, policies).
func addonDigest(objs []ObjectState, hooks []render.Hook) string {
	h := sha256.New()
	for _, o := range objs {
		h.Write([]byte(IDOf(o.Desired).String() + "=" + o.Desired.GetAnnotations()[AnnotationAppliedHash] + "\n"))
	}
	// Hooks by their content only: a render read back from the render cache has empty
	// slices where a fresh one has nil, and must digest the same.
	for _, hk := range hooks {
		b, _ := json.Marshal(hk.Object.Object)
		events := make([]string, len(hk.Events))
		for i, e := range hk.Events {
			events[i] = string(e)
		}
		fmt.Fprintf(h, "hook %s %d %s %s\n", events, hk.Weight, strings.Join(hk.DeletePolicies, ","), b)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
