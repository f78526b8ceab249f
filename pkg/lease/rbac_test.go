package lease

import (
	"context"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestAcquireWithLeasePermissionsOnly acts as a user who may only get, create and update
// Leases in one namespace (as the deploy/ Role grants): the lease works in that existing
// namespace without namespace permissions.
func TestAcquireWithLeasePermissionsOnly(t *testing.T) {
	admin := client(t)
	ns := env.Namespace(t)
	const user = "addonsync-lease-only"
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "lease", Namespace: ns},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"},
			Verbs: []string{"get", "create", "update"},
		}},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "lease", Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "lease"},
		Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: user}},
	}
	if _, err := admin.RbacV1().Roles(ns).Create(t.Context(), role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().RoleBindings(ns).Create(t.Context(), binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The RBAC authorizer reads Roles through an informer: wait until it has seen the binding.
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, 15*time.Second, true, func(ctx context.Context) (bool, error) {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user,
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: ns, Verb: "update", Group: "coordination.k8s.io", Resource: "leases",
			},
		}}
		got, err := admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		return err == nil && got.Status.Allowed, nil
	})
	if err != nil {
		t.Fatalf("the lease Role never took effect: %v", err)
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	limited, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("acquires and releases in the existing namespace", func(t *testing.T) {
		held, err := locker(limited, ns, "pod-a/1").Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if err := held.Release(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("names the lease when the user may not read it", func(t *testing.T) {
		_, err := locker(limited, "kube-system", "pod-a/1").Acquire(t.Context())
		if err == nil || !strings.HasPrefix(err.Error(), "lease kube-system/addonsync-sync: get failed: ") || !strings.Contains(err.Error(), "forbidden") {
			t.Errorf("err = %v", err)
		}
	})
}
