package kube

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/addonsync/addonsync/pkg/config"
)

// DefaultSecretKey is the Secret key holding a kubeconfig when the reference names none.
const DefaultSecretKey = "kubeconfig"

// Options tune the REST config.
type Options struct {
	// QPS is the client-side request rate limit (default 500). The API server protects itself
	// with priority and fairness; the client limit only has to stop a runaway loop. At
	// client-go's 5/10, or even 100/200, applying a thousand objects waits on the limiter.
	QPS float32
	// Burst is the client-side burst (default 1000).
	Burst int
	// Timeout bounds each request (default 0: none; the context bounds the whole sync).
	Timeout time.Duration
	// UserAgent is sent with every request (default client-go's).
	UserAgent string
	// SecretReader reads kubeconfig Secrets; nil uses a client for the in-cluster config.
	SecretReader kubernetes.Interface
	// Warnings receives the API server's deprecation warnings (default client-go's, which
	// logs them through klog).
	Warnings rest.WarningHandler
}

// DefaultOptions returns QPS 500 and Burst 1000.
func DefaultOptions() Options { return Options{QPS: 500, Burst: 1000} }

// RESTConfig returns a REST config for the cluster ref describes. With neither a path, a
// Secret nor inCluster, the default kubeconfig loading rules apply ($KUBECONFIG, ~/.kube/config).
func RESTConfig(ctx context.Context, ref config.KubeconfigRef, o Options) (*rest.Config, error) {
	cfg, err := restConfig(ctx, ref, o)
	if err != nil {
		return nil, err
	}
	if o.QPS == 0 {
		o.QPS, o.Burst = DefaultOptions().QPS, DefaultOptions().Burst
	}
	cfg.QPS, cfg.Burst = o.QPS, o.Burst
	if o.Timeout > 0 {
		cfg.Timeout = o.Timeout
	}
	if o.UserAgent != "" {
		cfg.UserAgent = o.UserAgent
	}
	if o.Warnings != nil {
		cfg.WarningHandler = o.Warnings
	}
	return cfg, nil
}

func restConfig(ctx context.Context, ref config.KubeconfigRef, o Options) (*rest.Config, error) {
	switch {
	case ref.InCluster:
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster config: %w; inCluster works only inside a pod", err)
		}
		return cfg, nil
	case ref.Secret != nil:
		data, err := readSecret(ctx, *ref.Secret, o.SecretReader)
		if err != nil {
			return nil, err
		}
		return FromBytes(data, ref.Context)
	default:
		return FromFile(ref.Path, ref.Context)
	}
}

// FromFile loads a kubeconfig file ("" for the default loading rules; "~" expands) and picks
// context ("" for its current context).
func FromFile(path, context string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		p, err := expandHome(path)
		if err != nil {
			return nil, err
		}
		rules = &clientcmd.ClientConfigLoadingRules{ExplicitPath: p}
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", describe(path, context), err)
	}
	return cfg, nil
}

// FromBytes parses a kubeconfig and picks context ("" for its current context).
func FromBytes(data []byte, context string) (*rest.Config, error) {
	raw, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: parse failed: %w", err)
	}
	cc := clientcmd.NewNonInteractiveClientConfig(*raw, context, &clientcmd.ConfigOverrides{}, nil)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig (context %q): %w", context, err)
	}
	return cfg, nil
}

func describe(path, context string) string {
	if path == "" {
		path = "(default loading rules)"
	}
	if context == "" {
		return path
	}
	return fmt.Sprintf("%s (context %q)", path, context)
}

func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("kubeconfig %s: %w", p, err)
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~")), nil
}

// readSecret reads a kubeconfig from a Secret key; the value is never logged or printed.
func readSecret(ctx context.Context, ref config.SecretKeyRef, client kubernetes.Interface) ([]byte, error) {
	subject := fmt.Sprintf("Secret/%s/%s", ref.Namespace, ref.Name)
	if client == nil {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("%s: reading it needs the in-cluster config: %w", subject, err)
		}
		if client, err = kubernetes.NewForConfig(cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", subject, err)
		}
	}
	key := ref.Key
	if key == "" {
		key = DefaultSecretKey
	}
	s, err := client.CoreV1().Secrets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%s: not found; create it with the cluster's kubeconfig under key %q", subject, key)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: read failed: %w", subject, err)
	}
	data, ok := s.Data[key]
	if !ok || len(data) == 0 {
		return nil, fmt.Errorf("%s: key %q missing or empty", subject, key)
	}
	return data, nil
}
