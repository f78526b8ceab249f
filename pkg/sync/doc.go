// Package sync applies rendered cluster add-ons to a live cluster with server-side apply,
// records what it applied in ApplySet-compatible inventories and prunes what is no longer
// rendered.
//
// # One plan: gather, decide, execute
//
// Sync, Diff and sync --dry-run share one planner. gather (gather.go) reads the live state
// once: per add-on its ApplySet parent with the release record, one LIST per kind and
// namespace (label selector part-of=<id>), a GET per rendered object that is not a member
// (it may exist, made by kubectl or Helm), a GET per namespace no object was found in, and
// server-side dry-run applies only where needed (Diff: for objects that change; Sync: where
// the cheap check below cannot decide). Decide (plan.go) is a pure function of that state:
// per object create, configure, unchanged, adopt, prune or keep with a reason; per add-on
// the hook phase, the release record to write, and the prune (refused as a whole when over
// the limits). Diff renders the plan, a dry run returns it, Sync executes it: up to
// ManagerOptions.AddonConcurrency add-ons at once, each after the add-ons it depends on
// (dependsOn and the CRD order render infers) have finished, skipped if one failed:
//
//	widenInventory   record old ∪ new group-kinds and namespaces before touching anything
//	ensureNamespace  create the add-on namespace when the plan says it is missing
//	preHooks         pre-install or pre-upgrade hooks, as the plan's phase says (hooks.go)
//	transferHelm     move Helm's field ownership to addonsync (an adopted Helm release only)
//	applyStages      CRDs and Namespaces, wait Established; cluster RBAC; the rest; webhooks
//	postHooks        post-install or post-upgrade hooks
//	wait             health of the applied objects (wait.go)
//	commitRelease    write the release record (nothing when it did not change)
//
// Only when every add-on of the cluster applied cleanly does the prune phase run: per add-on,
// the planned deletions (never Namespaces, CRDs, PersistentVolumes or claims unless the
// add-on opts in), then the parent is narrowed to the new set. Add-ons removed from the
// cluster config are pruned, parent included; objects another add-on now renders (a renamed
// add-on) are adopted by it, not pruned.
//
// # Unchanged objects are not written
//
// An object is unchanged when its live copy carries the addonsync.io/applied-hash of the
// desired object (the render is what was last applied) and addonsync's managedFields entry
// (operation Apply) still covers every field the desired object sets. The API server keeps
// that entry exact: a field someone removes or changes (by update, patch or a forced apply)
// leaves it, whatever its value, false, 0, "", [] and {} included. So a hand edit of any
// field addonsync sets is seen and put back, without guessing the server's defaulting.
// Where the entry lacks a field for another reason (the server drops a field it does not
// know), a dry-run apply decides. TestUpToDateMatchesServerDryRun checks the verdict against
// the server's dry run after hand edits of every kind. A no-op sync sends only GET and LIST
// requests.
//
// # Helm hooks and the release record
//
// The parent's data key "release" records what Helm records of a release: the revision, the
// digest of what was rendered at the last successful sync, whether an install completed,
// the last hook outcome, the hook objects, and the namespace addonsync created. Install
// hooks run until an install completed; upgrade hooks run when the digest changed since the
// last successful sync (a failed hook leaves digest and install flag as they were, so the
// same phase runs again); an unchanged add-on runs no hook and writes nothing. Removing an
// add-on deletes its members, its last hook objects, and the namespace created for it when
// its prune policy allowed Namespaces.
//
// Why not a dry-run apply per object and a compare (what kubectl diff and Flux do): it is a
// PATCH per object, a thousand requests where this design needs one LIST per kind and
// namespace, and it makes the server rebuild managedFields of every 500 KiB CRD. Measured on
// the test cluster (1,000 objects plus seven 300-700 KiB CRDs, BenchmarkSyncNoop): 0.6 s for
// a no-op sync against 8 s for kubectl apply --server-side of the same manifests.
//
// # Pruning
//
// Members the render lacks are deleted with Background propagation, webhooks first and
// Namespaces and CRDs last, only after every add-on of the cluster applied. Namespaces, CRDs,
// PersistentVolumes and claims are kept unless the add-on's prune policy allows them, and so
// are objects annotated helm.sh/resource-policy=keep or addonsync.io/prune=disabled. A kept
// object is released: its part-of label is removed (one merge patch, by the field manager
// "<manager>-prune"), so it is reported as skipped once and then belongs to nobody. A prune
// over the limit (default more than 25 objects or more than 30 % of the add-on; repository
// and add-on prune limits; SyncOptions.MaxPrune) is refused and deletes nothing. An add-on
// removed from the cluster config loses all its members and its parent; only the count
// limit applies there, since removing an add-on removes all of it by intent.
//
// # Taking over Helm releases
//
// gather lists the cluster's Helm releases once (pkg/helmrelease, one LIST per storage
// driver) and plans each add-on's release (spec.releaseName or the add-on name, in the
// add-on namespace) with helmrelease.PlanAdoption; a failed, pending or other-chart release
// is an *helmrelease.AdoptionError that stops the sync before anything is written (CLI exit
// 3). Decide adopts the release's objects the render has (VerbAdopt, reason "adopted from
// Helm release <name>"), lists those it lacks as AddonPlan.HelmLeftovers (pruned only with
// SyncOptions.PruneHelmLeftovers and the add-on's prune policy, else kept), and treats an
// add-on addonsync has not installed yet as installed when its release is: no install
// hooks, upgrade hooks only when the render differs from the release's manifest. The
// executor moves Helm's managedFields ownership to addonsync in place before the apply (no
// object deleted or recreated), prunes the leftovers to prune with the add-on's prune, and
// after the whole cluster synced and pruned cleanly retires every adopted release that is
// Retirable (AddonResult.HelmRelease says what became of it). A dry run and a sync of some
// add-ons only (SyncOptions.Partial) retire nothing: the next full sync does
// (helm.go, docs/moving-from-helm.md).
//
// # Inventory
//
// The inventory follows KEP-3659 (kubectl ApplySet): `kubectl get <kind> -A -l
// applyset.kubernetes.io/part-of=<id>` lists what an add-on owns, where <id> is the
// applyset.kubernetes.io/id label of the parent ConfigMap.
package sync
