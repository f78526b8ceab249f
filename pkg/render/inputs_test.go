package render

import (
	"context"
	"strings"
	"testing"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/pkg/config"
)

// TestBadRenderInputs checks the errors of inputs only a render finds: each names the
// cluster, add-on, chart or overlay file, and what to do.
func TestBadRenderInputs(t *testing.T) {
	unnamed := chartrepo.Chart{Name: "unnamed", Version: "1.0.0", Files: map[string]string{
		"templates/ok.yaml":  cm("ok"),
		"templates/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    a: b\ndata: {}\n",
	}}
	big := chartrepo.Chart{Name: "big", Version: "1.0.0", Files: map[string]string{
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  x: {{ repeat 3000 \"x\" | quote }}\n",
	}}
	rc := newRepoConfig().
		addon("unnamed", config.AddonSpec{Namespace: "u", Chart: &config.ChartSpec{Path: "charts/unnamed"}}).
		chart("charts/unnamed", unnamed).
		addon("big", config.AddonSpec{Namespace: "b", Chart: &config.ChartSpec{Path: "charts/big"}}).
		chart("charts/big", big).
		addon("ov", config.AddonSpec{Namespace: "o", Chart: &config.ChartSpec{Path: "charts/ok"}}).
		chart("charts/ok", chartrepo.Chart{Name: "ok", Version: "1.0.0", Files: map[string]string{"templates/cm.yaml": cm("ok")}}).
		file("clusters/c3/kustomize/ov/kustomization.yaml", "resources:\n  - rendered.yaml\npatches:\n  - path: missing-patch.yaml\n").
		cluster("c1", "1.37", "unnamed").cluster("c2", "1.37", "big").cluster("c3", "1.37", "ov")
	cfg := rc.config()
	cfg.Repository.Spec.Limits.MaxRenderSize = "2Ki"
	r := newTestRenderer(t)
	for _, tc := range []struct{ cluster, want string }{
		{"c1", `cluster "c1": add-on "unnamed": chart unnamed 1.0.0: template unnamed/templates/bad.yaml: v1 ConfigMap has no metadata.name (set one in the template)`},
		{"c2", `cluster "c2": add-on "big": chart big 1.0.0: rendered 3.0 KiB, over the limit of 2.0 KiB per add-on (check the values for a runaway list, or raise spec.limits.maxRenderSize in addonsync.yaml)`},
		{"c3", `cluster "c3": add-on "ov": kustomize clusters/c3/kustomize/ov/kustomization.yaml: `},
	} {
		t.Run(tc.cluster, func(t *testing.T) {
			_, err := r.RenderCluster(context.Background(), cfg, tc.cluster, RenderOptions{})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || (tc.cluster != "c3" && err.Error() != tc.want) {
				t.Errorf("err = %v\nwant %s", err, tc.want)
			}
		})
	}
}
