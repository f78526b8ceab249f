package helmrelease

import (
	"fmt"

	"helm.sh/helm/v3/pkg/release"
)

// Reason says why a release cannot be adopted.
type Reason string

// Reasons a release is refused.
const (
	// ReasonFailed: the latest revision failed (an install or upgrade that did not finish).
	ReasonFailed Reason = "failed"
	// ReasonPending: a helm install, upgrade or rollback is running or was interrupted.
	ReasonPending Reason = "pending"
	// ReasonUninstalling: a helm uninstall is running or was interrupted.
	ReasonUninstalling Reason = "uninstalling"
	// ReasonUnknownStatus: Helm recorded a status it does not define.
	ReasonUnknownStatus Reason = "unknown-status"
	// ReasonChartMismatch: the release runs another chart than the add-on's.
	ReasonChartMismatch Reason = "chart-mismatch"
)

// String returns the reason.
func (r Reason) String() string { return string(r) }

// AdoptionError refuses to take over a Helm release; nothing of the add-on may be applied.
// It is a cluster-state error (CLI exit code 3), and its message says what to run.
type AdoptionError struct {
	// Addon is the add-on whose release it is.
	Addon string
	// Release is the refused release (latest revision).
	Release *Release
	// Reason is why.
	Reason Reason
	// WantChart is the add-on's chart name (for ReasonChartMismatch).
	WantChart string
}

func (e *AdoptionError) Error() string {
	r := e.Release
	subject := fmt.Sprintf("add-on %q: Helm release %s in namespace %s (rev %d, chart %s %s)",
		e.Addon, r.Name, r.Namespace, r.Revision, r.Chart, r.ChartVersion)
	uninstall := fmt.Sprintf("helm uninstall %s -n %s", r.Name, r.Namespace)
	if r.Driver == DriverConfigMap {
		uninstall = "HELM_DRIVER=configmap " + uninstall
	}
	uninstallHint := fmt.Sprintf("%q (deletes its objects; addonsync then installs the add-on afresh)", uninstall)
	var why, fix string
	switch e.Reason {
	case ReasonChartMismatch:
		why = fmt.Sprintf("runs chart %q, not the add-on's chart %q", r.Chart, e.WantChart)
		fix = fmt.Sprintf("set spec.releaseName in the add-on's addon.yaml if this release is another add-on, or run %s", uninstallHint)
	case ReasonFailed, ReasonPending:
		why = fmt.Sprintf("is %s", r.Status)
		if good := r.lastGood(); good > 0 {
			rollback := fmt.Sprintf("helm rollback %s %d -n %s", r.Name, good, r.Namespace)
			if r.Driver == DriverConfigMap {
				rollback = "HELM_DRIVER=configmap " + rollback
			}
			fix = fmt.Sprintf("run %q to return to the last deployed revision %d, or %s", rollback, good, uninstallHint)
		} else {
			fix = "no revision was ever deployed: run " + uninstallHint
		}
		if e.Reason == ReasonPending {
			fix = "if no helm command is running on it, " + fix
		}
	default:
		why = fmt.Sprintf("is %s", r.Status)
		fix = "wait for the helm command to finish, or run " + uninstallHint
	}
	return fmt.Sprintf("%s %s: nothing adopted; %s, then rerun", subject, why, fix)
}

// Check reports whether rel can be adopted by the add-on addon rendered from the chart
// named chart ("" for a chart-less add-on, which matches any chart): nil for a deployed
// release (and for one uninstalled with --keep-history, which is not Installed), an
// *AdoptionError otherwise. A nil rel is fine.
func Check(addon, chart string, rel *Release) error {
	if rel == nil {
		return nil
	}
	var reason Reason
	switch {
	case rel.Status == release.StatusFailed:
		reason = ReasonFailed
	case rel.Status.IsPending():
		reason = ReasonPending
	case rel.Status == release.StatusUninstalling:
		reason = ReasonUninstalling
	case rel.Status != release.StatusDeployed && rel.Status != release.StatusUninstalled:
		reason = ReasonUnknownStatus
	case rel.Status == release.StatusDeployed && chart != "" && rel.Chart != chart:
		reason = ReasonChartMismatch
	default:
		return nil
	}
	return &AdoptionError{Addon: addon, Release: rel, Reason: reason, WantChart: chart}
}
