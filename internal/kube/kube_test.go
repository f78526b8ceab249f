package kube

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/pkg/config"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

// reaches checks that cfg talks to the test API server.
func reaches(t *testing.T, cfg *rest.Config) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		t.Fatalf("server version: %v", err)
	}
	if cfg.QPS != 500 || cfg.Burst != 1000 {
		t.Errorf("QPS/Burst = %v/%d, want 500/1000", cfg.QPS, cfg.Burst)
	}
}

func TestRESTConfig(t *testing.T) {
	testenv.Require(t, env)
	ctx := t.Context()
	kubeconfig, err := os.ReadFile(env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("reads a kubeconfig file with its current context", func(t *testing.T) {
		cfg, err := RESTConfig(ctx, config.KubeconfigRef{Path: env.Kubeconfig}, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		reaches(t, cfg)
	})

	t.Run("expands ~ in the path", func(t *testing.T) {
		home := t.TempDir()
		t.Setenv("HOME", home)
		if err := os.WriteFile(filepath.Join(home, "kc"), kubeconfig, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := RESTConfig(ctx, config.KubeconfigRef{Path: "~/kc"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		reaches(t, cfg)
	})

	t.Run("names a missing context", func(t *testing.T) {
		_, err := RESTConfig(ctx, config.KubeconfigRef{Path: env.Kubeconfig, Context: "nope"}, DefaultOptions())
		if err == nil || !strings.Contains(err.Error(), `"nope"`) {
			t.Errorf("err = %v, want one naming context \"nope\"", err)
		}
	})

	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	ns := env.Namespace(t)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "prod-kubeconfig", Namespace: ns},
		Data:       map[string][]byte{"config": kubeconfig},
	}
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("reads a kubeconfig from a Secret key", func(t *testing.T) {
		ref := config.KubeconfigRef{Secret: &config.SecretKeyRef{Namespace: ns, Name: "prod-kubeconfig", Key: "config"}}
		cfg, err := RESTConfig(ctx, ref, Options{SecretReader: cs})
		if err != nil {
			t.Fatal(err)
		}
		reaches(t, cfg)
	})

	t.Run("says what is missing in a Secret, never its data", func(t *testing.T) {
		for _, ref := range []config.SecretKeyRef{
			{Namespace: ns, Name: "prod-kubeconfig"}, // default key "kubeconfig" missing
			{Namespace: ns, Name: "absent"},
		} {
			_, err := RESTConfig(ctx, config.KubeconfigRef{Secret: &ref}, Options{SecretReader: cs})
			if err == nil || !strings.Contains(err.Error(), "Secret/"+ns+"/"+ref.Name) {
				t.Errorf("err = %v, want one naming the Secret", err)
			}
			if err != nil && strings.Contains(err.Error(), "certificate-authority-data") {
				t.Errorf("error leaks the kubeconfig: %v", err)
			}
		}
	})

	t.Run("refuses in-cluster outside a pod", func(t *testing.T) {
		t.Setenv("KUBERNETES_SERVICE_HOST", "")
		if _, err := RESTConfig(ctx, config.KubeconfigRef{InCluster: true}, DefaultOptions()); err == nil {
			t.Error("in-cluster config outside a pod: want an error")
		}
	})
}
