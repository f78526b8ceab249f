package workload

import (
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/chart"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
)

// kubePrometheusStack is the biggest add-on: prometheus-operator's CRDs in crds/ (the
// largest over 700 KiB), rules and dashboards, admission webhook hook Jobs, Services in
// kube-system, and the kube-state-metrics sub-chart in its own namespace.
func (w *Workload) kubePrometheusStack() (chartrepo.Chart, Addon) {
	t := newTpl("kube-prometheus-stack")
	mon := w.group("monitoring.coreos.com") + "/v1"
	for _, c := range []string{"operator", "prometheus", "alertmanager", "grafana"} {
		n := "kube-prometheus-stack-" + c
		t.serviceAccount(n, "release")
		t.clusterRole(w.name(n), 4)
		t.clusterRoleBinding(w.name(n), w.name(n), n)
		t.service(n, "release", 9090)
	}
	t.deployment("kube-prometheus-stack-operator", "release", "kube-prometheus-stack-operator")
	t.deployment("kube-prometheus-stack-grafana", "release", "kube-prometheus-stack-grafana")
	t.secret("kube-prometheus-stack-grafana", "release")
	t.secret("alertmanager-kube-prometheus-stack-alertmanager", "release")
	t.role("kube-prometheus-stack-grafana", "release", 2)
	t.roleBinding("kube-prometheus-stack-grafana", "release", "kube-prometheus-stack-grafana", "kube-prometheus-stack-grafana")
	t.configMap("kube-prometheus-stack-grafana-config", "release", 1500)
	t.webhook("MutatingWebhookConfiguration", w.name("kube-prometheus-stack-admission"), "kube-prometheus-stack-operator", w.group("monitoring.coreos.com"), "prometheusrules")
	t.webhook("ValidatingWebhookConfiguration", w.name("kube-prometheus-stack-admission"), "kube-prometheus-stack-operator", w.group("monitoring.coreos.com"), "prometheusrules")
	t.customResource(mon, "Prometheus", "kube-prometheus-stack-prometheus", "release", 1200)
	t.customResource(mon, "Alertmanager", "kube-prometheus-stack-alertmanager", "release", 800)
	for _, s := range []string{"coredns", "kube-controller-manager", "kube-etcd", "kube-proxy", "kube-scheduler"} {
		t.service("kube-prometheus-stack-"+s, w.ns("kube-system"), 10250)
	}
	for i := range 45 {
		t.configMap(fmt.Sprintf("kube-prometheus-stack-dashboard-%02d", i), "release", 12<<10+(i%7)*5<<10)
	}
	for i := range 50 {
		t.customResource(mon, "PrometheusRule", fmt.Sprintf("kube-prometheus-stack-rules-%02d", i), "release", 3<<10+(i%5)<<10)
	}
	for i := range 40 {
		t.customResource(mon, "ServiceMonitor", fmt.Sprintf("kube-prometheus-stack-monitor-%02d", i), "release", 500)
	}
	t.hookRBAC("kube-prometheus-stack-admission", "pre-install,pre-upgrade,post-install,post-upgrade")
	t.hookJob("kube-prometheus-stack-admission-create", "kube-prometheus-stack-admission", "pre-install,pre-upgrade", "-5")
	t.hookJob("kube-prometheus-stack-admission-patch", "kube-prometheus-stack-admission", "post-install,post-upgrade", "5")
	for _, c := range []crdDef{
		{kind: "Prometheus", size: 820 << 10},
		{kind: "Alertmanager", size: 560 << 10},
		{kind: "PrometheusAgent", size: 700 << 10},
		{kind: "ThanosRuler", size: 520 << 10},
		{kind: "ScrapeConfig", size: 420 << 10},
		{kind: "AlertmanagerConfig", size: 300 << 10},
		{kind: "PodMonitor", size: 60 << 10},
		{kind: "ServiceMonitor", size: 60 << 10},
		{kind: "Probe", size: 50 << 10},
		{kind: "PrometheusRule", size: 20 << 10},
	} {
		t.files["crds/"+c.plural()+".yaml"] = crdYAML(c, w.group("monitoring.coreos.com"), "")
	}
	ksm := newTpl("kube-state-metrics")
	ns := w.ns("kube-state-metrics")
	ksm.add("namespace", "{{- if .Values.namespaceOverride }}\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ .Values.namespaceOverride }}\n{{- end }}\n")
	ksmNS := "{{ .Values.namespaceOverride | default .Release.Namespace }}"
	ksm.serviceAccount("kube-state-metrics", ksmNS)
	ksm.clusterRole(w.name("kube-state-metrics"), 12)
	ksm.clusterRoleBinding(w.name("kube-state-metrics"), w.name("kube-state-metrics"), "kube-state-metrics")
	ksm.deployment("kube-state-metrics", ksmNS, "kube-state-metrics")
	ksm.service("kube-state-metrics", ksmNS, 8080)
	ksm.customResource(mon, "ServiceMonitor", "kube-state-metrics", ksmNS, 500)
	for p, content := range ksm.files {
		t.files["charts/kube-state-metrics/"+p] = content
	}
	t.files["charts/kube-state-metrics/values.yaml"] = fmt.Sprintf(chartValues, "kube-state-metrics") + "namespaceOverride: \"\"\n"
	t.files["charts/kube-state-metrics/Chart.yaml"] = "apiVersion: v2\nname: kube-state-metrics\nversion: 6.4.1\nappVersion: 2.17.0\n"
	c := w.chart("kube-prometheus-stack", "79.5.0", "v0.86.2", t)
	c.Dependencies = []*chart.Dependency{{Name: "kube-state-metrics", Version: "6.4.1", Condition: "kubeStateMetrics.enabled"}}
	return c, Addon{
		Name: "kube-prometheus-stack", Namespace: w.ns("monitoring"),
		Values: strings.Join([]string{
			"kubeStateMetrics:", "  enabled: true", "kube-state-metrics:", "  namespaceOverride: " + ns, "  replicas: 1",
			"replicas: 1", "commonLabels:", "  team: platform", "",
		}, "\n"),
	}
}
