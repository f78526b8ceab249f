package render

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/chart"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/pkg/config"
)

// inRepoChart writes a chart's files under dir of the config repo.
func (rc *repoConfig) chart(dir string, c chartrepo.Chart) *repoConfig {
	for p, content := range c.Files {
		rc.file(dir+"/"+p, content)
	}
	if _, ok := c.Files["Chart.yaml"]; !ok {
		rc.file(dir+"/Chart.yaml", chartYAML(c))
	}
	return rc
}

func chartYAML(c chartrepo.Chart) string {
	s := "apiVersion: v2\nname: " + c.Name + "\nversion: " + c.Version + "\n"
	if len(c.Dependencies) > 0 {
		s += "dependencies:\n"
		for _, d := range c.Dependencies {
			s += "- name: " + d.Name + "\n  version: " + d.Version + "\n"
			if d.Condition != "" {
				s += "  condition: " + d.Condition + "\n"
			}
			if len(d.Tags) > 0 {
				s += "  tags: [" + strings.Join(d.Tags, ", ") + "]\n"
			}
		}
	}
	return s
}

func cm(name string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  from: " + name + "\n"
}

// umbrellaChart has sub-chart a (condition a.enabled) with a nested sub-chart c (condition
// c.enabled), and sub-chart b (tag extras).
var umbrellaChart = chartrepo.Chart{
	Name: "umbrella", Version: "1.0.0",
	Dependencies: []*chart.Dependency{
		{Name: "a", Version: "0.1.0", Condition: "a.enabled"},
		{Name: "b", Version: "0.1.0", Tags: []string{"extras"}},
	},
	Files: map[string]string{
		"values.yaml":                         "a:\n  enabled: true\ntags:\n  extras: false\n",
		"templates/cm.yaml":                   cm("umbrella"),
		"charts/a/Chart.yaml":                 "apiVersion: v2\nname: a\nversion: 0.1.0\ndependencies:\n- name: c\n  version: 0.1.0\n  condition: c.enabled\n",
		"charts/a/values.yaml":                "c:\n  enabled: false\n",
		"charts/a/templates/cm.yaml":          cm("a"),
		"charts/a/charts/c/Chart.yaml":        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
		"charts/a/charts/c/templates/cm.yaml": cm("c"),
		"charts/b/Chart.yaml":                 "apiVersion: v2\nname: b\nversion: 0.1.0\n",
		"charts/b/templates/cm.yaml":          cm("b"),
	},
}

func names(t testing.TB, c *Cluster) []string {
	t.Helper()
	var out []string
	for _, a := range c.Addons {
		for _, o := range a.Objects {
			out = append(out, a.Name+":"+Subject(o))
		}
	}
	return out
}

func renderNames(t testing.TB, r *Renderer, cfg *config.Config, cluster string) []string {
	t.Helper()
	c, err := r.RenderCluster(context.Background(), cfg, cluster, RenderOptions{})
	if err != nil {
		t.Fatalf("render %s: %v", cluster, err)
	}
	return names(t, c)
}

func TestSubCharts(t *testing.T) {
	repo := chartrepo.NewHTTP(t)
	repo.Add(t, umbrellaChart)
	cfg := newRepoConfig().
		addon("u", config.AddonSpec{Namespace: "u", Chart: chartSpec(repo.URL(), "umbrella", "1.0.0")}).
		cluster("defaults", "1.34", "u").
		cluster("full", "1.34", "u").file("clusters/full/values/u.yaml", "a:\n  c:\n    enabled: true\ntags:\n  extras: true\n").
		cluster("none", "1.34", "u").file("clusters/none/values/u.yaml", "a:\n  enabled: false\n").
		config()
	r := newTestRenderer(t)
	for _, tc := range []struct {
		cluster string
		want    []string
	}{
		{"defaults", []string{"u:ConfigMap/u/a", "u:ConfigMap/u/umbrella"}},
		{"full", []string{"u:ConfigMap/u/a", "u:ConfigMap/u/b", "u:ConfigMap/u/c", "u:ConfigMap/u/umbrella"}},
		{"none", []string{"u:ConfigMap/u/umbrella"}},
	} {
		t.Run("honours conditions and tags on "+tc.cluster, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, renderNames(t, r, cfg, tc.cluster)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestInRepoChart(t *testing.T) {
	local := umbrellaChart
	local.Name = "local"
	rc := newRepoConfig().
		addon("l", config.AddonSpec{Namespace: "l", Chart: &config.ChartSpec{Path: "charts/local"}}).
		chart("charts/local", local).
		file("charts/local/.helmignore", "*.md\n").
		file("charts/local/README.md", "not a template").
		cluster("prod", "1.34", "l")
	r := newTestRenderer(t)
	t.Run("renders a vendored chart directory with its sub-charts", func(t *testing.T) {
		c, err := r.RenderCluster(context.Background(), rc.config(), "prod", RenderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, "in-repo.yaml", yamlOf(t, c))
		if ci := c.Addons[0].Chart; ci.Source != "charts/local" || !strings.HasPrefix(ci.Digest, "sha256:") {
			t.Errorf("chart info %+v", ci)
		}
	})
	t.Run("asks for helm dependency build when charts/ is missing", func(t *testing.T) {
		rc2 := newRepoConfig().
			addon("l", config.AddonSpec{Namespace: "l", Chart: &config.ChartSpec{Path: "charts/local"}}).
			file("charts/local/Chart.yaml", chartYAML(local)).
			file("charts/local/templates/cm.yaml", cm("x")).
			cluster("prod", "1.34", "l")
		_, err := r.RenderCluster(context.Background(), rc2.config(), "prod", RenderOptions{})
		if err == nil || !strings.Contains(err.Error(), "helm dependency build charts/local") || !strings.Contains(err.Error(), `add-on "l"`) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestValues(t *testing.T) {
	ch := chartrepo.Chart{Name: "v", Version: "1.0.0", Files: map[string]string{
		"values.yaml":       "a: 1\nnested:\n  keep: k\n  drop: d\n  list: [1, 2]\nother: o\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: v\ndata:\n  values: {{ toJson .Values | quote }}\n",
	}}
	rc := newRepoConfig().
		addon("v", config.AddonSpec{Namespace: "v", Chart: &config.ChartSpec{Path: "charts/v"}}).
		chart("charts/v", ch).
		file("addons/v/values.yaml", "a: 2\nnested:\n  list: [3]\n  added: x\nother: null\n").
		file("clusters/prod/values/v.yaml", "nested:\n  drop: null\n  added: z\n").
		cluster("prod", "1.34", "v")
	r := newTestRenderer(t)
	t.Run("layers chart, add-on and cluster values; null deletes", func(t *testing.T) {
		a, err := r.RenderAddon(context.Background(), rc.config(), "prod", "v")
		if err != nil {
			t.Fatal(err)
		}
		got, _, _ := unstructuredString(a.Objects[0].Object, "data", "values")
		want := `{"a":2,"nested":{"added":"z","keep":"k","list":[3]}}`
		if got != want {
			t.Errorf("values\nwant %s\ngot  %s", want, got)
		}
	})
	t.Run("names the file of a values parse error", func(t *testing.T) {
		rc.file("clusters/prod/values/v.yaml", "nested: [unclosed\n")
		_, err := r.RenderAddon(context.Background(), rc.config(), "prod", "v")
		if err == nil || !strings.Contains(err.Error(), "clusters/prod/values/v.yaml") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestAPIVersions(t *testing.T) {
	legacy := chartrepo.Chart{Name: "legacy", Version: "1.0.0", Files: map[string]string{
		"templates/pdb.yaml": "{{ if .Values.pdb }}apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: old\nspec:\n  minAvailable: 1\n{{ end }}",
		"templates/hpa.yaml": "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: old\nspec: {}\n",
		"values.yaml":        "pdb: false\n",
	}}
	rc := newRepoConfig().
		addon("legacy", config.AddonSpec{Namespace: "l", Chart: &config.ChartSpec{Path: "charts/legacy"}}).
		chart("charts/legacy", legacy).
		cluster("k125", "1.25", "legacy").
		cluster("k126", "1.26", "legacy").
		cluster("pdb", "1.25", "legacy").file("clusters/pdb/values/legacy.yaml", "pdb: true\n")
	r := newTestRenderer(t)
	t.Run("renders autoscaling/v2beta2 where the minor serves it", func(t *testing.T) {
		renderNames(t, r, rc.config(), "k125")
	})
	for _, tc := range []struct{ cluster, want string }{
		{"k126", `cluster "k126": add-on "legacy": HorizontalPodAutoscaler/l/old: autoscaling/v2beta2 HorizontalPodAutoscaler is not served by Kubernetes 1.26: use autoscaling/v2 (autoscaling/v2beta2 was removed in 1.26)`},
		{"pdb", `cluster "pdb": add-on "legacy": PodDisruptionBudget/l/old: policy/v1beta1 PodDisruptionBudget is not served by Kubernetes 1.25: use policy/v1 (policy/v1beta1 was removed in 1.25)`},
	} {
		t.Run("rejects a removed API on "+tc.cluster, func(t *testing.T) {
			_, err := r.RenderCluster(context.Background(), rc.config(), tc.cluster, RenderOptions{})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v\nwant %s", err, tc.want)
			}
		})
	}
	t.Run("serves exactly the minor's APIs to templates", func(t *testing.T) {
		probe := chartrepo.Chart{Name: "probe", Version: "1.0.0", Files: map[string]string{
			"templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: probe
data:
  v2beta2: {{ .Capabilities.APIVersions.Has "autoscaling/v2beta2" | quote }}
  vap: {{ .Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy" | quote }}
  psp: {{ .Capabilities.APIVersions.Has "policy/v1beta1" | quote }}
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
`,
		}}
		rc := newRepoConfig().
			addon("p", config.AddonSpec{Namespace: "p", Chart: &config.ChartSpec{Path: "charts/p"}}).
			chart("charts/p", probe).
			cluster("k125", "1.25", "p").cluster("k136", "1.36", "p")
		for cluster, want := range map[string]map[string]any{
			"k125": {"v2beta2": "true", "vap": "false", "psp": "false", "kube": "v1.25.0"},
			"k136": {"v2beta2": "false", "vap": "true", "psp": "false", "kube": "v1.36.0"},
		} {
			a, err := r.RenderAddon(context.Background(), rc.config(), cluster, "p")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, a.Objects[0].Object["data"]); diff != "" {
				t.Errorf("%s (-want +got):\n%s", cluster, diff)
			}
		}
	})
}

func unstructuredString(obj map[string]any, fields ...string) (string, bool, error) {
	var cur any = obj
	for _, f := range fields {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false, nil
		}
		cur = m[f]
	}
	s, ok := cur.(string)
	return s, ok, nil
}

func TestChartKubeVersion(t *testing.T) {
	ch := chartrepo.Chart{Name: "modern", Version: "2.0.0", KubeVersion: ">=1.30.0-0", Files: map[string]string{"templates/cm.yaml": cm("m")}}
	rc := newRepoConfig().
		addon("m", config.AddonSpec{Namespace: "m", Chart: &config.ChartSpec{Path: "charts/m"}}).
		file("charts/m/Chart.yaml", "apiVersion: v2\nname: modern\nversion: 2.0.0\nkubeVersion: \">=1.30.0-0\"\n").
		file("charts/m/templates/cm.yaml", ch.Files["templates/cm.yaml"]).
		cluster("k129", "1.29", "m").cluster("k130", "1.30", "m")
	r := newTestRenderer(t)
	t.Run("records the chart's kubeVersion", func(t *testing.T) {
		a, err := r.RenderAddon(context.Background(), rc.config(), "k130", "m")
		if err != nil {
			t.Fatal(err)
		}
		if a.Chart.KubeVersion != ">=1.30.0-0" {
			t.Errorf("KubeVersion = %q", a.Chart.KubeVersion)
		}
	})
	t.Run("refuses a minor outside the chart's kubeVersion", func(t *testing.T) {
		_, err := r.RenderAddon(context.Background(), rc.config(), "k129", "m")
		if err == nil || !strings.Contains(err.Error(), `cluster "k129": add-on "m": chart modern 2.0.0: helm template: chart requires kubeVersion: >=1.30.0-0 which is incompatible with Kubernetes v1.29.0`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("refuses a minor older than the oldest supported", func(t *testing.T) {
		rc.cluster("k124", "1.24", "m")
		_, err := r.RenderAddon(context.Background(), rc.config(), "k124", "m")
		if err == nil || err.Error() != `cluster "k124": clusters/k124/cluster.yaml: kubernetes 1.24: addonsync renders for Kubernetes 1.25 and newer (upgrade the cluster and set a supported spec.kubernetesVersion)` {
			t.Fatalf("err = %v", err)
		}
	})
}
