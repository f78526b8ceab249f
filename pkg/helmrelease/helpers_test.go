package helmrelease

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	gosync "sync"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/internal/testutil/helmcli"
	"github.com/addonsync/addonsync/pkg/objref"
)

// env is the real kube-apiserver + etcd; helmCLI the real helm CLI (hack/build-helm.sh),
// set by requireCluster for the running test.
var (
	env     *testenv.Env
	helmCLI *helmcli.CLI
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

// requireCluster fails (CI) or skips the test without the test cluster or the helm CLI.
func requireCluster(t *testing.T) {
	t.Helper()
	testenv.Require(t, env)
	helmCLI = helmcli.New(t, env.Kubeconfig)
}

// helm runs the real helm CLI against the test cluster; driver "" is Helm's default (secret).
func helm(t *testing.T, driver Driver, args ...string) (string, error) {
	t.Helper()
	return helmCLI.WithDriver(string(driver)).Run(t, args...)
}

// mustHelm runs helm and fails the test when it fails.
func mustHelm(t *testing.T, driver Driver, args ...string) string {
	t.Helper()
	return helmCLI.WithDriver(string(driver)).Must(t, args...)
}

// chartFile writes c as a .tgz helm can install and returns its path.
func chartFile(t *testing.T, c chartrepo.Chart) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), c.Name+"-"+c.Version+".tgz")
	if err := os.WriteFile(p, chartrepo.BuildChart(t, c), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// webChart looks like the charts addonsync runs: the usual Helm labels, a Deployment (its
// selector is immutable), a Service, a ServiceAccount, a cluster-scoped ClusterRole, values
// rendered as "false" and 0, an optional extra ConfigMap, and ConfigMap hooks (Helm waits
// for Job hooks, and no controller runs Jobs here) on install and upgrade.
func webChart(name, version string) chartrepo.Chart {
	labels := `  labels:
    app.kubernetes.io/name: web
    app.kubernetes.io/instance: {{ .Release.Name }}
    app.kubernetes.io/managed-by: {{ .Release.Service }}
    helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
`
	return chartrepo.Chart{Name: name, Version: version, AppVersion: "4.5.6", Files: map[string]string{
		"values.yaml": "replicas: 2\nextra: false\ndebug: false\nport: 80\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\n" + labels +
			"data:\n  replicas: {{ .Values.replicas | quote }}\n  debug: {{ .Values.debug | quote }}\n  retries: \"0\"\n",
		"templates/extra.yaml": "{{- if .Values.extra }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-extra\n" + labels + "data:\n  extra: \"true\"\n{{- end }}\n",
		"templates/sa.yaml":    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Release.Name }}\n" + labels,
		"templates/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n" + labels +
			"spec:\n  selector:\n    app.kubernetes.io/name: web\n  ports:\n  - name: http\n    port: {{ .Values.port }}\n    targetPort: 8080\n",
		"templates/role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {{ .Release.Namespace }}-{{ .Release.Name }}\n" + labels +
			"rules:\n- apiGroups: [\"\"]\n  resources: [configmaps]\n  verbs: [get, list]\n",
		"templates/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n" + labels +
			"spec:\n  replicas: {{ .Values.replicas }}\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: web\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: web\n" +
			"    spec:\n      serviceAccountName: {{ .Release.Name }}\n      automountServiceAccountToken: false\n      containers:\n      - name: web\n        image: registry.example.com/web:{{ .Chart.AppVersion }}\n        ports:\n        - containerPort: 8080\n",
		"templates/hooks.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-pre-install\n  annotations:\n    helm.sh/hook: pre-install\n    helm.sh/hook-weight: \"-5\"\ndata:\n  ran: \"true\"\n" +
			"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-post-upgrade\n  annotations:\n    helm.sh/hook: post-install,post-upgrade\n    helm.sh/hook-delete-policy: before-hook-creation\ndata:\n  ran: \"true\"\n",
	}}
}

// webObjects are the non-hook objects webChart renders for release name in ns.
func webObjects(name, ns string, extra bool) []ObjectID {
	ids := []ObjectID{
		{Kind: "ConfigMap", Namespace: ns, Name: name + "-config"},
		{Kind: "Service", Namespace: ns, Name: name},
		{Kind: "ServiceAccount", Namespace: ns, Name: name},
		{Group: "apps", Kind: "Deployment", Namespace: ns, Name: name},
		{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: ns + "-" + name},
	}
	if extra {
		ids = append(ids, ObjectID{Kind: "ConfigMap", Namespace: ns, Name: name + "-extra"})
	}
	sort.Slice(ids, func(i, j int) bool { return objref.Less(ids[i], ids[j]) })
	return ids
}

// counter counts the requests of a client, by method.
type counter struct {
	mu   gosync.Mutex
	reqs []string
}

func (c *counter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		c.mu.Lock()
		q := ""
		if req.URL.RawQuery != "" {
			q = "?" + req.URL.RawQuery
		}
		c.reqs = append(c.reqs, req.Method+" "+req.URL.Path+q)
		c.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

// take returns the requests so far and forgets them.
func (c *counter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.reqs
	c.reqs = nil
	return out
}

// writes returns the requests that are not GET (nor HEAD).
func writes(reqs []string) []string {
	var out []string
	for _, r := range reqs {
		if !strings.HasPrefix(r, "GET ") && !strings.HasPrefix(r, "HEAD ") {
			out = append(out, r)
		}
	}
	return out
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// clients are the clients a test uses; every request they make is counted.
type clients struct {
	kube   kubernetes.Interface
	dyn    dynamic.Interface
	mapper meta.ResettableRESTMapper
	count  *counter
}

func newClients(t *testing.T) *clients {
	t.Helper()
	c := &clients{count: &counter{}}
	cfg := rest.CopyConfig(env.Config)
	cfg.WrapTransport = c.count.wrap
	var err error
	if c.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if c.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	k, err := kubernetes.NewForConfig(env.Config) // discovery is not counted
	if err != nil {
		t.Fatal(err)
	}
	c.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(k.Discovery()))
	return c
}

// get reads the live object id (at the version the mapper prefers).
func (c *clients) get(t *testing.T, id ObjectID) *unstructured.Unstructured {
	t.Helper()
	m, err := c.mapper.RESTMapping(id.GroupKind())
	if err != nil {
		t.Fatal(err)
	}
	ri := dynamic.ResourceInterface(c.dyn.Resource(m.Resource))
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ri = c.dyn.Resource(m.Resource).Namespace(id.Namespace)
	}
	u, err := ri.Get(context.Background(), id.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return u
}

// namespace creates a namespace for the test and, at its end, removes the Helm release
// records left in it, so `helm list -A` only shows the current test's.
func namespace(t *testing.T) string {
	t.Helper()
	ns := env.Namespace(t)
	t.Cleanup(func() {
		k, err := kubernetes.NewForConfig(env.Config)
		if err != nil {
			return
		}
		ctx := context.Background()
		sel := metav1.ListOptions{LabelSelector: LabelOwner + "=" + OwnerHelm}
		_ = k.CoreV1().Secrets(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, sel)
		_ = k.CoreV1().ConfigMaps(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, sel)
	})
	return ns
}
