// Package workload generates, in Go, a test workload shaped like the six add-ons addonsync
// must handle for real (CoreDNS, MetalLB, ingress-nginx, rook-ceph, cert-manager,
// kube-prometheus-stack), for benchmarks and tests: the charts (served by a loopback chart
// repository, internal/testutil/chartrepo) and the matching config repo.
//
// # Shape
//
// With a Prefix, create <prefix>-kube-system before syncing: every cluster has kube-system.
//
// Seven add-ons (the six plus metallb-config, a chart-less kustomize add-on) render about
// 410 objects: 55 CustomResourceDefinitions totalling more than 7 MB, several over 256 KiB
// (prometheus-operator's and rook's), templated CRDs (cert-manager, rook-ceph) beside
// crds/ directories (kube-prometheus-stack, metallb), a sub-chart with its own namespace,
// Helm hook Jobs in three add-ons (ingress-nginx, cert-manager, kube-prometheus-stack),
// admission webhooks, Secrets, fields rendered as false, and objects in seven namespaces.
//
// # Example
//
//	w := workload.New(workload.Options{Prefix: "b1"})
//	repo, cfg := w.Serve(t) // chart repository on loopback, config repo under t.TempDir()
//	c, err := render.New(render.DefaultOptions()).RenderCluster(ctx, cfg, workload.Cluster, render.RenderOptions{})
package workload
