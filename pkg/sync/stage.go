package sync

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// stage orders objects within an add-on.
type stage int

// Stages, applied in this order.
const (
	stageCRDsNamespaces stage = iota // CustomResourceDefinitions and Namespaces
	stageClusterRBAC                 // ClusterRoles and ClusterRoleBindings
	stageResources                   // everything else
	stageWebhooks                    // admission webhooks and policies, last
)

func (s stage) String() string {
	switch s {
	case stageCRDsNamespaces:
		return "crds-and-namespaces"
	case stageClusterRBAC:
		return "cluster-rbac"
	case stageResources:
		return "resources"
	default:
		return "webhooks"
	}
}

var (
	gkCRD       = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
	gkNamespace = schema.GroupKind{Kind: "Namespace"}
)

// stageOf returns the stage of a kind.
func stageOf(gk schema.GroupKind) stage {
	switch gk {
	case gkCRD, gkNamespace:
		return stageCRDsNamespaces
	}
	switch gk.Group {
	case "rbac.authorization.k8s.io":
		if gk.Kind == "ClusterRole" || gk.Kind == "ClusterRoleBinding" {
			return stageClusterRBAC
		}
	case "admissionregistration.k8s.io":
		return stageWebhooks
	}
	return stageResources
}

// stagedObjects are the objects of one stage in render order.
type stagedObjects struct {
	stage   stage
	objects []*unstructured.Unstructured
}

// stagesOf groups objects by stage, dropping empty stages; order within a stage is kept.
func stagesOf(objs []*unstructured.Unstructured) []stagedObjects {
	var by [stageWebhooks + 1][]*unstructured.Unstructured
	for _, o := range objs {
		s := stageOf(o.GroupVersionKind().GroupKind())
		by[s] = append(by[s], o)
	}
	var out []stagedObjects
	for s, os := range by {
		if len(os) > 0 {
			out = append(out, stagedObjects{stage: stage(s), objects: os})
		}
	}
	return out
}
