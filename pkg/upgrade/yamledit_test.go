package upgrade

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

func TestSetChartVersion(t *testing.T) {
	tests := []struct {
		name, in, want, wantErr string
	}{
		{
			name: "plain scalar, comments and layout kept",
			in:   "# MetalLB\napiVersion: addonsync.io/v1alpha1\nkind: Addon\nmetadata: {name: metallb}\nspec:\n  namespace: metallb-system   # ns\n  chart:\n    repository: https://metallb.github.io/metallb\n    name: metallb\n    version: 0.14.8   # pinned; bumped by addonsync\n  upgrade:\n    constraint: \"<1.0.0\"\n",
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
	entry := config.LockedChart{Source: "https://a", Name: "m", Version: "2.0.0", Digest: "sha256:2"}
	got, err := AddLockEntry([]byte(in), entry)
	if err != nil {
		t.Fatal(err)
	}
	// Written as render writes locks, sorted by source.
	p := filepath.Join(t.TempDir(), "lock")
	if err := render.WriteLock(p, &config.Lock{Charts: []config.LockedChart{entry, {Source: "https://b", Name: "z", Version: "1.0.0", Digest: "sha256:1"}}}); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(p)
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("AddLockEntry() (-want +got):\n%s", diff)
	}
	again, err := AddLockEntry(got, entry)
	if err != nil || string(again) != string(got) {
		t.Errorf("AddLockEntry() is not idempotent: %v\n%s", err, again)
	}
	lock, err := render.LoadLock(fstest.MapFS{config.LockFile: {Data: got}})
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := render.LookupLock(lock, "https://a", "m", "2.0.0"); !ok || d != "sha256:2" {
		t.Errorf("LookupLock() = %q, %v", d, ok)
	}
}
