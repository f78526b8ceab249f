package render

import (
	"fmt"
	"sort"
	"strings"
)

// MinMinor and MaxMinor bound the Kubernetes minors the API table knows (1.25 to 1.36).
const (
	MinMinor = 25
	MaxMinor = 36
)

// servedAPI is one group/version of the built-in Kubernetes API, the kinds it serves
// (those a chart may create), the minors that serve it by default, and its scope.
type servedAPI struct {
	groupVersion string
	// from is the first minor serving it by default (0: before 1.25); until is the first
	// minor that no longer serves it (0: still served in 1.36).
	from, until int
	// replacement says what to use once it is removed.
	replacement string
	namespaced  []string
	cluster     []string
}

// builtinAPIs is the table of what each minor serves. Alpha APIs and beta APIs that are off
// by default (every beta introduced since 1.24) are left out: a stock API server does not
// serve them.
var builtinAPIs = []servedAPI{
	{
		groupVersion: "v1",
		namespaced: []string{
			"Binding", "ConfigMap", "Endpoints", "Event", "LimitRange", "PersistentVolumeClaim", "Pod",
			"PodTemplate", "ReplicationController", "ResourceQuota", "Secret", "Service", "ServiceAccount",
		},
		cluster: []string{"ComponentStatus", "Namespace", "Node", "PersistentVolume"},
	},
	{
		groupVersion: "admissionregistration.k8s.io/v1",
		cluster:      []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"},
	},
	{
		groupVersion: "admissionregistration.k8s.io/v1", from: 30,
		cluster: []string{"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"},
	},
	{groupVersion: "apiextensions.k8s.io/v1", cluster: []string{"CustomResourceDefinition"}},
	{groupVersion: "apiregistration.k8s.io/v1", cluster: []string{"APIService"}},
	{groupVersion: "apps/v1", namespaced: []string{"ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"}},
	{groupVersion: "authentication.k8s.io/v1", namespaced: []string{"TokenRequest"}, cluster: []string{"TokenReview"}},
	{groupVersion: "authentication.k8s.io/v1", from: 28, cluster: []string{"SelfSubjectReview"}},
	{
		groupVersion: "authorization.k8s.io/v1", namespaced: []string{"LocalSubjectAccessReview"},
		cluster: []string{"SelfSubjectAccessReview", "SelfSubjectRulesReview", "SubjectAccessReview"},
	},
	{groupVersion: "autoscaling/v1", namespaced: []string{"HorizontalPodAutoscaler"}},
	{groupVersion: "autoscaling/v2", namespaced: []string{"HorizontalPodAutoscaler"}},
	{groupVersion: "autoscaling/v2beta2", until: 26, replacement: "autoscaling/v2", namespaced: []string{"HorizontalPodAutoscaler"}},
	{groupVersion: "batch/v1", namespaced: []string{"CronJob", "Job"}},
	{groupVersion: "certificates.k8s.io/v1", cluster: []string{"CertificateSigningRequest"}},
	{groupVersion: "coordination.k8s.io/v1", namespaced: []string{"Lease"}},
	{groupVersion: "discovery.k8s.io/v1", namespaced: []string{"EndpointSlice"}},
	{groupVersion: "events.k8s.io/v1", namespaced: []string{"Event"}},
	{
		groupVersion: "flowcontrol.apiserver.k8s.io/v1beta2", until: 29, replacement: "flowcontrol.apiserver.k8s.io/v1 (1.29+) or v1beta3",
		cluster: []string{"FlowSchema", "PriorityLevelConfiguration"},
	},
	{
		groupVersion: "flowcontrol.apiserver.k8s.io/v1beta3", from: 26, until: 32, replacement: "flowcontrol.apiserver.k8s.io/v1",
		cluster: []string{"FlowSchema", "PriorityLevelConfiguration"},
	},
	{groupVersion: "flowcontrol.apiserver.k8s.io/v1", from: 29, cluster: []string{"FlowSchema", "PriorityLevelConfiguration"}},
	{groupVersion: "networking.k8s.io/v1", namespaced: []string{"Ingress", "NetworkPolicy"}, cluster: []string{"IngressClass"}},
	{groupVersion: "networking.k8s.io/v1", from: 33, cluster: []string{"IPAddress", "ServiceCIDR"}},
	{groupVersion: "node.k8s.io/v1", cluster: []string{"RuntimeClass"}},
	{groupVersion: "policy/v1", namespaced: []string{"PodDisruptionBudget"}},
	{
		groupVersion: "rbac.authorization.k8s.io/v1", namespaced: []string{"Role", "RoleBinding"},
		cluster: []string{"ClusterRole", "ClusterRoleBinding"},
	},
	{
		groupVersion: "resource.k8s.io/v1", from: 34, namespaced: []string{"ResourceClaim", "ResourceClaimTemplate"},
		cluster: []string{"DeviceClass", "ResourceSlice"},
	},
	{groupVersion: "scheduling.k8s.io/v1", cluster: []string{"PriorityClass"}},
	{
		groupVersion: "storage.k8s.io/v1", namespaced: []string{"CSIStorageCapacity"},
		cluster: []string{"CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"},
	},
	{groupVersion: "storage.k8s.io/v1beta1", until: 27, replacement: "storage.k8s.io/v1", namespaced: []string{"CSIStorageCapacity"}},
	{groupVersion: "storage.k8s.io/v1", from: 34, cluster: []string{"VolumeAttributesClass"}},
}

// removedAPIs are group/version/Kinds removed before 1.25, kept so the error names the
// replacement.
var removedAPIs = map[string]string{
	"policy/v1beta1/PodSecurityPolicy":                                    "nothing (removed in 1.25): use Pod Security Admission namespace labels",
	"policy/v1beta1/PodDisruptionBudget":                                  "policy/v1",
	"batch/v1beta1/CronJob":                                               "batch/v1",
	"autoscaling/v2beta1/HorizontalPodAutoscaler":                         "autoscaling/v2",
	"discovery.k8s.io/v1beta1/EndpointSlice":                              "discovery.k8s.io/v1",
	"events.k8s.io/v1beta1/Event":                                         "events.k8s.io/v1",
	"node.k8s.io/v1beta1/RuntimeClass":                                    "node.k8s.io/v1",
	"networking.k8s.io/v1beta1/Ingress":                                   "networking.k8s.io/v1",
	"networking.k8s.io/v1beta1/IngressClass":                              "networking.k8s.io/v1",
	"extensions/v1beta1/Ingress":                                          "networking.k8s.io/v1",
	"extensions/v1beta1/Deployment":                                       "apps/v1",
	"extensions/v1beta1/DaemonSet":                                        "apps/v1",
	"apiextensions.k8s.io/v1beta1/CustomResourceDefinition":               "apiextensions.k8s.io/v1",
	"admissionregistration.k8s.io/v1beta1/ValidatingWebhookConfiguration": "admissionregistration.k8s.io/v1",
	"admissionregistration.k8s.io/v1beta1/MutatingWebhookConfiguration":   "admissionregistration.k8s.io/v1",
	"rbac.authorization.k8s.io/v1beta1/ClusterRole":                       "rbac.authorization.k8s.io/v1",
	"rbac.authorization.k8s.io/v1beta1/ClusterRoleBinding":                "rbac.authorization.k8s.io/v1",
	"rbac.authorization.k8s.io/v1beta1/Role":                              "rbac.authorization.k8s.io/v1",
	"rbac.authorization.k8s.io/v1beta1/RoleBinding":                       "rbac.authorization.k8s.io/v1",
	"scheduling.k8s.io/v1beta1/PriorityClass":                             "scheduling.k8s.io/v1",
	"storage.k8s.io/v1beta1/StorageClass":                                 "storage.k8s.io/v1",
	"storage.k8s.io/v1beta1/CSIDriver":                                    "storage.k8s.io/v1",
	"certificates.k8s.io/v1beta1/CertificateSigningRequest":               "certificates.k8s.io/v1",
	"coordination.k8s.io/v1beta1/Lease":                                   "coordination.k8s.io/v1",
	"apiregistration.k8s.io/v1beta1/APIService":                           "apiregistration.k8s.io/v1",
	"flowcontrol.apiserver.k8s.io/v1beta1/FlowSchema":                     "flowcontrol.apiserver.k8s.io/v1",
	"flowcontrol.apiserver.k8s.io/v1beta1/PriorityLevelConfiguration":     "flowcontrol.apiserver.k8s.io/v1",
}

// apiSet is what one minor serves: "group/version" and "group/version/Kind" entries, and
// the scope of every kind.
type apiSet struct {
	minor  int
	served map[string]bool
	// namespaced maps "group/Kind" to whether the kind is namespaced.
	namespaced map[string]bool
	// replacement maps a removed "group/version/Kind" to what replaces it.
	replacement map[string]string
}

// builtinAPISet returns what Kubernetes 1.<minor> serves.
func builtinAPISet(minor int) (*apiSet, error) {
	if minor < MinMinor || minor > MaxMinor {
		return nil, fmt.Errorf("kubernetes 1.%d: addonsync knows the APIs of 1.%d to 1.%d (use a supported minor, or upgrade addonsync)", minor, MinMinor, MaxMinor)
	}
	s := &apiSet{minor: minor, served: map[string]bool{}, namespaced: map[string]bool{}, replacement: map[string]string{}}
	for gvk, repl := range removedAPIs {
		s.replacement[gvk] = repl
	}
	for _, a := range builtinAPIs {
		group := groupOf(a.groupVersion)
		for _, k := range a.namespaced {
			s.namespaced[group+"/"+k] = true
		}
		for _, k := range a.cluster {
			s.namespaced[group+"/"+k] = false
		}
		if (a.from != 0 && minor < a.from) || (a.until != 0 && minor >= a.until) {
			if a.until != 0 && minor >= a.until {
				for _, k := range append(append([]string{}, a.namespaced...), a.cluster...) {
					s.replacement[a.groupVersion+"/"+k] = fmt.Sprintf("%s (removed in 1.%d)", a.replacement, a.until)
				}
			}
			continue
		}
		s.served[a.groupVersion] = true
		for _, k := range append(append([]string{}, a.namespaced...), a.cluster...) {
			s.served[a.groupVersion+"/"+k] = true
		}
	}
	return s, nil
}

// withCRDs returns a copy of s that also serves the given custom resource kinds.
func (s *apiSet) withCRDs(crds []crdKind) *apiSet {
	out := &apiSet{
		minor: s.minor, served: make(map[string]bool, len(s.served)+2*len(crds)),
		namespaced: make(map[string]bool, len(s.namespaced)+len(crds)), replacement: s.replacement,
	}
	for k, v := range s.served {
		out.served[k] = v
	}
	for k, v := range s.namespaced {
		out.namespaced[k] = v
	}
	for _, c := range crds {
		out.served[c.groupVersion] = true
		out.served[c.groupVersion+"/"+c.kind] = true
		if _, builtin := s.namespaced[groupOf(c.groupVersion)+"/"+c.kind]; !builtin {
			out.namespaced[groupOf(c.groupVersion)+"/"+c.kind] = c.namespaced
		}
	}
	return out
}

// versionSet lists the served entries, sorted, as Helm's Capabilities.APIVersions.
func (s *apiSet) versionSet() []string {
	out := make([]string, 0, len(s.served))
	for k := range s.served {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// serves reports whether apiVersion/kind is served.
func (s *apiSet) serves(apiVersion, kind string) bool { return s.served[apiVersion+"/"+kind] }

// isNamespaced reports the scope of a kind; unknown kinds are namespaced.
func (s *apiSet) isNamespaced(apiVersion, kind string) bool {
	ns, ok := s.namespaced[groupOf(apiVersion)+"/"+kind]
	return !ok || ns
}

// notServedHint says what to use instead of apiVersion/kind.
func (s *apiSet) notServedHint(apiVersion, kind string) string {
	if r, ok := s.replacement[apiVersion+"/"+kind]; ok {
		return "use " + r
	}
	for _, a := range builtinAPIs {
		if a.from > s.minor && groupOf(a.groupVersion) == groupOf(apiVersion) {
			for _, k := range append(append([]string{}, a.namespaced...), a.cluster...) {
				if k == kind {
					return fmt.Sprintf("%s/%s is served from 1.%d on", a.groupVersion, kind, a.from)
				}
			}
		}
	}
	return "install its CustomResourceDefinition with an add-on of this cluster, or fix the apiVersion"
}

func groupOf(apiVersion string) string {
	if g, _, ok := strings.Cut(apiVersion, "/"); ok {
		return g
	}
	return ""
}
