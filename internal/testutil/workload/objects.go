package workload

import (
	"fmt"
	"strings"
)

// tpl builds the templates of one chart: every object is a Helm template using the chart's
// label helper, values and the release namespace, so the Helm engine does real work.
type tpl struct {
	chart string
	files map[string]string
	n     int
}

func newTpl(chart string) *tpl {
	t := &tpl{chart: chart, files: map[string]string{}}
	t.files["templates/_helpers.tpl"] = fmt.Sprintf(`{{- define "%[1]s.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%%s-%%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}
{{- define "%[1]s.image" -}}
{{ .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}
`, chart)
	return t
}

// add writes one template file.
func (t *tpl) add(file, body string) {
	t.n++
	t.files[fmt.Sprintf("templates/%03d-%s.yaml", t.n, file)] = body
}

// meta is the metadata block: name, namespace ("" for cluster-scoped, "release" for the
// release namespace), labels and extra annotations.
func (t *tpl) meta(name, ns string, annotations ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "metadata:\n  name: %s\n", name)
	switch ns {
	case "":
	case "release":
		b.WriteString("  namespace: {{ .Release.Namespace }}\n")
	default:
		fmt.Fprintf(&b, "  namespace: %s\n", ns)
	}
	fmt.Fprintf(&b, "  labels:\n    {{- include %q . | nindent 4 }}\n", t.chart+".labels")
	if len(annotations) > 0 {
		b.WriteString("  annotations:\n")
		for _, a := range annotations {
			fmt.Fprintf(&b, "    %s\n", a)
		}
	}
	return b.String()
}

func (t *tpl) serviceAccount(name, ns string, ann ...string) {
	t.add("sa-"+name, "apiVersion: v1\nkind: ServiceAccount\n"+t.meta(name, ns, ann...)+"automountServiceAccountToken: false\n")
}

// rules renders n RBAC rules.
func rules(n int) string {
	groups := []string{`""`, "apps", "batch", "coordination.k8s.io", "discovery.k8s.io", "networking.k8s.io", "policy", "storage.k8s.io"}
	res := []string{"configmaps", "secrets", "services", "endpoints", "pods", "leases", "events", "deployments", "jobs", "ingresses"}
	var b strings.Builder
	b.WriteString("rules:\n")
	for i := range n {
		fmt.Fprintf(&b, "- apiGroups: [%s]\n  resources: [%s, %s]\n  verbs: [get, list, watch%s]\n",
			groups[i%len(groups)], res[i%len(res)], res[(i+3)%len(res)], []string{"", ", create", ", update, patch", ", delete"}[i%4])
	}
	return b.String()
}

func (t *tpl) clusterRole(name string, n int, ann ...string) {
	t.add("cr-"+name, "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"+t.meta(name, "", ann...)+rules(n))
}

func (t *tpl) role(name, ns string, n int, ann ...string) {
	t.add("role-"+name, "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"+t.meta(name, ns, ann...)+rules(n))
}

func (t *tpl) clusterRoleBinding(name, role, sa string, ann ...string) {
	t.add("crb-"+name, "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n"+t.meta(name, "", ann...)+
		fmt.Sprintf("roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: %s\nsubjects:\n- kind: ServiceAccount\n  name: %s\n  namespace: {{ .Release.Namespace }}\n", role, sa))
}

func (t *tpl) roleBinding(name, ns, role, sa string, ann ...string) {
	t.add("rb-"+name, "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n"+t.meta(name, ns, ann...)+
		fmt.Sprintf("roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: %s\nsubjects:\n- kind: ServiceAccount\n  name: %s\n  namespace: {{ .Release.Namespace }}\n", role, sa))
}

// configMap renders a ConfigMap of about size bytes of data.
func (t *tpl) configMap(name, ns string, size int) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\n" + t.meta(name, ns) + "data:\n  config.json: |-\n    {\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "      \"panel%04d\": {\"title\": %q, \"type\": \"timeseries\", \"expr\": \"sum(rate(http_requests_total{job=\\\"%s\\\"}[5m])) by (code)\"},\n",
			i, description(i, 40), name)
	}
	b.WriteString("      \"version\": 1\n    }\n  enabled: \"false\"\n  replicas: \"0\"\n")
	t.add("cm-"+name, b.String())
}

func (t *tpl) secret(name, ns string, ann ...string) {
	t.add("secret-"+name, "apiVersion: v1\nkind: Secret\n"+t.meta(name, ns, ann...)+
		"type: Opaque\ndata:\n  password: {{ printf \"%s-secret-value\" .Release.Name | b64enc }}\n  tls.key: "+
		"LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2Z0lCQURBTkJna3Foa2lHOXcwQkFRRUZBQVNDQktnd2dnU2tBZ0VBQW9JQkFRQwo=\n")
}

func (t *tpl) service(name, ns string, port int) {
	t.add("svc-"+name, "apiVersion: v1\nkind: Service\n"+t.meta(name, ns)+fmt.Sprintf(`spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: {{ .Chart.Name }}
    app.kubernetes.io/component: %s
  ports:
  - name: http
    port: %d
    targetPort: %d
    protocol: TCP
`, name, port, port+8000))
}

// podSpec is a pod template spec with the security settings charts render as false.
func (t *tpl) podSpec(name, sa string) string {
	return fmt.Sprintf(`  selector:
    matchLabels:
      app.kubernetes.io/name: {{ .Chart.Name }}
      app.kubernetes.io/component: %[1]s
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ .Chart.Name }}
        app.kubernetes.io/component: %[1]s
    spec:
      serviceAccountName: %[2]s
      automountServiceAccountToken: true
      enableServiceLinks: false
      hostNetwork: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile:
          type: RuntimeDefault
      containers:
      - name: %[1]s
        image: {{ include %[3]q . }}
        imagePullPolicy: IfNotPresent
        args:
        - --v={{ .Values.logLevel }}
        - --leader-elect=true
        ports:
        - containerPort: 8080
          name: http
        resources:
          {{- toYaml .Values.resources | nindent 10 }}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          privileged: false
          capabilities:
            drop: [ALL]
`, name, sa, t.chart+".image")
}

func (t *tpl) deployment(name, ns, sa string) {
	t.add("deploy-"+name, "apiVersion: apps/v1\nkind: Deployment\n"+t.meta(name, ns)+
		"spec:\n  replicas: {{ .Values.replicas }}\n  revisionHistoryLimit: 0\n"+t.podSpec(name, sa))
}

func (t *tpl) daemonSet(name, ns, sa string) {
	t.add("ds-"+name, "apiVersion: apps/v1\nkind: DaemonSet\n"+t.meta(name, ns)+"spec:\n"+t.podSpec(name, sa))
}

// webhook renders a Validating- or MutatingWebhookConfiguration for rules on group's
// resources; failurePolicy Ignore, so a missing webhook backend does not block applies.
func (t *tpl) webhook(kind, name, svc, group string, resources ...string) {
	t.add("wh-"+name, "apiVersion: admissionregistration.k8s.io/v1\nkind: "+kind+"\n"+t.meta(name, "")+fmt.Sprintf(`webhooks:
- name: %s.webhook.example.io
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Ignore
  timeoutSeconds: 2
  clientConfig:
    service:
      name: %s
      namespace: {{ .Release.Namespace }}
      path: /validate
  rules:
  - apiGroups: [%q]
    apiVersions: ["*"]
    operations: [CREATE, UPDATE]
    resources: [%s]
`, name, svc, group, strings.Join(resources, ", ")))
}

// hookJob renders a Helm hook Job.
func (t *tpl) hookJob(name, sa, hook, weight string) {
	t.add("job-"+name, "apiVersion: batch/v1\nkind: Job\n"+t.meta(name, "release",
		"helm.sh/hook: "+hook, fmt.Sprintf("helm.sh/hook-weight: %q", weight), "helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded")+
		fmt.Sprintf(`spec:
  backoffLimit: 0
  ttlSecondsAfterFinished: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/component: %[1]s
    spec:
      restartPolicy: OnFailure
      serviceAccountName: %[2]s
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
      containers:
      - name: %[1]s
        image: {{ include %[3]q . }}
        args: [create, --namespace={{ .Release.Namespace }}, --secret-name=%[1]s]
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
`, name, sa, t.chart+".image"))
}

// hookRBAC renders the ServiceAccount, ClusterRole(Binding) and Role(Binding) of hook Jobs,
// hooks themselves as ingress-nginx's and kube-prometheus-stack's are.
func (t *tpl) hookRBAC(name, hook string) {
	ann := []string{"helm.sh/hook: " + hook, "helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded"}
	t.serviceAccount(name, "release", ann...)
	t.clusterRole(name, 2, ann...)
	t.clusterRoleBinding(name, name, name, ann...)
	t.role(name, "release", 1, ann...)
	t.roleBinding(name, "release", name, name, ann...)
}

// customResource renders an object of a kind the workload's CRDs serve, with a spec of
// about size bytes.
func (t *tpl) customResource(apiVersion, kind, name, ns string, size int) {
	var b strings.Builder
	b.WriteString("apiVersion: " + apiVersion + "\nkind: " + kind + "\n" + t.meta(name, ns) + "spec:\n")
	switch kind {
	case "PrometheusRule":
		b.WriteString("  groups:\n  - name: " + name + "\n    rules:\n")
		for i := 0; b.Len() < size; i++ {
			fmt.Fprintf(&b, "    - alert: %sAlert%03d\n      expr: sum(rate(errors_total{job=\"%s\"}[5m])) / sum(rate(requests_total[5m])) > 0.%02d\n      for: 10m\n      labels:\n        severity: warning\n      annotations:\n        description: %s\n",
				strings.ReplaceAll(name, "-", ""), i, name, i%100, description(i, 120))
		}
	default:
		fmt.Fprintf(&b, "  selector:\n    matchLabels:\n      app.kubernetes.io/name: %s\n  endpoints:\n  - port: http\n    interval: 30s\n    honorLabels: false\n", name)
		for i := 0; b.Len() < size; i++ {
			fmt.Fprintf(&b, "  - port: metrics%d\n    interval: 60s\n", i)
		}
	}
	t.add(strings.ToLower(kind)+"-"+name, b.String())
}

// crdTemplate writes a CRD as a template, rendered when .Values.crds.enabled, as
// cert-manager and rook-ceph do.
func (t *tpl) crdTemplate(c crdDef, group string) {
	labels := fmt.Sprintf("  labels:\n    {{- include %q . | nindent 4 }}", t.chart+".labels")
	t.add("crd-"+c.plural(), "{{- if .Values.crds.enabled }}\n"+crdYAML(c, group, labels)+"{{- end }}\n")
}
