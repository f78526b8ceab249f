package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/pkg/helmrelease"
)

// TestClustersWideShowsHelmReleases writes release records as helm does (with Helm's own
// storage driver) and checks that clusters -o wide names the release of the add-on.
func TestClustersWideShowsHelmReleases(t *testing.T) {
	testenv.Require(t, env)
	ns := env.Namespace(t)
	dir := diffRepo(t, ns, env.Kubeconfig)
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	d := driver.NewSecrets(cs.CoreV1().Secrets(ns))
	for rev, status := range map[int]release.Status{6: release.StatusSuperseded, 7: release.StatusDeployed} {
		rel := &release.Release{
			Name: "web", Namespace: ns, Version: rev,
			Info:     &release.Info{Status: status},
			Chart:    &chart.Chart{Metadata: &chart.Metadata{Name: "web", Version: "4.14.5", AppVersion: "1.14.0"}},
			Manifest: "---\n# Source: web/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n",
		}
		if err := d.Create(fmt.Sprintf("sh.helm.release.v1.web.v%d", rev), rel); err != nil {
			t.Fatal(err)
		}
	}
	// A release of no add-on of the cluster is not listed.
	other := &release.Release{
		Name: "stray", Namespace: ns, Version: 1, Info: &release.Info{Status: release.StatusDeployed},
		Chart: &chart.Chart{Metadata: &chart.Metadata{Name: "stray", Version: "1.0.0"}},
	}
	if err := d.Create("sh.helm.release.v1.stray.v1", other); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().Secrets(ns).DeleteCollection(context.Background(), metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "owner=helm"})
	})

	out, errOut, code := runConfigCmd(t, "clusters", "-C", dir, "-o", "wide")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{
		"CLUSTER   ADD-ON   HELM RELEASE (addonsync sync takes it over)",
		"test      web      Helm release web rev 7, chart 4.14.5",
	}
	if len(lines) < 3 || strings.Join(lines[len(lines)-2:], "\n") != strings.Join(want, "\n") {
		t.Errorf("clusters -o wide:\n%s\nwant it to end with:\n%s", out, strings.Join(want, "\n"))
	}
	if strings.Contains(out, "stray") {
		t.Errorf("a release of no add-on is listed:\n%s", out)
	}

	t.Run("the plain table does not read the cluster", func(t *testing.T) {
		out, _, code := runConfigCmd(t, "clusters", "-C", dir)
		if code != ExitOK || strings.Contains(out, "Helm release") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
}

// TestExitCodeOfRefusedHelmRelease: a Helm release addonsync refuses to adopt is a cluster
// state error (exit 3), also wrapped as the sync engine wraps it.
func TestExitCodeOfRefusedHelmRelease(t *testing.T) {
	err := helmrelease.Check("web", "web", &helmrelease.Release{Name: "web", Namespace: "web", Revision: 2, Status: release.StatusFailed})
	if err == nil {
		t.Fatal("Check accepted a failed release")
	}
	for _, e := range []error{err, fmt.Errorf("cluster %q: %w", "prod", err)} {
		if got := ExitCode(e); got != ExitCluster {
			t.Errorf("ExitCode(%v) = %d, want %d", e, got, ExitCluster)
		}
	}
}
