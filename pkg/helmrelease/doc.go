// Package helmrelease finds, checks and retires the Helm releases addonsync takes over, so
// a cluster that runs its add-ons with `helm upgrade` today moves to addonsync without an
// object deleted or recreated.
//
// The package decides and reads; the sync engine applies. Its parts, in the order a sync
// uses them:
//
//   - [Reader] finds releases through Helm's own storage drivers (Secrets, and ConfigMaps
//     for HELM_DRIVER=configmap), decoded, read-only: [Reader.Find] for one add-on's
//     release, [Reader.List] for a whole cluster with one LIST per driver.
//   - [Check] refuses a release that is failed, pending or of another chart with an
//     [*AdoptionError] that names the release and the helm command to run.
//   - [NewPlan] (pure, built on [Classify] and [PruneLeftover]) says which of the release's
//     objects are adopted and which are "left by Helm release", and whether each leftover is
//     pruned: only with the add-on's prune policy and --prune-helm-leftovers.
//   - [TransferPatch] and [Transferrer] move the field ownership Helm's Update operations left
//     (manager "helm") to addonsync's server-side apply manager, in place, before the apply.
//   - [Release.Installed], [Release.HasHook] and [Release.RenderDiffers] tell the hook planner
//     that an adopted add-on is installed (no install hooks) and whether its upgrade hooks run.
//   - [PlanAdoption] bundles the above for one add-on into an [Adoption]: the plan, whether the
//     add-on counts as installed and whether its upgrade hooks run.
//   - [Retire] deletes (or, with [RetireOptions.Keep], relabels) every revision's record once
//     the whole cluster synced cleanly, so `helm list` no longer shows the release.
//
// # Example
//
//	r := helmrelease.NewReader(clientset, mapper, helmrelease.DefaultReaderOptions())
//	releases, err := r.List(ctx)                        // one LIST per driver
//	rel := releases.Find(addon.Spec.ReleaseName, addon.Namespace)
//	if err := helmrelease.Check(addon.Name, chartName, rel); err != nil {
//		return err // e.g. add-on "ingress-nginx": Helm release ingress-nginx ... is failed: nothing adopted; run "helm rollback ingress-nginx 6 -n ingress-nginx" ...
//	}
//	plan := helmrelease.NewPlan(rel, renderedIDs, addon.Spec.Prune, pruneHelmLeftovers)
//	fmt.Println(rel.Summary()) // Helm release ingress-nginx rev 7, chart 4.14.5
//
// See docs/moving-from-helm.md for the user's side.
package helmrelease
