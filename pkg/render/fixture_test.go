package render

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/addonsync/addonsync/internal/testutil/golden"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/pkg/config"
)

// repoConfig is a config repo a test builds in memory.
type repoConfig struct {
	files    fstest.MapFS
	addons   map[string]*config.Addon
	clusters map[string]*config.Cluster
	repos    []config.ChartRepository
}

func newRepoConfig() *repoConfig {
	return &repoConfig{files: fstest.MapFS{}, addons: map[string]*config.Addon{}, clusters: map[string]*config.Cluster{}}
}

// addon adds addons/<name>/addon.yaml with spec.
func (rc *repoConfig) addon(name string, spec config.AddonSpec) *repoConfig {
	rc.addons[name] = &config.Addon{
		TypeMeta: config.TypeMeta{APIVersion: config.APIVersion, Kind: config.KindAddon},
		Metadata: config.ObjectMeta{Name: name}, Spec: spec,
		File: "addons/" + name + "/addon.yaml", Dir: "addons/" + name,
	}
	return rc
}

// cluster adds clusters/<name>/cluster.yaml for a minor running addons.
func (rc *repoConfig) cluster(name, minor string, addons ...string) *repoConfig {
	c := &config.Cluster{
		TypeMeta: config.TypeMeta{APIVersion: config.APIVersion, Kind: config.KindCluster},
		Metadata: config.ObjectMeta{Name: name}, Spec: config.ClusterSpec{KubernetesVersion: minor},
		File: "clusters/" + name + "/cluster.yaml", Dir: "clusters/" + name,
	}
	for _, a := range addons {
		c.Spec.Addons = append(c.Spec.Addons, config.ClusterAddon{Name: a})
	}
	rc.clusters[name] = c
	return rc
}

// file adds a file to the repo tree.
func (rc *repoConfig) file(path, content string) *repoConfig {
	rc.files[path] = &fstest.MapFile{Data: []byte(content), Mode: 0o644}
	return rc
}

func (rc *repoConfig) config() *config.Config {
	repo := config.DefaultRepository()
	repo.Spec.Repositories = rc.repos
	return &config.Config{FS: rc.files, Repository: repo, Addons: rc.addons, Clusters: rc.clusters}
}

// newTestRenderer returns a Renderer with its own cache directory.
func newTestRenderer(t testing.TB, mod ...func(*Options)) *Renderer {
	t.Helper()
	o := DefaultOptions()
	o.CacheDir = t.TempDir()
	o.Logger = slog.New(slog.DiscardHandler)
	for _, m := range mod {
		m(&o)
	}
	return New(o)
}

func renderYAML(t testing.TB, r *Renderer, cfg *config.Config, cluster string, ro RenderOptions) string {
	t.Helper()
	c, err := r.RenderCluster(context.Background(), cfg, cluster, ro)
	if err != nil {
		t.Fatalf("render %s: %v", cluster, err)
	}
	var buf bytes.Buffer
	if err := WriteYAML(&buf, c); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// checkGolden compares got with testdata/golden/<name>, rewriting it with -update.
func checkGolden(t testing.TB, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", "golden", name), got)
}

func chartSpec(repo, name, version string) *config.ChartSpec {
	return &config.ChartSpec{Repository: repo, Name: name, Version: version}
}

// Charts the tests serve.

// webChart: a Deployment whose output depends on the Kubernetes minor and values, a
// Service, hooks of several phases and weights (and a test hook, dropped), a CRD in crds/
// and a custom resource of it.
var webChart = chartrepo.Chart{
	Name: "web", Version: "1.0.0", AppVersion: "2.0",
	Files: map[string]string{
		"values.yaml": `replicas: 1
image:
  repository: nginx
  tag: "1.27"
resources:
  limits:
    cpu: 100m
    memory: 64Mi
extraLabels: {}
`,
		"templates/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app: web
    {{- if semverCompare ">=1.33-0" .Capabilities.KubeVersion.Version }}
    sidecars: native
    {{- end }}
    {{- range $k, $v := .Values.extraLabels }}
    {{ $k }}: {{ $v | quote }}
    {{- end }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          {{- with .Values.resources }}
          resources: {{- toYaml . | nindent 12 }}
          {{- end }}
`,
		"templates/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  selector: {app: web}
  ports: [{port: 80}]
`,
		"templates/hooks.yaml": `apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-5"
    helm.sh/hook-delete-policy: hook-succeeded,before-hook-creation
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: busybox}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-after
  annotations:
    helm.sh/hook: post-install
data: {done: "true"}
---
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-test
  annotations:
    helm.sh/hook: test
spec:
  containers: [{name: t, image: busybox}]
`,
		"crds/widgets.yaml": `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`,
		"templates/widget.yaml": `apiVersion: example.com/v1
kind: Widget
metadata:
  name: {{ .Release.Name }}
spec:
  size: {{ .Values.replicas }}
`,
	},
}
