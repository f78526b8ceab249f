package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/internal/testutil/helmcli"
)

// fillVars replaces ${NS} and ${KUBECONFIG} in every file under dir.
func fillVars(t *testing.T, dir, ns string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := strings.NewReplacer("${NS}", ns, "${KUBECONFIG}", env.Kubeconfig).Replace(string(data))
		return os.WriteFile(p, []byte(s), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHelmReleaseRefused: a Helm release in a failed or pending-upgrade state is refused by
// diff and sync with exit 3, the release named and the command to run, and nothing written.
// The adoption itself is TestSyncTakesOverHelmReleases in pkg/sync; here the CLI runs it
// with --prune-helm-leftovers once the release is fixed.
func TestHelmReleaseRefused(t *testing.T) {
	testenv.Require(t, env)
	ctx := context.Background()
	ns := env.Namespace(t)
	h := helmcli.New(t, env.Kubeconfig)
	dir := copyConfigTree(t, "../../pkg/sync/testdata/helmtakeover")
	fillVars(t, dir, ns)
	cache := t.TempDir()
	h.Must(t, "install", "same", dir+"/charts/web", "-n", ns, "-f", dir+"/addons/same/values.yaml")
	kube, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	d := driver.NewSecrets(kube.CoreV1().Secrets(ns))
	rev1, err := d.Get("sh.helm.release.v1.same.v1")
	if err != nil {
		t.Fatal(err)
	}
	liveRV := func() string {
		cm, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, "same-config", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return cm.ResourceVersion
	}
	before := liveRV()

	for _, tt := range []struct {
		status release.Status
		want   []string
	}{
		{release.StatusFailed, []string{`Helm release same in namespace ` + ns + ` (rev 2, chart web 1.2.3) is failed: nothing adopted`, `"helm rollback same 1 -n ` + ns + `"`}},
		{release.StatusPendingUpgrade, []string{`(rev 2, chart web 1.2.3) is pending-upgrade: nothing adopted`, `if no helm command is running on it`}},
	} {
		t.Run(tt.status.String(), func(t *testing.T) {
			// What helm leaves after an upgrade that failed or was interrupted: revision 2.
			_, _ = d.Delete("sh.helm.release.v1.same.v2")
			rev2 := *rev1
			info := *rev1.Info
			rev2.Version, rev2.Info, info.Status = 2, &info, tt.status
			if err := d.Create("sh.helm.release.v1.same.v2", &rev2); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"diff"}, {"sync", "--wait=false"}} {
				cmd := args[0]
				stdout, stderr, code := runConfigCmd(t, append(args, "test", "-C", dir, "--cache-dir", cache)...)
				if code != ExitCluster {
					t.Errorf("%s: exit %d, want %d\n%s%s", cmd, code, ExitCluster, stdout, stderr)
				}
				for _, w := range tt.want {
					if !strings.Contains(stderr, w) {
						t.Errorf("%s: stderr lacks %q:\n%s", cmd, w, stderr)
					}
				}
			}
			if got := liveRV(); got != before {
				t.Errorf("same-config: resourceVersion %s -> %s", before, got)
			}
			if _, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, "changed-config", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("changed-config: created by a refused sync (%v)", err)
			}
			parents, err := kube.CoreV1().ConfigMaps(ns+"-inv").List(ctx, metav1.ListOptions{LabelSelector: "applyset.kubernetes.io/id"})
			if err != nil || len(parents.Items) != 0 {
				t.Errorf("ApplySet parents written: %v %v", parents, err)
			}
		})
	}

	t.Run("once the release is rolled back, diff shows the plan and sync --prune-helm-leftovers takes it over", func(t *testing.T) {
		if _, err := d.Delete("sh.helm.release.v1.same.v2"); err != nil {
			t.Fatal(err)
		}
		h.Must(t, "install", "changed", dir+"/charts/web", "-n", ns, "--set", "replicas=5,extra=true")
		stdout, stderr, code := runConfigCmd(t, "diff", "test", "-C", dir, "--cache-dir", cache)
		if code != ExitChanges {
			t.Fatalf("diff: exit %d\n%s%s", code, stdout, stderr)
		}
		for _, want := range []string{
			"! Helm release same rev 1, chart 1.2.3: to adopt (4 as they are, 0 with changes)",
			"! Helm release changed rev 1, chart 1.2.3: to adopt (2 as they are, 2 with changes)",
			"~ ConfigMap/" + ns + "/changed-config (adopt: adopted from Helm release changed)",
			"= ConfigMap/" + ns + "/changed-extra (left by Helm release changed, kept: pass --prune-helm-leftovers to delete it)",
			"-  replicas: 5", "+  replicas: 3", `-  extra: "yes"`,
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("diff lacks %q:\n%s", want, stdout)
			}
		}
		stdout, _, _ = runConfigCmd(t, "diff", "test", "-C", dir, "--cache-dir", cache, "--prune-helm-leftovers", "-o", "markdown")
		if want := "- prune `ConfigMap/" + ns + "/changed-extra`"; !strings.Contains(stdout, want) {
			t.Errorf("diff --prune-helm-leftovers -o markdown lacks %q:\n%s", want, stdout)
		}
		stdout, stderr, code = runConfigCmd(t, "sync", "test", "-C", dir, "--cache-dir", cache, "--wait=false", "--prune-helm-leftovers")
		if code != ExitOK {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		for _, want := range []string{
			"same: Helm release same rev 1, chart 1.2.3 retired: 1 record(s)",
			"changed: Helm release changed rev 1, chart 1.2.3 retired: 1 record(s)",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("sync output lacks %q:\n%s", want, stdout)
			}
		}
		if _, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, "changed-extra", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("changed-extra: not pruned with --prune-helm-leftovers (%v)", err)
		}
		if out := h.Must(t, "list", "-n", ns, "-a", "-q"); strings.TrimSpace(out) != "" {
			t.Errorf("helm list: %s", out)
		}
	})
}
