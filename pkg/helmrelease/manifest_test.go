package helmrelease

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// testMapper knows ConfigMaps, Services and Deployments (namespaced) and ClusterRoles and
// Namespaces (cluster-scoped).
func testMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	for _, gvk := range []schema.GroupVersionKind{
		{Version: "v1", Kind: "ConfigMap"}, {Version: "v1", Kind: "Service"}, {Group: "apps", Version: "v1", Kind: "Deployment"},
	} {
		m.Add(gvk, meta.RESTScopeNamespace)
	}
	m.Add(schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}, meta.RESTScopeRoot)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, meta.RESTScopeRoot)
	return m
}

const manifest = `---
# Source: web/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  replicas: "3"
---
# Source: web/templates/other-ns.yaml
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: elsewhere
spec:
  ports: [{port: 80}]
---
# Source: web/templates/empty.yaml
---
# Source: web/templates/role.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: web
  namespace: ignored-on-cluster-scoped
  annotations:
    helm.sh/resource-policy: keep
---
# Source: web/templates/crs.yaml
apiVersion: example.com/v1
kind: Gadget
metadata:
  name: g
---
# Source: web/templates/list.yaml
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    labels:
      app.kubernetes.io/managed-by: Helm
  spec:
    replicas: 3
`

func TestParseManifest(t *testing.T) {
	objs, err := parseManifest(testMapper(), manifest, "web")
	if err != nil {
		t.Fatal(err)
	}
	var got []ObjectID
	for _, o := range objs {
		got = append(got, IDOf(o))
	}
	want := []ObjectID{
		{Kind: "ConfigMap", Namespace: "web", Name: "cfg"},
		{Kind: "Service", Namespace: "elsewhere", Name: "web"},
		{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "web"},
		{Group: "example.com", Kind: "Gadget", Namespace: "web", Name: "g"}, // unknown kind: taken as namespaced
		{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if r, _, _ := unstructured.NestedInt64(objs[4].Object, "spec", "replicas"); r != 3 {
		t.Errorf("numbers decode as int64 like the API server's: replicas = %v", objs[4].Object["spec"])
	}
	t.Run("an object without a kind is an error", func(t *testing.T) {
		_, err := parseManifest(testMapper(), "---\n# Source: web/templates/x.yaml\napiVersion: v1\nmetadata:\n  name: x\n", "web")
		if err == nil || !strings.Contains(err.Error(), "Kind") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestRenderDiffers(t *testing.T) {
	objs, err := parseManifest(testMapper(), manifest, "web")
	if err != nil {
		t.Fatal(err)
	}
	rel := &Release{manifest: objs}
	withCopyOf := func(i int) func([]*unstructured.Unstructured) []*unstructured.Unstructured {
		return func(o []*unstructured.Unstructured) []*unstructured.Unstructured { return append(o, o[i].DeepCopy()) }
	}
	render := func(edit func([]*unstructured.Unstructured), grow ...func([]*unstructured.Unstructured) []*unstructured.Unstructured) []*unstructured.Unstructured {
		var out []*unstructured.Unstructured
		for _, o := range objs {
			// Round-trip through YAML as a render would, and label as addonsync does.
			b, _ := yaml.Marshal(o.Object)
			c := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(b, &c.Object); err != nil {
				t.Fatal(err)
			}
			l := c.GetLabels()
			if l == nil {
				l = map[string]string{}
			}
			l["app.kubernetes.io/managed-by"] = "addonsync"
			l["addonsync.io/addon"] = "web"
			c.SetLabels(l)
			out = append(out, c)
		}
		for _, g := range grow {
			out = g(out)
		}
		if edit != nil {
			edit(out)
		}
		return out
	}
	ignore := []string{"app.kubernetes.io/managed-by", "addonsync.io/addon"}
	cases := []struct {
		name string
		objs []*unstructured.Unstructured
		want bool
	}{
		{"same objects, addonsync's labels aside", render(nil), false},
		{"a value changed", render(func(o []*unstructured.Unstructured) {
			_ = unstructured.SetNestedField(o[0].Object, "4", "data", "replicas")
		}), true},
		{"an object less", render(func([]*unstructured.Unstructured) {})[1:], true},
		{"an object renamed", render(func(o []*unstructured.Unstructured) { o[0].SetName("cfg2") }), true},
		{"another label", render(func(o []*unstructured.Unstructured) { o[0].SetLabels(map[string]string{"team": "x"}) }), true},
		{"an object more", render(func(o []*unstructured.Unstructured) { o[0].SetName("cfg2") }, withCopyOf(0)), true},
		{"a CRD of the chart's crds/ directory (never in the manifest)", append(render(nil), crd("gadgets.example.com")), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rel.RenderDiffers(tc.objs, ignore...)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("RenderDiffers = %v, want %v", got, tc.want)
			}
		})
	}
}

func crd(name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("apiextensions.k8s.io/v1")
	u.SetKind("CustomResourceDefinition")
	u.SetName(name)
	return u
}
