package helmrelease

import (
	"context"
	"errors"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
)

// TestCheckRealReleases refuses a failed release, one stuck in pending-upgrade and one of
// another chart, as the real helm CLI leaves them, and writes nothing while at it.
func TestCheckRealReleases(t *testing.T) {
	requireCluster(t)
	ctx := context.Background()
	ns := namespace(t)
	c := newClients(t)
	r := NewReader(c.kube, c.mapper, DefaultReaderOptions())

	check := func(t *testing.T, name, chart string, want Reason, wantInMsg ...string) {
		t.Helper()
		c.count.take()
		rel, err := r.Find(ctx, name, ns)
		if err != nil || rel == nil {
			t.Fatalf("Find(%s) = %v, %v", name, rel, err)
		}
		err = Check("web", chart, rel)
		var ae *AdoptionError
		if !errors.As(err, &ae) || ae.Reason != want {
			t.Fatalf("Check(%s) = %v, want an *AdoptionError %s", rel, err, want)
		}
		for _, s := range wantInMsg {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("message lacks %q:\n%s", s, err)
			}
		}
		if w := writes(c.count.take()); len(w) != 0 {
			t.Errorf("detecting and checking wrote: %v", w)
		}
	}

	t.Run("a failed install", func(t *testing.T) {
		// The API server rejects the ConfigMap's name after Helm recorded the release as
		// pending-install; Helm then marks it failed.
		bad := chartrepo.Chart{Name: "web", Version: "1.0.0", Files: map[string]string{
			"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_A_Valid_Name\ndata:\n  a: b\n",
		}}
		if out, err := helm(t, "", "install", "broken", chartFile(t, bad), "-n", ns); err == nil {
			t.Fatalf("helm install of an invalid object succeeded:\n%s", out)
		}
		check(t, "broken", "web", ReasonFailed,
			`Helm release broken in namespace `+ns+` (rev 1, chart web 1.0.0) is failed: nothing adopted`,
			`"helm uninstall broken -n `+ns+`"`)
	})

	t.Run("an interrupted upgrade (pending-upgrade)", func(t *testing.T) {
		mustHelm(t, "", "install", "stuck", chartFile(t, webChart("web", "1.0.0")), "-n", ns)
		// What an upgrade leaves when helm is killed after recording the new revision: write
		// it with Helm's own storage driver.
		d := driver.NewSecrets(c.kube.CoreV1().Secrets(ns))
		rel, err := d.Get(recordName("stuck", 1))
		if err != nil {
			t.Fatal(err)
		}
		rel.Version = 2
		rel.Info.Status = release.StatusPendingUpgrade
		if err := d.Create(recordName("stuck", 2), rel); err != nil {
			t.Fatal(err)
		}
		out := mustHelm(t, "", "status", "stuck", "-n", ns)
		if !strings.Contains(out, "STATUS: pending-upgrade") {
			t.Fatalf("helm status does not see the interrupted upgrade:\n%s", out)
		}
		check(t, "stuck", "web", ReasonPending,
			"rev 2, chart web 1.0.0) is pending-upgrade: nothing adopted",
			`"helm rollback stuck 1 -n `+ns+`"`)
	})

	t.Run("a release of another chart", func(t *testing.T) {
		mustHelm(t, "", "install", "other", chartFile(t, webChart("nginx", "9.9.9")), "-n", ns)
		check(t, "other", "web", ReasonChartMismatch, `runs chart "nginx", not the add-on's chart "web"`)
		rel, err := r.Find(ctx, "other", ns)
		if err != nil {
			t.Fatal(err)
		}
		if err := Check("web", "nginx", rel); err != nil {
			t.Errorf("Check with the right chart: %v", err)
		}
	})
}
