package helmrelease

import (
	"errors"
	"testing"

	"helm.sh/helm/v3/pkg/release"
)

func TestCheck(t *testing.T) {
	history := func(statuses ...release.Status) []Record {
		var recs []Record
		for i, s := range statuses {
			recs = append(recs, Record{Name: recordName("ingress-nginx", i+1), Revision: i + 1, Status: s})
		}
		return recs
	}
	rel := func(status release.Status, chart string, recs []Record) *Release {
		return &Release{
			Name: "ingress-nginx", Namespace: "ingress", Revision: len(recs), Status: status,
			Chart: chart, ChartVersion: "4.14.5", Driver: DriverSecret, Records: recs,
		}
	}
	cases := []struct {
		name       string
		rel        *Release
		chart      string
		wantReason Reason // "" for no error
		wantMsg    string
	}{
		{name: "no release", rel: nil, chart: "ingress-nginx"},
		{name: "deployed", rel: rel(release.StatusDeployed, "ingress-nginx", history(release.StatusSuperseded, release.StatusDeployed)), chart: "ingress-nginx"},
		{name: "chart-less add-on takes any chart", rel: rel(release.StatusDeployed, "ingress-nginx", history(release.StatusDeployed)), chart: ""},
		{name: "uninstalled with --keep-history is no obstacle", rel: rel(release.StatusUninstalled, "ingress-nginx", history(release.StatusUninstalled)), chart: "ingress-nginx"},
		{
			name: "failed upgrade: roll back to the last deployed revision",
			rel:  rel(release.StatusFailed, "ingress-nginx", history(release.StatusSuperseded, release.StatusDeployed, release.StatusFailed)), chart: "ingress-nginx",
			wantReason: ReasonFailed,
			wantMsg:    `add-on "web": Helm release ingress-nginx in namespace ingress (rev 3, chart ingress-nginx 4.14.5) is failed: nothing adopted; run "helm rollback ingress-nginx 2 -n ingress" to return to the last deployed revision 2, or "helm uninstall ingress-nginx -n ingress" (deletes its objects; addonsync then installs the add-on afresh), then rerun`,
		},
		{
			name: "failed install: only uninstall helps",
			rel:  rel(release.StatusFailed, "ingress-nginx", history(release.StatusFailed)), chart: "ingress-nginx",
			wantReason: ReasonFailed,
			wantMsg:    `add-on "web": Helm release ingress-nginx in namespace ingress (rev 1, chart ingress-nginx 4.14.5) is failed: nothing adopted; no revision was ever deployed: run "helm uninstall ingress-nginx -n ingress" (deletes its objects; addonsync then installs the add-on afresh), then rerun`,
		},
		{
			name: "interrupted upgrade",
			rel:  rel(release.StatusPendingUpgrade, "ingress-nginx", history(release.StatusDeployed, release.StatusPendingUpgrade)), chart: "ingress-nginx",
			wantReason: ReasonPending,
			wantMsg:    `add-on "web": Helm release ingress-nginx in namespace ingress (rev 2, chart ingress-nginx 4.14.5) is pending-upgrade: nothing adopted; if no helm command is running on it, run "helm rollback ingress-nginx 1 -n ingress" to return to the last deployed revision 1, or "helm uninstall ingress-nginx -n ingress" (deletes its objects; addonsync then installs the add-on afresh), then rerun`,
		},
		{name: "pending install", rel: rel(release.StatusPendingInstall, "ingress-nginx", history(release.StatusPendingInstall)), chart: "ingress-nginx", wantReason: ReasonPending},
		{name: "pending rollback", rel: rel(release.StatusPendingRollback, "ingress-nginx", history(release.StatusDeployed, release.StatusPendingRollback)), chart: "ingress-nginx", wantReason: ReasonPending},
		{name: "uninstalling", rel: rel(release.StatusUninstalling, "ingress-nginx", history(release.StatusUninstalling)), chart: "ingress-nginx", wantReason: ReasonUninstalling},
		{name: "unknown status", rel: rel(release.StatusUnknown, "ingress-nginx", history(release.StatusUnknown)), chart: "ingress-nginx", wantReason: ReasonUnknownStatus},
		{
			name: "another chart",
			rel:  rel(release.StatusDeployed, "nginx", history(release.StatusDeployed)), chart: "ingress-nginx",
			wantReason: ReasonChartMismatch,
			wantMsg:    `add-on "web": Helm release ingress-nginx in namespace ingress (rev 1, chart nginx 4.14.5) runs chart "nginx", not the add-on's chart "ingress-nginx": nothing adopted; set spec.releaseName in the add-on's addon.yaml if this release is another add-on, or run "helm uninstall ingress-nginx -n ingress" (deletes its objects; addonsync then installs the add-on afresh), then rerun`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Check("web", tc.chart, tc.rel)
			if tc.wantReason == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var ae *AdoptionError
			if !errors.As(err, &ae) {
				t.Fatalf("Check = %v, want an *AdoptionError", err)
			}
			if ae.Reason != tc.wantReason || ae.Release != tc.rel {
				t.Errorf("reason %q, release %v; want %q, %v", ae.Reason, ae.Release, tc.wantReason, tc.rel)
			}
			if tc.wantMsg != "" && err.Error() != tc.wantMsg {
				t.Errorf("message\n got: %s\nwant: %s", err, tc.wantMsg)
			}
		})
	}
	t.Run("the configmap driver is named in the commands", func(t *testing.T) {
		r := rel(release.StatusFailed, "ingress-nginx", history(release.StatusDeployed, release.StatusFailed))
		r.Driver = DriverConfigMap
		want := `add-on "web": Helm release ingress-nginx in namespace ingress (rev 2, chart ingress-nginx 4.14.5) is failed: nothing adopted; run "HELM_DRIVER=configmap helm rollback ingress-nginx 1 -n ingress" to return to the last deployed revision 1, or "HELM_DRIVER=configmap helm uninstall ingress-nginx -n ingress" (deletes its objects; addonsync then installs the add-on afresh), then rerun`
		if err := Check("web", "ingress-nginx", r); err == nil || err.Error() != want {
			t.Errorf("message\n got: %v\nwant: %s", err, want)
		}
	})
}
