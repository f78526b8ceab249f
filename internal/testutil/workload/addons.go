package workload

import (
	"fmt"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
)

// chartValues are the defaults every generated chart has; the add-ons' values override some.
const chartValues = `replicas: 1
logLevel: 2
image:
  registry: registry.example.io
  repository: %s
  tag: ""
resources:
  requests:
    cpu: 10m
    memory: 32Mi
  limits:
    memory: 128Mi
crds:
  enabled: true
commonLabels: {}
`

func (w *Workload) chart(name, version, appVersion string, t *tpl) chartrepo.Chart {
	files := t.files
	files["values.yaml"] = fmt.Sprintf(chartValues, name)
	return chartrepo.Chart{Name: name, Version: version, AppVersion: appVersion, Files: files}
}

func (w *Workload) coredns() (chartrepo.Chart, Addon) {
	t := newTpl("coredns")
	t.serviceAccount("coredns", "release")
	t.clusterRole(w.name("system:coredns"), 3)
	t.clusterRoleBinding(w.name("system:coredns"), w.name("system:coredns"), "coredns")
	t.configMap("coredns", "release", 1500)
	t.deployment("coredns", "release", "coredns")
	t.service("kube-dns", "release", 53)
	t.add("pdb", "apiVersion: policy/v1\nkind: PodDisruptionBudget\n"+t.meta("coredns", "release")+
		"spec:\n  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/component: coredns\n")
	return w.chart("coredns", "1.39.2", "1.12.1", t),
		Addon{Name: "coredns", Namespace: w.ns("kube-system"), Values: "replicas: 2\n"}
}

func (w *Workload) metallb() (chartrepo.Chart, Addon) {
	t := newTpl("metallb")
	for _, c := range []string{"controller", "speaker"} {
		t.serviceAccount("metallb-"+c, "release")
		t.clusterRole(w.name("metallb-system:"+c), 6)
		t.clusterRoleBinding(w.name("metallb-system:"+c), w.name("metallb-system:"+c), "metallb-"+c)
	}
	for _, r := range []string{"controller", "pod-lister", "speaker"} {
		t.role("metallb-"+r, "release", 3)
		t.roleBinding("metallb-"+r, "release", "metallb-"+r, "metallb-controller")
	}
	t.secret("metallb-webhook-cert", "release")
	t.secret("metallb-memberlist", "release")
	t.configMap("metallb-excludel2", "release", 400)
	t.deployment("metallb-controller", "release", "metallb-controller")
	t.daemonSet("metallb-speaker", "release", "metallb-speaker")
	t.service("metallb-webhook-service", "release", 443)
	t.webhook("ValidatingWebhookConfiguration", w.name("metallb-webhook-configuration"), "metallb-webhook-service", w.group("metallb.io"), "ipaddresspools", "bgppeers")
	for _, k := range []string{"BFDProfile", "BGPAdvertisement", "BGPPeer", "Community", "IPAddressPool", "L2Advertisement", "ServiceBGPStatus", "ServiceL2Status", "ConfigurationState"} {
		c := crdDef{kind: k, size: 14 << 10}
		if k == "BGPPeer" {
			c.size = 48 << 10
		}
		t.files["crds/"+c.plural()+".yaml"] = crdYAML(c, w.group("metallb.io"), "")
	}
	return w.chart("metallb", "0.15.2", "v0.15.2", t),
		Addon{Name: "metallb", Namespace: w.ns("metallb-system"), Values: "speaker:\n  frr:\n    enabled: false\n"}
}

// metallbConfig is the chart-less add-on: address pools as plain manifests, through kustomize.
func (w *Workload) metallbConfig() Addon {
	g := w.group("metallb.io") + "/v1"
	pool := func(name, cidr string) string {
		return fmt.Sprintf("apiVersion: %s\nkind: IPAddressPool\nmetadata:\n  name: %s\nspec:\n  addresses: [%s]\n  autoAssign: true\n  avoidBuggyIPs: false\n", g, name, cidr)
	}
	return Addon{
		Name: "metallb-config", Namespace: w.ns("metallb-system"), DependsOn: []string{"metallb"},
		Kustomize: map[string]string{
			"kustomization.yaml": "resources:\n- pools.yaml\n- l2.yaml\nlabels:\n- pairs:\n    site: bench\n",
			"pools.yaml":         pool("default", "192.0.2.0/25") + "---\n" + pool("reserved", "192.0.2.128/25"),
			"l2.yaml":            fmt.Sprintf("apiVersion: %s\nkind: L2Advertisement\nmetadata:\n  name: default\nspec:\n  ipAddressPools: [default]\n", g),
		},
	}
}

func (w *Workload) ingressNginx() (chartrepo.Chart, Addon) {
	t := newTpl("ingress-nginx")
	t.serviceAccount("ingress-nginx", "release")
	t.configMap("ingress-nginx-controller", "release", 2000)
	t.clusterRole(w.name("ingress-nginx"), 8)
	t.clusterRoleBinding(w.name("ingress-nginx"), w.name("ingress-nginx"), "ingress-nginx")
	t.role("ingress-nginx", "release", 6)
	t.roleBinding("ingress-nginx", "release", "ingress-nginx", "ingress-nginx")
	t.service("ingress-nginx-controller", "release", 80)
	t.service("ingress-nginx-controller-admission", "release", 443)
	t.deployment("ingress-nginx-controller", "release", "ingress-nginx")
	t.add("ingressclass", "apiVersion: networking.k8s.io/v1\nkind: IngressClass\n"+t.meta(w.name("nginx"), "")+"spec:\n  controller: k8s.io/ingress-nginx\n")
	t.webhook("ValidatingWebhookConfiguration", w.name("ingress-nginx-admission"), "ingress-nginx-controller-admission", "networking.k8s.io", "ingresses")
	t.customResource(w.group("monitoring.coreos.com")+"/v1", "ServiceMonitor", "ingress-nginx-controller", "release", 600)
	t.hookRBAC("ingress-nginx-admission", "pre-install,pre-upgrade,post-install,post-upgrade")
	t.hookJob("ingress-nginx-admission-create", "ingress-nginx-admission", "pre-install,pre-upgrade", "-5")
	t.hookJob("ingress-nginx-admission-patch", "ingress-nginx-admission", "post-install,post-upgrade", "5")
	return w.chart("ingress-nginx", "4.15.1", "1.15.1", t), Addon{
		Name: "ingress-nginx", Namespace: w.ns("ingress-nginx"), DependsOn: []string{"metallb-config", "kube-prometheus-stack"},
		Values: "replicas: 2\nresources:\n  requests:\n    cpu: 100m\n    memory: 90Mi\n",
	}
}

func (w *Workload) certManager() (chartrepo.Chart, Addon) {
	t := newTpl("cert-manager")
	for _, c := range []string{"cert-manager", "cert-manager-cainjector", "cert-manager-webhook"} {
		t.serviceAccount(c, "release")
		t.deployment(c, "release", c)
		// Leader election in kube-system, as cert-manager does.
		t.role(c+":leaderelection", w.ns("kube-system"), 2)
		t.roleBinding(c+":leaderelection", w.ns("kube-system"), c+":leaderelection", c)
	}
	t.service("cert-manager", "release", 9402)
	t.service("cert-manager-webhook", "release", 443)
	for i, r := range []string{
		"cainjector", "issuers", "clusterissuers", "certificates", "orders", "challenges", "ingress-shim",
		"cluster-view", "view", "edit", "approve", "certificatesigningrequests", "webhook:subjectaccessreviews", "controller-leader",
	} {
		t.clusterRole(w.name("cert-manager-"+r), 2+i%5)
		if i < 11 {
			t.clusterRoleBinding(w.name("cert-manager-"+r), w.name("cert-manager-"+r), "cert-manager")
		}
	}
	t.role("cert-manager-webhook:dynamic-serving", "release", 2)
	t.roleBinding("cert-manager-webhook:dynamic-serving", "release", "cert-manager-webhook:dynamic-serving", "cert-manager-webhook")
	t.configMap("cert-manager-webhook", "release", 300)
	t.webhook("MutatingWebhookConfiguration", w.name("cert-manager-webhook"), "cert-manager-webhook", w.group("cert-manager.io"), "certificates")
	t.webhook("ValidatingWebhookConfiguration", w.name("cert-manager-webhook"), "cert-manager-webhook", w.group("cert-manager.io"), "certificates")
	for _, c := range []crdDef{
		{kind: "Challenge", group: "acme.cert-manager.io", size: 380 << 10},
		{kind: "Order", group: "acme.cert-manager.io", size: 30 << 10},
		{kind: "CertificateRequest", size: 30 << 10},
		{kind: "Certificate", size: 60 << 10},
		{kind: "ClusterIssuer", size: 330 << 10, cluster: true},
		{kind: "Issuer", size: 330 << 10},
	} {
		g := c.group
		if g == "" {
			g = "cert-manager.io"
		}
		t.crdTemplate(c, w.group(g))
	}
	ann := []string{"helm.sh/hook: post-install", "helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded", `helm.sh/hook-weight: "-5"`}
	t.serviceAccount("cert-manager-startupapicheck", "release", ann...)
	t.role("cert-manager-startupapicheck:create-cert", "release", 1, ann...)
	t.roleBinding("cert-manager-startupapicheck:create-cert", "release", "cert-manager-startupapicheck:create-cert", "cert-manager-startupapicheck", ann...)
	t.hookJob("cert-manager-startupapicheck", "cert-manager-startupapicheck", "post-install", "1")
	return w.chart("cert-manager", "v1.19.1", "v1.19.1", t), Addon{
		Name: "cert-manager", Namespace: w.ns("cert-manager"),
		Values: "crds:\n  enabled: true\nreplicas: 1\n",
	}
}

func (w *Workload) rookCeph() (chartrepo.Chart, Addon) {
	t := newTpl("rook-ceph")
	sas := []string{
		"rook-ceph-system", "rook-ceph-osd", "rook-ceph-mgr", "rook-ceph-cmd-reporter", "rook-ceph-purge-osd",
		"rook-ceph-rgw", "rook-csi-rbd-plugin-sa", "rook-csi-rbd-provisioner-sa", "rook-csi-cephfs-plugin-sa", "rook-csi-cephfs-provisioner-sa",
	}
	for _, sa := range sas {
		t.serviceAccount(sa, "release")
	}
	for i := range 22 {
		n := w.name(fmt.Sprintf("rook-ceph-cluster-role-%02d", i))
		t.clusterRole(n, 3+i%6)
		if i < 18 {
			t.clusterRoleBinding(n, n, sas[i%len(sas)])
		}
	}
	for i := range 10 {
		n := fmt.Sprintf("rook-ceph-role-%02d", i)
		t.role(n, "release", 2+i%4)
		t.roleBinding(n, "release", n, sas[i%len(sas)])
	}
	t.configMap("rook-ceph-operator-config", "release", 3000)
	t.configMap("rook-ceph-csi-config", "release", 800)
	t.deployment("rook-ceph-operator", "release", "rook-ceph-system")
	for _, d := range []string{"rbd", "cephfs"} {
		t.add("csidriver-"+d, "apiVersion: storage.k8s.io/v1\nkind: CSIDriver\n"+t.meta(w.name("rook-ceph."+d+".csi.ceph.com"), "")+
			"spec:\n  attachRequired: true\n  podInfoOnMount: false\n  fsGroupPolicy: File\n")
	}
	t.add("storageclass", "apiVersion: storage.k8s.io/v1\nkind: StorageClass\n"+t.meta(w.name("ceph-block"), "")+
		"provisioner: rook-ceph.rbd.csi.ceph.com\nreclaimPolicy: Delete\nallowVolumeExpansion: true\nparameters:\n  pool: replicapool\n")
	big := map[string]int{"CephCluster": 480 << 10, "CephObjectStore": 180 << 10, "CephFilesystem": 260 << 10, "CephNFS": 300 << 10, "CephBlockPool": 120 << 10}
	for _, k := range []string{
		"CephBlockPool", "CephBlockPoolRadosNamespace", "CephBucketNotification", "CephBucketTopic", "CephClient",
		"CephCluster", "CephCOSIDriver", "CephFilesystemMirror", "CephFilesystem", "CephFilesystemSubVolumeGroup", "CephNFS",
		"CephObjectRealm", "CephObjectStore", "CephObjectStoreUser", "CephObjectZoneGroup", "CephObjectZone", "CephRBDMirror",
		"CephBlockPoolMirror", "CephClusterNetwork", "CephObjectStoreBucket", "CephObjectUserKey", "CephFilesystemSnapshot",
		"CephNVMeOFGateway", "CephConnection", "CephMonitor", "CephManager", "CephOSDGroup",
	} {
		size := big[k]
		if size == 0 {
			size = 42 << 10
		}
		t.crdTemplate(crdDef{kind: k, size: size}, w.group("ceph.rook.io"))
	}
	for _, k := range []string{"ObjectBucket", "ObjectBucketClaim", "ObjectBucketNotification"} {
		t.crdTemplate(crdDef{kind: k, size: 20 << 10, cluster: k == "ObjectBucket"}, w.group("objectbucket.io"))
	}
	return w.chart("rook-ceph", "v1.18.4", "v1.18.4", t), Addon{
		Name: "rook-ceph", Namespace: w.ns("rook-ceph"),
		Values: "crds:\n  enabled: true\nlogLevel: 3\n",
	}
}
