package render

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/pkg/config"
)

// Labels addonsync puts on the objects it creates itself (ApplySet parents, namespaces it
// creates); rendered objects keep the labels their chart gives them.
const (
	// LabelManagedBy is set to ManagedBy on objects addonsync creates itself.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedBy is the value of LabelManagedBy.
	ManagedBy = "addonsync"
	// LabelAddon names the add-on of an ApplySet parent.
	LabelAddon = "addonsync.io/addon"
)

// Helm hook annotations, kept on hook objects for the sync engine.
const (
	AnnotationHook             = "helm.sh/hook"
	AnnotationHookWeight       = "helm.sh/hook-weight"
	AnnotationHookDeletePolicy = "helm.sh/hook-delete-policy"
	AnnotationResourcePolicy   = "helm.sh/resource-policy"
)

// HookEvent is a Helm hook phase.
type HookEvent string

// Hook events the sync engine honours; test hooks are dropped at render time.
const (
	HookPreInstall  HookEvent = "pre-install"
	HookPostInstall HookEvent = "post-install"
	HookPreUpgrade  HookEvent = "pre-upgrade"
	HookPostUpgrade HookEvent = "post-upgrade"
	HookPreDelete   HookEvent = "pre-delete"
	HookPostDelete  HookEvent = "post-delete"
)

// String returns the event as Helm spells it.
func (e HookEvent) String() string { return string(e) }

// Hook is a Helm hook object with its phases, weight and delete policies.
type Hook struct {
	// Object is the rendered hook object (namespace and labels filled in as for any object).
	Object *unstructured.Unstructured
	// Events are the phases the hook runs in.
	Events []HookEvent
	// Weight orders hooks of one phase, lowest first.
	Weight int
	// DeletePolicies are helm.sh/hook-delete-policy values (before-hook-creation,
	// hook-succeeded, hook-failed); Helm's default is before-hook-creation.
	DeletePolicies []string
}

// ChartInfo records the chart an add-on was rendered from.
type ChartInfo struct {
	// Name of the chart.
	Name string
	// Version of the chart.
	Version string
	// Source is the repository URL, oci:// reference or in-repo path.
	Source string
	// Digest is "sha256:<hex>" of the chart archive (of the directory tree for in-repo charts).
	Digest string
	// KubeVersion is the chart's kubeVersion constraint, if any.
	KubeVersion string
}

// Addon is the rendered output of one add-on for one cluster.
type Addon struct {
	// Name of the add-on.
	Name string
	// Namespace the add-on installs into.
	Namespace string
	// Spec is the add-on's config (prune and sync policy); Spec.DependsOn holds the
	// dependsOn of addon.yaml and cluster.yaml plus InferredDependsOn.
	Spec config.AddonSpec
	// InferredDependsOn are the add-ons this one syncs after because they render the
	// CustomResourceDefinitions of kinds it uses (and no dependsOn names them).
	InferredDependsOn []string
	// Chart is nil for a chart-less (kustomize only) add-on.
	Chart *ChartInfo
	// Objects are the non-hook objects in deterministic order.
	Objects []*unstructured.Unstructured
	// Hooks are the Helm hooks, test hooks excluded, ordered by weight then kind and name.
	Hooks []Hook
}

// Cluster is everything rendered for one cluster.
type Cluster struct {
	// Name of the cluster.
	Name string
	// KubernetesVersion is the cluster's minor, e.g. "1.34".
	KubernetesVersion string
	// Revision is the commit the config was read from; empty for a working tree.
	Revision string
	// Addons in dependsOn order (dependencies first), ties broken by name.
	Addons []Addon
	// Warnings are problems that did not stop the render, e.g. a Kubernetes minor newer than
	// addonsync knows; the CLI prints them on stderr.
	Warnings []string
}
