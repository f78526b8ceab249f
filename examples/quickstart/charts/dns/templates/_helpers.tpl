{{- define "dns.labels" -}}
k8s-app: kube-dns
app.kubernetes.io/name: dns
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}
