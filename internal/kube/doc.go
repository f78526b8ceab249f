// Package kube builds client-go REST configs for target clusters from a cluster's
// kubeconfig reference: a kubeconfig file and context, a kubeconfig stored in a Secret of the
// cluster addonsync runs in, or the pod's in-cluster service account.
//
// QPS and Burst are set deliberately (500/1000 by default): client-go's 5/10 would throttle a
// sync of a thousand objects; the API server's priority and fairness protects it.
package kube
