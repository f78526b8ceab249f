package render

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/pkg/config"
)

// helmBin is the real helm CLI for the parity test: $HELM_BIN, or built by
// hack/build-helm.sh in CI (CI=true), or found on PATH or in the tools cache otherwise.
var helmBin string

func TestMain(m *testing.M) {
	helmBin = findHelm()
	os.Exit(m.Run())
}

func findHelm() string {
	if p := os.Getenv("HELM_BIN"); p != "" {
		return p
	}
	if os.Getenv("CI") == "true" {
		out, err := exec.Command("../../hack/build-helm.sh").Output()
		if err != nil {
			fmt.Fprintf(os.Stderr, "hack/build-helm.sh: %v\n", err)
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	// What hack/build-helm.sh builds, if it ran before.
	cache, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	matches, _ := filepath.Glob(filepath.Join(cache, "addonsync", "tools", "helm-*", "helm"))
	if len(matches) > 0 {
		sort.Strings(matches)
		return matches[len(matches)-1]
	}
	return ""
}

// parityCase renders one chart with addonsync and with `helm template`.
type parityCase struct {
	name          string
	chart         chartrepo.Chart
	minor         string
	addonValues   string
	clusterValues string
}

func parityCases() []parityCase {
	local := umbrellaChart
	local.Name = "local"
	crds := chartrepo.Chart{Name: "crds", Version: "1.0.0", Files: map[string]string{"templates/crds.yaml": gadgetCRD}}
	values := chartrepo.Chart{Name: "v", Version: "1.0.0", Files: map[string]string{
		"values.yaml":       "a: 1\nnested:\n  keep: k\n  drop: d\n  list: [1, 2]\nother: o\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: v\ndata:\n  values: {{ toJson .Values | quote }}\n",
	}}
	return []parityCase{
		{
			name: "web on 1.34 with layered values", chart: webChart, minor: "1.34",
			addonValues: "replicas: 2\nextraLabels:\n  team: platform\n", clusterValues: "replicas: 3\nresources:\n  limits:\n    memory: null\n",
		},
		{name: "web on 1.31", chart: webChart, minor: "1.31"},
		{name: "umbrella with defaults", chart: umbrellaChart, minor: "1.34"},
		{
			name: "umbrella with nested condition and tag on", chart: umbrellaChart, minor: "1.34",
			clusterValues: "a:\n  c:\n    enabled: true\ntags:\n  extras: true\n",
		},
		{name: "umbrella with a condition off", chart: umbrellaChart, minor: "1.30", addonValues: "a:\n  enabled: false\n"},
		{name: "templated CRDs", chart: crds, minor: "1.34"},
		{
			name: "values with nulls", chart: values, minor: "1.34",
			addonValues: "a: 2\nnested:\n  list: [3]\n  added: x\nother: null\n", clusterValues: "nested:\n  drop: null\n  added: z\n",
		},
		{name: "big chart", chart: bigChart(60), minor: "1.33"},
		{name: "labels as the chart sets them", chart: labelsChart, minor: "1.37"},
	}
}

// labelsChart sets managed-by to the release service (Helm) on one object and no labels
// on another: addonsync must keep both as they are.
var labelsChart = chartrepo.Chart{Name: "labels", Version: "1.0.0", Files: map[string]string{
	"templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: labelled
  labels:
    app.kubernetes.io/managed-by: {{ .Release.Service }}
    app.kubernetes.io/instance: {{ .Release.Name }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: bare
`,
}}

// TestHelmParity checks that addonsync renders the same objects as `helm template
// --kube-version v1.NN.0 --include-crds`, labels included, ignoring only the namespace
// addonsync fills in on namespaced objects. Test hooks, which addonsync
// drops, are dropped from helm's output too. The APIVersions exception: helm template
// serves every group/version its client library knows on top of --api-versions, addonsync
// serves exactly the minor's, so the cases here do not probe for built-in APIs.
func TestHelmParity(t *testing.T) {
	if helmBin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no helm binary in CI: hack/build-helm.sh failed (see above) and HELM_BIN is unset")
		}
		t.Skip("helm not found: set HELM_BIN or run hack/build-helm.sh")
	}
	r := newTestRenderer(t)
	for _, tc := range parityCases() {
		t.Run(tc.name, func(t *testing.T) {
			ours := renderParityCase(t, r, tc)
			theirs := helmTemplateCLI(t, tc)
			normalize(ours, theirs)
			if diff := cmp.Diff(objectMaps(theirs), objectMaps(ours)); diff != "" {
				t.Errorf("helm template (-want) vs addonsync (+got):\n%s", diff)
			}
		})
	}
}

func renderParityCase(t testing.TB, r *Renderer, tc parityCase) []*unstructured.Unstructured {
	t.Helper()
	rc := newRepoConfig().
		addon("a", config.AddonSpec{Namespace: "ns", ReleaseName: "rel", Chart: &config.ChartSpec{Path: "charts/c"}}).
		chart("charts/c", tc.chart).
		file("addons/a/values.yaml", tc.addonValues).
		file("clusters/c/values/a.yaml", tc.clusterValues).
		cluster("c", tc.minor, "a")
	c, err := r.RenderCluster(context.Background(), rc.config(), "c", RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	objs := c.Addons[0].Objects
	for _, h := range c.Addons[0].Hooks {
		objs = append(objs, h.Object)
	}
	return objs
}

func helmTemplateCLI(t testing.TB, tc parityCase) []*unstructured.Unstructured {
	t.Helper()
	dir := t.TempDir()
	tgz := filepath.Join(dir, "chart.tgz")
	files := map[string]string{"a.yaml": tc.addonValues, "c.yaml": tc.clusterValues}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(tgz, chartrepo.BuildChart(t, tc.chart), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(helmBin, "template", "rel", tgz, "-n", "ns", "--kube-version", "v"+tc.minor+".0",
		"--include-crds", "-f", filepath.Join(dir, "a.yaml"), "-f", filepath.Join(dir, "c.yaml"))
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+dir, "HELM_CONFIG_HOME="+dir, "HELM_DATA_HOME="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr.String())
	}
	objs, err := parseManifests(string(out))
	if err != nil {
		t.Fatal(err)
	}
	var kept []*unstructured.Unstructured
	for _, o := range objs {
		if strings.HasPrefix(o.GetAnnotations()[AnnotationHook], "test") {
			continue
		}
		kept = append(kept, o)
	}
	return kept
}

// normalize removes the namespace addonsync filled in where helm's object has none; labels
// and everything else must match as they are.
func normalize(ours, theirs []*unstructured.Unstructured) {
	helmNS := map[string]bool{}
	for _, o := range theirs {
		helmNS[o.GetKind()+"/"+o.GetName()] = o.GetNamespace() != ""
	}
	for _, o := range ours {
		if !helmNS[o.GetKind()+"/"+o.GetName()] {
			o.SetNamespace("")
		}
	}
}

func objectMaps(objs []*unstructured.Unstructured) []map[string]any {
	sorted := append([]*unstructured.Unstructured(nil), objs...)
	sort.Slice(sorted, func(i, j int) bool { return objectKey(sorted[i]) < objectKey(sorted[j]) })
	out := make([]map[string]any, len(sorted))
	for i, o := range sorted {
		out[i] = o.Object
	}
	return out
}

// bigChart is a chart rendering about 9 objects per component.
func bigChart(components int) chartrepo.Chart {
	return chartrepo.Chart{Name: "big", Version: "1.0.0", Files: map[string]string{
		"values.yaml": fmt.Sprintf("components: %d\nreplicas: 2\nimage: registry.example.com/app:1.0\n", components),
		"templates/all.yaml": `{{- range $i := until (int .Values.components) }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: c{{ $i }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: c{{ $i }}
data:
  index: {{ $i | quote }}
  config.yaml: |
    component: c{{ $i }}
    replicas: {{ $.Values.replicas }}
---
apiVersion: v1
kind: Secret
metadata:
  name: c{{ $i }}
stringData:
  token: "t{{ $i }}"
---
apiVersion: v1
kind: Service
metadata:
  name: c{{ $i }}
spec:
  selector: {app: c{{ $i }}}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: c{{ $i }}
  labels: {app: c{{ $i }}}
spec:
  replicas: {{ $.Values.replicas }}
  selector: {matchLabels: {app: c{{ $i }}}}
  template:
    metadata: {labels: {app: c{{ $i }}}}
    spec:
      serviceAccountName: c{{ $i }}
      containers:
        - name: app
          image: {{ $.Values.image }}
          ports: [{containerPort: 8080}]
          env: [{name: INDEX, value: {{ $i | quote }}}]
          resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 64Mi}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: c{{ $i }}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: c{{ $i }}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: c{{ $i }}}
subjects: [{kind: ServiceAccount, name: c{{ $i }}}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: c{{ $i }}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: c{{ $i }}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: c{{ $i }}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: c{{ $i }}}
  minReplicas: 2
  maxReplicas: 5
{{- end }}
`,
	}}
}
