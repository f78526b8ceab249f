package deploy_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

const (
	saUser = "system:serviceaccount:addonsync-system:addonsync"
	ciUser = "system:serviceaccount:ci:github-actions"
)

// access is one request and whether RBAC must allow it.
type access struct {
	user                                   string
	verb, group, resource, namespace, name string
	allowed                                bool
}

func (a access) String() string {
	return fmt.Sprintf("%s: %s %s.%s %s/%s", a.user, a.verb, a.resource, a.group, a.namespace, a.name)
}

// TestRBAC applies deploy/ for real and asks the API server's RBAC authorizer
// (SubjectAccessReview) what addonsync's ServiceAccount and a CI identity bound to
// addonsync-trigger may do: least privilege without the workspace-target binding,
// cluster-admin-like with it.
func TestRBAC(t *testing.T) {
	a := newApplier(t)
	ctx := t.Context()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	var target objects
	for _, o := range build(t, ".") {
		if o.GetName() == "addonsync-workspace-target" {
			target = append(target, o)
			continue
		}
		if err := a.apply(ctx, o, false); err != nil {
			t.Fatalf("%s/%s: apply failed: %v", o.GetKind(), o.GetName(), err)
		}
	}
	// Left from an earlier run of this test binary (-count): start without it.
	err = cs.RbacV1().ClusterRoleBindings().Delete(ctx, "addonsync-workspace-target", metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if len(target) != 2 {
		t.Fatalf("want ClusterRole and ClusterRoleBinding addonsync-workspace-target, got %d objects", len(target))
	}
	bindTrigger(t, cs)

	t.Run("without the workspace-target binding, addonsync reads only its kubeconfig Secrets and state", func(t *testing.T) {
		checkAccess(ctx, t, cs, []access{
			{user: saUser, verb: "get", resource: "secrets", namespace: "addonsync-system", name: "kubeconfig-prod", allowed: true},
			{user: saUser, verb: "get", resource: "secrets", namespace: "addonsync-system", name: "kubeconfig-dev", allowed: true},
			{user: saUser, verb: "get", resource: "secrets", namespace: "addonsync-system", name: "github-token"},
			{user: saUser, verb: "list", resource: "secrets", namespace: "addonsync-system"},
			{user: saUser, verb: "watch", resource: "secrets", namespace: "addonsync-system"},
			{user: saUser, verb: "update", resource: "secrets", namespace: "addonsync-system", name: "kubeconfig-prod"},
			{user: saUser, verb: "get", resource: "secrets", namespace: "kube-system", name: "kubeconfig-prod"},
			{user: saUser, verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: "addonsync-system", allowed: true},
			{user: saUser, verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: "addonsync-system", name: "addonsync-sync", allowed: true},
			{user: saUser, verb: "patch", resource: "configmaps", namespace: "addonsync-system", name: "applyset-coredns", allowed: true},
			{user: saUser, verb: "create", resource: "configmaps", namespace: "kube-system"},
			{user: saUser, verb: "create", group: "apps", resource: "deployments", namespace: "kube-system"},
		})
	})
	t.Run("the trigger Role starts a Job from the CronJob and reads nothing else", func(t *testing.T) {
		checkAccess(ctx, t, cs, []access{
			{user: ciUser, verb: "get", group: "batch", resource: "cronjobs", namespace: "addonsync-system", name: "addonsync", allowed: true},
			{user: ciUser, verb: "create", group: "batch", resource: "jobs", namespace: "addonsync-system", allowed: true},
			{user: ciUser, verb: "get", resource: "pods", namespace: "addonsync-system", name: "x", allowed: true},
			{user: ciUser, verb: "patch", group: "batch", resource: "cronjobs", namespace: "addonsync-system", name: "addonsync"},
			{user: ciUser, verb: "get", resource: "secrets", namespace: "addonsync-system", name: "github-token"},
			{user: ciUser, verb: "create", resource: "pods", namespace: "addonsync-system"},
		})
	})

	for _, o := range target {
		if err := a.apply(ctx, o, false); err != nil {
			t.Fatalf("%s/%s: apply failed: %v", o.GetKind(), o.GetName(), err)
		}
	}
	t.Run("with the workspace-target binding, addonsync can apply any add-on to its own cluster", func(t *testing.T) {
		checkAccess(ctx, t, cs, []access{
			{user: saUser, verb: "create", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", allowed: true},
			{user: saUser, verb: "escalate", group: "rbac.authorization.k8s.io", resource: "clusterroles", allowed: true},
			{user: saUser, verb: "patch", group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations", allowed: true},
			{user: saUser, verb: "delete", group: "apps", resource: "deployments", namespace: "monitoring", allowed: true},
		})
	})
}

func bindTrigger(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "addonsync-trigger", Namespace: "addonsync-system"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "addonsync-trigger"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "ci", Name: "github-actions"}},
	}
	_, err := cs.RbacV1().RoleBindings(rb.Namespace).Create(t.Context(), rb, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("RoleBinding/%s: create failed: %v", rb.Name, err)
	}
}

// checkAccess asks for each access; the RBAC authorizer reads Roles and bindings from an
// informer, so an answer may lag a change by a moment: it asks again for up to 10s
// before it reports a difference.
func checkAccess(ctx context.Context, t *testing.T, cs kubernetes.Interface, want []access) {
	t.Helper()
	var diffs []string
	_ = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		diffs = accessDiffs(ctx, t, cs, want)
		return len(diffs) == 0, nil
	})
	for _, d := range diffs {
		t.Error(d)
	}
}

func accessDiffs(ctx context.Context, t *testing.T, cs kubernetes.Interface, want []access) []string {
	t.Helper()
	var diffs []string
	for _, w := range want {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   w.user,
			Groups: []string{"system:serviceaccounts", "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Verb: w.verb, Group: w.group, Resource: w.resource, Namespace: w.namespace, Name: w.name,
			},
		}}
		got, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("%s: SubjectAccessReview failed: %v", w, err)
		}
		if got.Status.Allowed != w.allowed {
			diffs = append(diffs, fmt.Sprintf("%s: allowed=%v, want %v (%s)", w, got.Status.Allowed, w.allowed, got.Status.Reason))
		}
	}
	return diffs
}
