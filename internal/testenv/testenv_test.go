package testenv_test

import (
	"context"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/addonsync/addonsync/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

// TestServerSideApplyRoundTrip proves the test cluster is a real API server: a ConfigMap
// server-side applied with a field manager reads back with its data and that manager.
func TestServerSideApplyRoundTrip(t *testing.T) {
	testenv.Require(t, env)
	ctx := context.Background()
	ns := env.Namespace(t)
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("applies a ConfigMap", func(t *testing.T) {
		cm := corev1ac.ConfigMap("hello", ns).WithData(map[string]string{"greeting": "hi"})
		if _, err := cs.CoreV1().ConfigMaps(ns).Apply(ctx, cm, metav1.ApplyOptions{FieldManager: "addonsync-test", Force: true}); err != nil {
			t.Fatalf("apply: %v", err)
		}
	})

	t.Run("reads it back with data and field manager", func(t *testing.T) {
		got, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "hello", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		if diff := cmp.Diff(map[string]string{"greeting": "hi"}, got.Data); diff != "" {
			t.Errorf("data (-want +got):\n%s", diff)
		}
		var managers []string
		for _, mf := range got.ManagedFields {
			managers = append(managers, mf.Manager+"/"+string(mf.Operation))
		}
		if diff := cmp.Diff([]string{"addonsync-test/Apply"}, managers); diff != "" {
			t.Errorf("managed fields (-want +got):\n%s", diff)
		}
	})

	t.Run("reports the built Kubernetes version", func(t *testing.T) {
		v, err := cs.Discovery().ServerVersion()
		if err != nil {
			t.Fatal(err)
		}
		if v.GitVersion != testenv.KubeVersion {
			t.Errorf("server version = %s, want %s", v.GitVersion, testenv.KubeVersion)
		}
	})
}
