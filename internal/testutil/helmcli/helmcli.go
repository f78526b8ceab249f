package helmcli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/addonsync/addonsync/internal/testenv"
)

var (
	findOnce sync.Once
	found    string
	findErr  string
)

// Find returns $HELM_BIN, or the binary hack/build-helm.sh prints (it reuses its cache and
// builds only when the cache lacks the pinned version); "" and the reason when neither works.
func Find() (string, string) {
	findOnce.Do(func() {
		if p := os.Getenv("HELM_BIN"); p != "" {
			found = p
			return
		}
		root, err := testenv.RepoRoot()
		if err != nil {
			findErr = err.Error()
			return
		}
		var stderr bytes.Buffer
		cmd := exec.Command("bash", filepath.Join(root, "hack", "build-helm.sh"))
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			findErr = "hack/build-helm.sh: " + err.Error() + "\n" + stderr.String()
			return
		}
		found = strings.TrimSpace(string(out))
	})
	return found, findErr
}

// CLI runs helm against one cluster.
type CLI struct {
	// Bin is the helm binary.
	Bin string
	// Kubeconfig is passed as --kubeconfig.
	Kubeconfig string
	// Home holds HELM_CACHE_HOME, HELM_CONFIG_HOME and HELM_DATA_HOME.
	Home string
	// Driver is HELM_DRIVER ("" for helm's default, secret).
	Driver string
}

// New returns a CLI for the cluster kubeconfig names. Without a helm binary it fails the
// test under CI=true and skips it otherwise.
func New(t testing.TB, kubeconfig string) *CLI {
	t.Helper()
	bin, why := Find()
	if bin == "" {
		if testenv.InCI() {
			t.Fatalf("no helm binary in CI: %s", why)
		}
		t.Skipf("helm not found (%s): set HELM_BIN or run hack/build-helm.sh", why)
	}
	return &CLI{Bin: bin, Kubeconfig: kubeconfig, Home: t.TempDir()}
}

// WithDriver returns a copy of c that stores releases with driver ("secret", "configmap").
func (c *CLI) WithDriver(driver string) *CLI {
	d := *c
	d.Driver = driver
	return &d
}

// Run runs helm with args (and --kubeconfig) and returns its combined output.
func (c *CLI) Run(t testing.TB, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Bin, append(args, "--kubeconfig", c.Kubeconfig)...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(c.Home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(c.Home, "config"),
		"HELM_DATA_HOME="+filepath.Join(c.Home, "data"),
		"HELM_DRIVER="+c.Driver,
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// Must runs helm and fails the test when it fails.
func (c *CLI) Must(t testing.TB, args ...string) string {
	t.Helper()
	out, err := c.Run(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}
