// Package testenv starts a real etcd and kube-apiserver on loopback for integration tests.
//
// The binaries are built from the Go module proxy by hack/build-kube-testenv.sh into a cache
// directory (make testenv); Start runs hack/start-kube-testenv.sh, which picks free loopback
// ports, writes an admin kubeconfig and waits for /readyz. Use it once per test binary:
//
//	var env *testenv.Env
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }
//
//	func TestSomething(t *testing.T) {
//		testenv.Require(t, env)
//		ns := env.Namespace(t)
//		...
//	}
//
// When the binaries are missing, Main fails the test binary under CI=true and otherwise
// lets tests that call Require skip with the command to run.
//
// # One cluster per go test run
//
// When $ADDONSYNC_TESTENV_KUBECONFIG names a kubeconfig (make test starts one cluster with
// hack/test.sh and exports it), Main uses that cluster instead of starting its own, and
// does not stop it: every package of one go test run shares it, each test in its own
// namespace (Namespace) with its own inventory namespace.
//
// # -short
//
// Under go test -short, Main starts no cluster and tests calling Require skip, in CI too:
// -short is an explicit request for the tests that need no API server.
package testenv

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// KubeVersion is the Kubernetes version the test cluster is built from.
const KubeVersion = "v1.35.4"

// Env is a running test cluster.
type Env struct {
	// Config reaches the API server as cluster-admin. Copy it before changing it.
	Config *rest.Config
	// Kubeconfig is the path of an admin kubeconfig file for the API server.
	Kubeconfig string
	// BinDir holds kube-apiserver, etcd and kubectl.
	BinDir string
	// Dir is the cluster's scratch directory (logs, PKI, etcd data).
	Dir string

	stop string
}

// EnvKubeconfig names the environment variable holding the kubeconfig of a running test
// cluster for Main to use instead of starting one.
const EnvKubeconfig = "ADDONSYNC_TESTENV_KUBECONFIG"

// missingReason is set by Main when the binaries are absent outside CI, or under -short.
var missingReason string

// BinDir returns where the test cluster binaries are: $ADDONSYNC_TESTENV_BIN,
// $KUBEBUILDER_ASSETS, or the cache directory hack/build-kube-testenv.sh uses.
func BinDir() string {
	for _, v := range []string{"ADDONSYNC_TESTENV_BIN", "KUBEBUILDER_ASSETS"} {
		if d := os.Getenv(v); d != "" {
			return d
		}
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "kube-testenv", KubeVersion)
}

// InCI reports whether the tests run in CI, where a missing test cluster is a failure.
func InCI() bool { return os.Getenv("CI") == "true" }

// RepoRoot finds the module root (the directory holding go.mod) from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Start starts etcd and kube-apiserver and waits until the API server is ready.
func Start() (*Env, error) {
	bin := BinDir()
	for _, b := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			return nil, fmt.Errorf("test cluster binary %s missing in %s: run `make testenv` (hack/build-kube-testenv.sh): %w", b, bin, err)
		}
	}
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "addonsync-testenv-")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "hack", "start-kube-testenv.sh"), bin)
	cmd.Env = append(os.Environ(), "KUBE_TESTENV_DIR="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start test cluster: %w\n%s", err, stderr.String())
	}
	kubeconfig := strings.TrimSpace(string(out))
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("read test cluster kubeconfig %s: %w", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	return &Env{Config: cfg, Kubeconfig: kubeconfig, BinDir: bin, Dir: dir, stop: filepath.Join(dir, "stop.sh")}, nil
}

// Stop kills the API server and etcd and removes their data.
func (e *Env) Stop() {
	if e == nil || e.stop == "" {
		return
	}
	_ = exec.Command("bash", e.stop).Run()
}

// Kubectl returns the path of the kubectl built with the test cluster.
func (e *Env) Kubectl() string { return filepath.Join(e.BinDir, "kubectl") }

// Main starts the test cluster (or uses the one $ADDONSYNC_TESTENV_KUBECONFIG names), runs
// the tests and stops the cluster it started; use it from TestMain. Under -short it starts
// none. Under CI=true a cluster that cannot start fails the run; elsewhere *env stays nil
// and tests calling Require skip with the reason.
func Main(m *testing.M, env **Env) int {
	flag.Parse()
	if testing.Short() {
		missingReason = "-short: tests that need the API server are skipped"
		return m.Run()
	}
	var e *Env
	var err error
	if kc := os.Getenv(EnvKubeconfig); kc != "" {
		e, err = Connect(kc)
	} else {
		e, err = Start()
	}
	if err != nil {
		if InCI() {
			fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
			return 1
		}
		missingReason = err.Error()
	}
	*env = e
	code := m.Run()
	e.Stop()
	return code
}

// Connect returns the running test cluster kubeconfig reaches (started by
// hack/start-kube-testenv.sh, whose directory holds the kubeconfig and the logs). Stop on
// it does nothing: whoever started the cluster stops it.
func Connect(kubeconfig string) (*Env, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read test cluster kubeconfig: %w", EnvKubeconfig, kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	return &Env{Config: cfg, Kubeconfig: kubeconfig, BinDir: BinDir(), Dir: filepath.Dir(kubeconfig)}, nil
}

// Require skips the test when no test cluster runs: under -short, or outside CI when the
// cluster could not start (in CI, Main fails instead).
func Require(t testing.TB, env *Env) {
	t.Helper()
	if env == nil {
		if InCI() && !testing.Short() {
			t.Fatalf("no test cluster: %s", missingReason)
		}
		t.Skipf("no test cluster (%s)", missingReason)
	}
}

// Namespace creates a fresh namespace for the test and returns its name.
func (e *Env) Namespace(t testing.TB) string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "t-" + sanitize(t.Name()) + "-" + hex.EncodeToString(b)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	return name
}

// Logs returns the tail of the API server log, for failure messages.
func (e *Env) Logs(lines int) string {
	f, err := os.Open(filepath.Join(e.Dir, "apiserver.log"))
	if err != nil {
		return ""
	}
	defer f.Close()
	var all []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		all = append(all, s.Text())
	}
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

func sanitize(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > 40 {
		out = strings.Trim(out[:40], "-")
	}
	return out
}
