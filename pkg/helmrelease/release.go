package helmrelease

import (
	"fmt"
	"time"

	"helm.sh/helm/v3/pkg/release"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/pkg/objref"
)

// Driver is the Helm storage driver a release record is kept with.
type Driver string

// The storage drivers Helm's CLI defaults to (HELM_DRIVER=secret) or offers (configmap).
// The sql and memory drivers keep nothing in the cluster and cannot be taken over.
const (
	DriverSecret    Driver = "secret"
	DriverConfigMap Driver = "configmap"
)

// String returns the driver as HELM_DRIVER spells it.
func (d Driver) String() string { return string(d) }

// kind returns the Kubernetes kind of the driver's records.
func (d Driver) kind() string {
	if d == DriverConfigMap {
		return "ConfigMap"
	}
	return "Secret"
}

// Labels Helm puts on every release record, and those addonsync puts on retired ones.
const (
	// LabelOwner is "helm" on every record; helm list, history and upgrade select on it.
	LabelOwner = "owner"
	// LabelName is the release name.
	LabelName = "name"
	// LabelVersion is the revision.
	LabelVersion = "version"
	// LabelStatus is the revision's status.
	LabelStatus = "status"
	// OwnerHelm is LabelOwner's value.
	OwnerHelm = "helm"
	// LabelRetired is "true" on records addonsync kept when it retired a release.
	LabelRetired = "addonsync.io/retired"
	// LabelRetiredOwner keeps the former LabelOwner value of a retired record, so
	// `kubectl label <record> owner=helm addonsync.io/retired- addonsync.io/helm-owner-` restores it.
	LabelRetiredOwner = "addonsync.io/helm-owner"
)

// ObjectID identifies an object independently of its API version. It is sync.ObjectID
// (both are objref.ID), so IDs pass between the packages unconverted.
type ObjectID = objref.ID

// IDOf returns the ID of an object.
func IDOf(u *unstructured.Unstructured) ObjectID { return objref.Of(u) }

// Hook is a hook of a release, as Helm recorded it.
type Hook struct {
	// ID is the hook object (namespace resolved as for any object of the release).
	ID ObjectID
	// Events are the phases the hook runs in ("pre-install", "post-upgrade", ...).
	Events []string
	// Weight orders hooks of one phase, lowest first.
	Weight int
	// DeletePolicies are the helm.sh/hook-delete-policy values.
	DeletePolicies []string
	// LastRun is the phase of the hook's last run ("Succeeded", "Failed", "Running";
	// "" when it never ran, e.g. a test hook or an upgrade hook of a fresh install).
	LastRun string
}

// Record is one revision's release record (a Secret or ConfigMap in the release namespace).
type Record struct {
	// Name of the Secret or ConfigMap, "sh.helm.release.v1.<release>.v<revision>".
	Name string
	// Revision it records.
	Revision int
	// Status of that revision.
	Status release.Status
}

// Release is the latest revision of a Helm release, decoded from its release record.
type Release struct {
	// Name of the release.
	Name string
	// Namespace of the release (where its records are).
	Namespace string
	// Revision is the latest revision.
	Revision int
	// Status of the latest revision.
	Status release.Status
	// Chart is the chart's name and ChartVersion its version; AppVersion its appVersion.
	Chart, ChartVersion, AppVersion string
	// Driver keeps the release's records.
	Driver Driver
	// LastDeployed is when the latest revision was deployed.
	LastDeployed time.Time
	// Objects are the objects of the latest revision's manifest (hooks excluded), sorted,
	// with the release namespace filled in on namespaced objects Helm left it off.
	Objects []ObjectID
	// Keep are the Objects annotated helm.sh/resource-policy: keep (helm uninstall keeps them).
	Keep []ObjectID
	// Hooks of the latest revision, in Helm's order.
	Hooks []Hook
	// Records are every revision's records, oldest first.
	Records []Record

	// manifest holds the parsed manifest objects, for RenderDiffers.
	manifest []*unstructured.Unstructured
}

// Summary returns "Helm release ingress-nginx rev 7, chart 4.14.5".
func (r *Release) Summary() string {
	return fmt.Sprintf("Helm release %s rev %d, chart %s", r.Name, r.Revision, r.ChartVersion)
}

// String returns the summary with the namespace and status:
// "Helm release ingress-nginx/ingress-nginx rev 7 (deployed), chart ingress-nginx 4.14.5".
func (r *Release) String() string {
	return fmt.Sprintf("Helm release %s/%s rev %d (%s), chart %s %s", r.Namespace, r.Name, r.Revision, r.Status, r.Chart, r.ChartVersion)
}

// Installed reports whether the release counts as installed: its latest revision is deployed.
// An add-on whose release is installed must not run its install hooks again. A release
// uninstalled with --keep-history is not installed (its objects are gone).
func (r *Release) Installed() bool { return r != nil && r.Status == release.StatusDeployed }

// HasHook reports whether a hook of the release runs on event (e.g. "pre-upgrade").
func (r *Release) HasHook(event string) bool {
	for _, h := range r.Hooks {
		for _, e := range h.Events {
			if e == event {
				return true
			}
		}
	}
	return false
}

// lastGood returns the newest revision before the latest that was deployed (deployed or
// superseded), or 0.
func (r *Release) lastGood() int {
	for i := len(r.Records) - 1; i >= 0; i-- {
		rec := r.Records[i]
		if rec.Revision < r.Revision && (rec.Status == release.StatusDeployed || rec.Status == release.StatusSuperseded) {
			return rec.Revision
		}
	}
	return 0
}

// recordName is the name Helm gives a revision's Secret or ConfigMap.
func recordName(name string, revision int) string {
	return fmt.Sprintf("sh.helm.release.v1.%s.v%d", name, revision)
}
