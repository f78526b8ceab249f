package sync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	gosync "sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/addonsync/addonsync/internal/kube"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

// fixture reads testdata/<name>.yaml, substituting ${NS} and ${GROUP}.
func fixture(t testing.TB, name string, vars map[string]string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for k, v := range vars {
		s = strings.ReplaceAll(s, "${"+k+"}", v)
	}
	objs, err := decodeObjects([]byte(s))
	if err != nil {
		t.Fatalf("testdata/%s.yaml: %v", name, err)
	}
	return objs
}

func decodeObjects(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		if len(obj) > 0 {
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
}

// addon builds a rendered add-on.
func addon(name, ns string, objs []*unstructured.Unstructured, deps ...string) render.Addon {
	return render.Addon{Name: name, Namespace: ns, Spec: config.AddonSpec{Namespace: ns, DependsOn: deps}, Objects: objs}
}

func without(objs []*unstructured.Unstructured, drop ...string) []*unstructured.Unstructured {
	skip := map[string]bool{}
	for _, d := range drop {
		skip[d] = true
	}
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if !skip[IDOf(o).String()] {
			out = append(out, o)
		}
	}
	return out
}

func find(t testing.TB, objs []*unstructured.Unstructured, subject string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if IDOf(o).String() == subject {
			return o
		}
	}
	t.Fatalf("%s not in fixture", subject)
	return nil
}

func clone(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		out[i] = o.DeepCopy()
	}
	return out
}

// request is one HTTP request the manager sent.
type request struct {
	Method string
	Path   string
	DryRun bool
}

func (r request) String() string { return r.Method + " " + r.Path }

// recorder records requests through rest.Config.WrapTransport and can cancel a context after
// a number of writes.
type recorder struct {
	mu          gosync.Mutex
	reqs        []request
	cancelAfter int
	cancel      context.CancelFunc
}

func (rec *recorder) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		r := request{Method: req.Method, Path: req.URL.Path, DryRun: req.URL.Query().Get("dryRun") != ""}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, r)
		if rec.cancel != nil && isWrite(r) && len(writes(rec.reqs)) >= rec.cancelAfter {
			rec.cancel()
		}
		rec.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

func (rec *recorder) reset() []request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := rec.reqs
	rec.reqs = nil
	return out
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func isWrite(r request) bool {
	switch r.Method {
	case http.MethodPatch, http.MethodPut, http.MethodPost, http.MethodDelete:
		return true
	}
	return false
}

func writes(reqs []request) []request {
	var out []request
	for _, r := range reqs {
		if isWrite(r) {
			out = append(out, r)
		}
	}
	return out
}

// newTestManager returns a manager whose requests rec records, with its own inventory namespace.
func newTestManager(t testing.TB, ns string, rec *recorder) *Manager {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	// The rate limits the CLI uses (internal/kube), not the test cluster's.
	cfg.QPS, cfg.Burst = kube.DefaultOptions().QPS, kube.DefaultOptions().Burst
	if rec != nil {
		cfg.WrapTransport = rec.wrap
	}
	o := DefaultManagerOptions()
	o.InventoryNamespace = ns + "-inv"
	o.Tooling = "addonsync/test"
	if os.Getenv("ADDONSYNC_TEST_LOG") != "" {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	m, err := NewManager(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func syncOpts() SyncOptions {
	o := DefaultSyncOptions()
	o.Wait = false // no controllers run: Deployments never become available
	return o
}

func dyn(t testing.TB) dynamic.Interface {
	t.Helper()
	d, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// get reads an object of the fixture's kind; nil when it does not exist (or is being deleted).
func get(t testing.TB, m *Manager, obj *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	ri, err := m.resourceFor(obj)
	if err != nil {
		t.Fatal(err)
	}
	u, err := ri.Get(context.Background(), obj.GetName(), metav1.GetOptions{})
	if err != nil || u.GetDeletionTimestamp() != nil {
		return nil
	}
	return u
}

// actions maps subjects to actions, for cmp.Diff.
func actions(cs ChangeSet) map[string]Action {
	out := map[string]Action{}
	for _, e := range cs.Entries {
		out[e.Subject] = e.Action
	}
	return out
}

// allAs maps every object's subject to a.
func allAs(objs []*unstructured.Unstructured, a Action) map[string]Action {
	out := map[string]Action{}
	for _, o := range objs {
		out[IDOf(o).String()] = a
	}
	return out
}

// members lists, with the manager's inventory, the subjects an add-on owns, sorted.
func members(t testing.TB, m *Manager, addon string) []string {
	t.Helper()
	inv, err := m.Inventory(context.Background(), addon)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mem := range inv.Members {
		out = append(out, mem.ID.String())
	}
	sort.Strings(out)
	return out
}

func subjects(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, IDOf(o).String())
	}
	sort.Strings(out)
	return out
}

// bigCRD returns a CRD whose openAPIV3Schema makes it about size bytes.
func bigCRD(group, plural, kind string, size int) *unstructured.Unstructured {
	props := map[string]any{}
	desc := strings.Repeat("This field is described at length, as generated CRDs are. ", 8)
	for i := 0; size > 0; i++ {
		props[fmt.Sprintf("field%05d", i)] = map[string]any{"type": "string", "description": desc}
		size -= len(desc) + 60
	}
	crd := map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": plural + "." + group},
		"spec": map[string]any{
			"group": group,
			"scope": "Namespaced",
			"names": map[string]any{"kind": kind, "plural": plural, "singular": strings.ToLower(kind), "listKind": kind + "List"},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"spec": map[string]any{"type": "object", "properties": props},
					},
				}},
			}},
		},
	}
	return &unstructured.Unstructured{Object: crd}
}
