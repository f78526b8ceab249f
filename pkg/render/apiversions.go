package render

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsv1beta1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/addonsync/addonsync/pkg/config"
)

// MinMinor is the oldest Kubernetes minor addonsync renders for (config.MinMinor).
const MinMinor = config.MinMinor

// knownAPI is one group/version/Kind of the built-in Kubernetes API as k8s.io/api describes
// it: when a stock API server starts and stops serving it, and what replaces it.
type knownAPI struct {
	groupVersion, kind string
	namespaced         bool
	// from is the first minor serving it by default; until the first minor that no longer
	// serves it (0: not removed). offByDefault is set for alpha APIs and for beta APIs
	// introduced since 1.24, which a stock API server does not serve.
	from, until  int
	offByDefault bool
	replacement  string
}

// apiKnowledge is everything k8s.io/api (the version in go.mod) says about the built-in API.
type apiKnowledge struct {
	apis []knownAPI
	// newest is the newest Kubernetes minor k8s.io/api describes (the newest API it knows
	// was introduced in it).
	newest int
}

// Newest returns the newest Kubernetes minor addonsync's k8s.io/api describes; a newer
// minor renders with this knowledge and a warning.
func Newest() int { return knowledge().newest }

// lifecycle interfaces of k8s.io/api's zz_generated.prerelease-lifecycle.go.
type (
	apiIntroduced  interface{ APILifecycleIntroduced() (major, minor int) }
	apiRemoved     interface{ APILifecycleRemoved() (major, minor int) }
	apiReplacement interface {
		APILifecycleReplacement() schema.GroupVersionKind
	}
)

// defaultOnBetas are beta group/versions introduced since 1.24 that Kubernetes nevertheless
// serves by default (the exceptions to KEP-3136).
var defaultOnBetas = map[string]bool{
	"flowcontrol.apiserver.k8s.io/v1beta3": true,
	"authentication.k8s.io/v1beta1":        true,
}

// gaOutsideClientGo are the GA APIs every supported minor serves that are in neither
// client-go's nor apiextensions' scheme (kube-aggregator's APIService); cluster-scoped.
var gaOutsideClientGo = []knownAPI{
	{groupVersion: "apiregistration.k8s.io/v1", kind: "APIService"},
}

// droppedFromLibrary are APIs a supported minor still serves whose types k8s.io/api has
// already deleted, with the lifecycle their generated methods had.
var droppedFromLibrary = []knownAPI{
	{groupVersion: "autoscaling/v2beta2", kind: "HorizontalPodAutoscaler", namespaced: true, from: 12, until: 26, replacement: "autoscaling/v2"},
}

// clusterScopedWithoutClient are cluster-scoped kinds client-go has no typed client for.
var clusterScopedWithoutClient = map[string]bool{"apiextensions.k8s.io/CustomResourceDefinition": true}

// knownScheme registers the types of client-go's clientset and of apiextensions; a fresh
// scheme, so what other packages add to client-go's global scheme does not leak in.
func knownScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, apiextensionsv1beta1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err) // registering generated types cannot fail
		}
	}
	return s
}

// notResources are registered kinds that no API server serves as a resource.
var notResources = map[string]bool{"v1/RangeAllocation": true, "internal.apiserver.k8s.io/v1alpha1/StorageVersion": true}

// removedBeforeKnown names what replaces kinds k8s.io/api no longer has.
var removedBeforeKnown = map[string]string{
	"policy/v1beta1/PodSecurityPolicy": "nothing (removed in 1.25): use Pod Security Admission namespace labels",
}

var knowledge = sync.OnceValue(loadKnowledge)

// loadKnowledge reads every type registered in client-go's scheme, its lifecycle from the
// generated APILifecycle methods and its scope from the typed clients.
func loadKnowledge() *apiKnowledge {
	scopes := clientScopes()
	k := &apiKnowledge{}
	for gvk, typ := range knownScheme().AllKnownTypes() {
		gv := gvk.GroupVersion().String()
		if _, ok := typ.FieldByName("ObjectMeta"); !ok || strings.HasSuffix(gvk.Kind, "List") || notResources[gv+"/"+gvk.Kind] {
			continue
		}
		a := knownAPI{groupVersion: gv, kind: gvk.Kind, namespaced: !clusterScopedWithoutClient[gvk.Group+"/"+gvk.Kind]}
		if ns, ok := scopes[typ]; ok {
			a.namespaced = ns
		}
		obj := reflect.New(typ).Interface()
		if i, ok := obj.(apiIntroduced); ok {
			_, a.from = i.APILifecycleIntroduced()
			k.newest = max(k.newest, a.from)
		}
		if r, ok := obj.(apiRemoved); ok {
			_, a.until = r.APILifecycleRemoved()
		}
		if r, ok := obj.(apiReplacement); ok {
			if rep := r.APILifecycleReplacement(); !rep.Empty() {
				a.replacement = rep.GroupVersion().String()
			}
		}
		switch v := gvk.Version; {
		case strings.Contains(v, "alpha"):
			a.offByDefault = true
		case strings.Contains(v, "beta"):
			a.offByDefault = a.from >= 24 && !defaultOnBetas[gv]
		}
		k.apis = append(k.apis, a)
	}
	k.apis = append(append(k.apis, gaOutsideClientGo...), droppedFromLibrary...)
	sort.Slice(k.apis, func(i, j int) bool {
		if k.apis[i].groupVersion != k.apis[j].groupVersion {
			return k.apis[i].groupVersion < k.apis[j].groupVersion
		}
		return k.apis[i].kind < k.apis[j].kind
	})
	return k
}

// clientScopes maps each API type with a typed client in client-go to whether it is
// namespaced: the client's constructor takes a namespace exactly for namespaced resources.
func clientScopes() map[reflect.Type]bool {
	out := map[reflect.Type]bool{}
	clientset := reflect.TypeFor[kubernetes.Interface]()
	for i := range clientset.NumMethod() {
		m := clientset.Method(i).Type
		if m.NumOut() != 1 || m.Out(0).Kind() != reflect.Interface {
			continue
		}
		group := m.Out(0)
		for j := range group.NumMethod() {
			r := group.Method(j).Type
			if r.NumOut() != 1 || r.Out(0).Kind() != reflect.Interface {
				continue
			}
			create, ok := r.Out(0).MethodByName("Create")
			if !ok || create.Type.NumOut() == 0 || create.Type.Out(0).Kind() != reflect.Pointer {
				continue
			}
			out[create.Type.Out(0).Elem()] = r.NumIn() == 1
		}
	}
	return out
}

// apiSet is what one minor serves: "group/version" and "group/version/Kind" entries, and
// the scope of every kind.
type apiSet struct {
	minor  int
	served map[string]bool
	// namespaced maps "group/Kind" to whether the kind is namespaced.
	namespaced map[string]bool
}

// builtinAPISet returns what Kubernetes 1.<minor> serves by default. For a minor newer than
// k8s.io/api describes it returns the newest knowledge and a warning naming what may be
// missing.
func builtinAPISet(minor int) (*apiSet, string, error) {
	k := knowledge()
	if minor < MinMinor {
		return nil, "", fmt.Errorf("kubernetes 1.%d: addonsync renders for Kubernetes 1.%d and newer (upgrade the cluster and set a supported spec.kubernetesVersion)", minor, MinMinor)
	}
	warning := ""
	if minor > k.newest {
		warning = fmt.Sprintf("kubernetes 1.%d is newer than the newest minor addonsync knows (1.%d, from k8s.io/api): rendering with the APIs of 1.%d, "+
			"so APIs added in 1.%d to 1.%d are missing from Capabilities.APIVersions unless the cluster's discovery lists them (upgrade addonsync)",
			minor, k.newest, k.newest, k.newest+1, minor)
	}
	s := &apiSet{minor: minor, served: map[string]bool{}, namespaced: map[string]bool{}}
	for _, a := range k.apis {
		s.namespaced[groupOf(a.groupVersion)+"/"+a.kind] = a.namespaced
	}
	for _, a := range k.apis {
		if a.offByDefault || minor < a.from || (a.until != 0 && minor >= a.until) {
			continue
		}
		s.served[a.groupVersion] = true
		s.served[a.groupVersion+"/"+a.kind] = true
	}
	return s, warning, nil
}

// withDiscovery returns a copy of s that also serves what the cluster's discovery lists
// (subresources left out), with the scopes discovery gives.
func (s *apiSet) withDiscovery(lists []*metav1.APIResourceList) *apiSet {
	out := s.withCRDs(nil)
	for _, l := range lists {
		if l == nil {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || r.Kind == "" {
				continue
			}
			out.served[l.GroupVersion] = true
			out.served[l.GroupVersion+"/"+r.Kind] = true
			out.namespaced[groupOf(l.GroupVersion)+"/"+r.Kind] = r.Namespaced
		}
	}
	return out
}

// withCRDs returns a copy of s that also serves the given custom resource kinds.
func (s *apiSet) withCRDs(crds []crdKind) *apiSet {
	out := &apiSet{
		minor: s.minor, served: make(map[string]bool, len(s.served)+2*len(crds)),
		namespaced: make(map[string]bool, len(s.namespaced)+len(crds)),
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
	if r, ok := removedBeforeKnown[apiVersion+"/"+kind]; ok {
		return "use " + r
	}
	for _, a := range knowledge().apis {
		if a.groupVersion != apiVersion || a.kind != kind {
			continue
		}
		switch {
		case a.until != 0 && s.minor >= a.until && a.replacement != "":
			return fmt.Sprintf("use %s (%s was removed in 1.%d)", a.replacement, apiVersion, a.until)
		case a.until != 0 && s.minor >= a.until:
			return fmt.Sprintf("%s was removed in 1.%d", apiVersion, a.until)
		case a.offByDefault:
			return fmt.Sprintf("%s is not served by default (alpha, or a beta introduced since 1.24): use a GA version", apiVersion)
		case s.minor < a.from:
			return fmt.Sprintf("%s/%s is served from 1.%d on", apiVersion, kind, a.from)
		}
	}
	for _, a := range knowledge().apis {
		if groupOf(a.groupVersion) == groupOf(apiVersion) && a.kind == kind && !a.offByDefault && s.minor >= a.from && (a.until == 0 || s.minor < a.until) {
			return "use " + a.groupVersion
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
