package helmrelease

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

// AdoptOptions are the inputs of PlanAdoption besides the release and the render.
type AdoptOptions struct {
	// Chart is the add-on's chart name ("" for a chart-less add-on: any chart matches).
	Chart string
	// Prune is the add-on's prune policy.
	Prune config.PrunePolicy
	// PruneHelmLeftovers is the --prune-helm-leftovers flag.
	PruneHelmLeftovers bool
	// IgnoreLabels are the labels addonsync's render adds (render.LabelManagedBy and
	// render.LabelAddon), left out when comparing the render with the release's manifest.
	IgnoreLabels []string
}

// DefaultAdoptOptions ignore addonsync's render labels and prune no leftover.
func DefaultAdoptOptions() AdoptOptions {
	return AdoptOptions{IgnoreLabels: []string{render.LabelManagedBy, render.LabelAddon}}
}

// Adoption is the decision for one add-on whose Helm release addonsync takes over: pure
// data for the sync planner (diff shows it, sync carries it out).
type Adoption struct {
	// Release is the adopted release (its latest revision).
	Release *Release
	// Plan lists the adopted objects and the leftovers with their prune decision.
	Plan Plan
	// Installed is true when the add-on counts as installed: its install hooks
	// (pre-install, post-install) do not run. False for a release uninstalled with
	// --keep-history, which is retired but installed afresh.
	Installed bool
	// UpgradeHooks is true when the add-on's upgrade hooks (pre-upgrade, post-upgrade) run:
	// the release is installed and the render differs from the release's manifest.
	UpgradeHooks bool
}

// PlanAdoption checks rel with Check and, when it can be adopted, returns the Adoption for the
// add-on addon rendered as rendered (its non-hook objects, namespaces filled in). It
// returns nil and no error when there is no release, and the *AdoptionError of Check when
// the release must not be adopted.
func PlanAdoption(addon string, rel *Release, rendered []*unstructured.Unstructured, o AdoptOptions) (*Adoption, error) {
	if rel == nil {
		return nil, nil
	}
	if err := Check(addon, o.Chart, rel); err != nil {
		return nil, err
	}
	a := &Adoption{Release: rel, Installed: rel.Installed()}
	if !a.Installed {
		return a, nil
	}
	ids := make([]ObjectID, len(rendered))
	for i, obj := range rendered {
		ids[i] = IDOf(obj)
	}
	a.Plan = NewPlan(rel, ids, o.Prune, o.PruneHelmLeftovers)
	differs, err := rel.RenderDiffers(rendered, o.IgnoreLabels...)
	if err != nil {
		return nil, fmt.Errorf("add-on %q: compare the render with %s: %w", addon, rel, err)
	}
	a.UpgradeHooks = differs
	return a, nil
}

// Retirable reports whether the release may be retired after a clean sync, and if not why:
// not while an object left by the Helm release is kept (retiring would leave it owned by
// nobody, the very thing taking over is meant to end), unless Helm itself would keep it on
// uninstall (helm.sh/resource-policy: keep).
func (a *Adoption) Retirable() (bool, string) {
	var kept []string
	for _, l := range a.Plan.Leftovers {
		if !l.Prune && l.Reason != ReasonLeftoverResourceKeep {
			kept = append(kept, l.ID.String())
		}
	}
	if len(kept) == 0 {
		return true, ""
	}
	return false, fmt.Sprintf("%s not retired: %d object(s) left by the Helm release are kept (%s); add them to the render, delete them, or sync with --prune-helm-leftovers",
		a.Release.Summary(), len(kept), strings.Join(kept, ", "))
}
