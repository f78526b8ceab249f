package upgrade

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/addonsync/addonsync/pkg/config"
)

func TestSetChartVersion(t *testing.T) {
	tests := []struct {
		name, in, want, wantErr string
	}{
		{
			name: "plain scalar, comments and layout kept",
			in: "# MetalLB\napiVersion: addonsync.io/v1alpha1\nkind: Addon\nmetadata: {name: metallb}\nspec:\n  namespace: metallb-system   # ns\n  chart:\n    repository: https://metallb.github.io/metallb\n    name: metallb\n    version: 0.14.8   # pinned; bumped by addonsync\n  upgrade:\n    constraint: \"<1.0.0\"\n",
			want: "# MetalLB\napiVersion: addonsync.io/v1alpha1\nkind: Addon\nmetadata: {name: metallb}\nspec:\n  namespace: metallb-system   # ns\n  chart:\n    repository: https://metallb.github.io/metallb\n    name: metallb\n    version: 0.15.2   # pinned; bumped by addonsync\n  upgrade:\n    constraint: \"<1.0.0\"\n",
		},
		{
			name: "double quoted",
			in:   "spec:\n  chart: {name: x, version: \"1.2.3\", repository: r}\n",
			want: "spec:\n  chart: {name: x, version: \"1.10.0\", repository: r}\n",
		},
		{
			name: "single quoted after non-ASCII",
			in:   "spec:\n  chart:\n    name: \"é\"\n    version: '1.2.3'\n",
			want: "spec:\n  chart:\n    name: \"é\"\n    version: '1.10.0'\n",
		},
		{
			name:    "no chart version",
			in:      "spec:\n  namespace: x\n",
			wantErr: "addons/x/addon.yaml: spec.chart.version not found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SetChartVersion("addons/x/addon.yaml", []byte(tt.in), "1.10.0")
			if tt.name == "plain scalar, comments and layout kept" {
				got, err = SetChartVersion("addons/x/addon.yaml", []byte(tt.in), "0.15.2")
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("SetChartVersion() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("SetChartVersion() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAddLockEntry(t *testing.T) {
	in := "apiVersion: addonsync.io/v1alpha1\nkind: Lock\ncharts:\n- source: https://b\n  name: z\n  version: 1.0.0\n  digest: sha256:1\n"
	got, err := AddLockEntry([]byte(in), config.LockedChart{Source: "https://a", Name: "m", Version: "2.0.0", Digest: "sha256:2"})
	if err != nil {
		t.Fatal(err)
	}
	want := "# Chart digests pinned by addonsync; written by addonsync, reviewed in pull requests.\napiVersion: addonsync.io/v1alpha1\ncharts:\n- digest: sha256:2\n  name: m\n  source: https://a\n  version: 2.0.0\n- digest: sha256:1\n  name: z\n  source: https://b\n  version: 1.0.0\nkind: Lock\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("AddLockEntry() (-want +got):\n%s", diff)
	}
	again, err := AddLockEntry(got, config.LockedChart{Source: "https://a", Name: "m", Version: "2.0.0", Digest: "sha256:2"})
	if err != nil || string(again) != string(got) {
		t.Errorf("AddLockEntry() is not idempotent: %v\n%s", err, again)
	}
}
