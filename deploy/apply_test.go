package deploy_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/addonsync/addonsync/internal/testenv"
)

const fieldManager = "addonsync-deploy-test"

// warnings collects the API server's warnings, among them Pod Security admission's.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.msgs
	w.msgs = nil
	return out
}

// applier server-side applies objects to the test API server.
type applier struct {
	dyn      dynamic.Interface
	mapper   *restmapper.DeferredDiscoveryRESTMapper
	warnings *warnings
}

func newApplier(t *testing.T) *applier {
	t.Helper()
	testenv.Require(t, env)
	w := &warnings{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WarningHandler = w
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &applier{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), warnings: w}
}

// apply server-side applies o, for real or with dryRun=All.
func (a *applier) apply(ctx context.Context, o *unstructured.Unstructured, dryRun bool) error {
	gvk := o.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	var ri dynamic.ResourceInterface = a.dyn.Resource(m.Resource)
	if m.Scope.Name() == "namespace" {
		ri = a.dyn.Resource(m.Resource).Namespace(o.GetNamespace())
	}
	opts := metav1.ApplyOptions{FieldManager: fieldManager, Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err = ri.Apply(ctx, o.GetName(), o, opts)
	return err
}

// testServerAccepts applies the Namespaces for real (namespaced objects cannot be
// dry-run into a namespace that does not exist, and the Namespace's Pod Security labels
// must be in force), then every object with dryRun=All: the API server validates each
// against its schema and runs admission, Pod Security "restricted" included, whose
// objections come back as warnings.
func testServerAccepts(t *testing.T, objs objects) {
	a := newApplier(t)
	ctx := t.Context()
	for _, ns := range objs.ofKind("Namespace") {
		if err := a.apply(ctx, ns, false); err != nil {
			t.Fatalf("Namespace/%s: apply failed: %v", ns.GetName(), err)
		}
	}
	a.warnings.take()
	for _, o := range objs {
		subject := o.GetKind() + "/" + o.GetName()
		if err := a.apply(ctx, o, true); err != nil {
			t.Errorf("%s: server-side apply (dryRun=All) failed: %v", subject, err)
		}
		for _, w := range a.warnings.take() {
			t.Errorf("%s: API server warning: %s", subject, w)
		}
	}
}

// TestServerWarnsAboutUnsafePods proves that testServerAccepts would catch a pod template
// that breaks the restricted Pod Security profile: the Namespace's labels make the API
// server warn about it.
func TestServerWarnsAboutUnsafePods(t *testing.T) {
	objs := build(t, ".")
	a := newApplier(t)
	ctx := t.Context()
	for _, ns := range objs.ofKind("Namespace") {
		if err := a.apply(ctx, ns, false); err != nil {
			t.Fatalf("Namespace/%s: apply failed: %v", ns.GetName(), err)
		}
	}
	cj := objs.ofKind("CronJob")[0].DeepCopy()
	containers, _, _ := unstructured.NestedSlice(cj.Object, "spec", "jobTemplate", "spec", "template", "spec", "containers")
	c := containers[0].(map[string]any)
	sc := c["securityContext"].(map[string]any)
	sc["allowPrivilegeEscalation"] = true
	sc["capabilities"] = map[string]any{"add": []any{"NET_ADMIN"}}
	if err := unstructured.SetNestedSlice(cj.Object, containers, "spec", "jobTemplate", "spec", "template", "spec", "containers"); err != nil {
		t.Fatal(err)
	}
	a.warnings.take()
	if err := a.apply(ctx, cj, true); err != nil {
		t.Fatalf("CronJob/%s: server-side apply (dryRun=All) failed: %v", cj.GetName(), err)
	}
	got := strings.Join(a.warnings.take(), "\n")
	for _, want := range []string{"restricted", "allowPrivilegeEscalation", "NET_ADMIN"} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings for an unsafe CronJob lack %q; got:\n%s", want, got)
		}
	}
}
