package render

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/pkg/config"
)

// TestAPIKnowledge checks the API knowledge derived from k8s.io/api: the newest minor it
// knows, a minor newer than that, and removals from the removing minor on.
func TestAPIKnowledge(t *testing.T) {
	probe := chartrepo.Chart{Name: "probe", Version: "1.0.0", Files: map[string]string{
		"templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: probe
data:
  trustBundle: {{ .Capabilities.APIVersions.Has "certificates.k8s.io/v1/ClusterTrustBundle" | quote }}
  flowV1beta3: {{ .Capabilities.APIVersions.Has "flowcontrol.apiserver.k8s.io/v1beta3" | quote }}
  vapBeta: {{ .Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1beta1/ValidatingAdmissionPolicy" | quote }}
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
`,
	}}
	newer := fmt.Sprintf("1.%d", Newest()+3)
	rc := newRepoConfig().
		addon("p", config.AddonSpec{Namespace: "p", Chart: &config.ChartSpec{Path: "charts/p"}}).
		chart("charts/p", probe).
		cluster("k131", "1.31", "p").cluster("k137", "1.37", "p").cluster("newer", newer, "p")
	r := newTestRenderer(t)
	if Newest() < 37 {
		t.Fatalf("Newest() = %d, want at least 37 (k8s.io/api v0.37)", Newest())
	}
	for _, tc := range []struct {
		cluster  string
		data     map[string]any
		warnings []string
	}{
		{"k131", map[string]any{"trustBundle": "false", "flowV1beta3": "true", "vapBeta": "false", "kube": "v1.31.0"}, nil},
		{"k137", map[string]any{"trustBundle": "true", "flowV1beta3": "false", "vapBeta": "false", "kube": "v1.37.0"}, nil},
		{"newer", map[string]any{"trustBundle": "true", "flowV1beta3": "false", "vapBeta": "false", "kube": "v" + newer + ".0"}, []string{
			fmt.Sprintf(`cluster "newer": kubernetes %s is newer than the newest minor addonsync knows (1.%d, from k8s.io/api): rendering with the APIs of 1.%d, `+
				"so APIs added in 1.%d to %s are missing from Capabilities.APIVersions unless the cluster's discovery lists them (upgrade addonsync)",
				newer, Newest(), Newest(), Newest()+1, newer),
		}},
	} {
		t.Run("renders "+tc.cluster, func(t *testing.T) {
			c, err := r.RenderCluster(context.Background(), rc.config(), tc.cluster, RenderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.data, c.Addons[0].Objects[0].Object["data"]); diff != "" {
				t.Errorf("capabilities (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.warnings, c.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("refuses a removed API from the removing minor on", func(t *testing.T) {
		flow := chartrepo.Chart{Name: "flow", Version: "1.0.0", Files: map[string]string{
			"templates/fs.yaml": "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata:\n  name: fs\nspec: {}\n",
		}}
		rc := newRepoConfig().
			addon("f", config.AddonSpec{Namespace: "f", Chart: &config.ChartSpec{Path: "charts/f"}}).
			chart("charts/f", flow)
		for _, minor := range []int{26, 31, 32, 33, Newest(), Newest() + 1} {
			rc.cluster(fmt.Sprintf("k1%d", minor), fmt.Sprintf("1.%d", minor), "f")
		}
		for _, minor := range []int{26, 31} {
			renderNames(t, r, rc.config(), fmt.Sprintf("k1%d", minor))
		}
		for _, minor := range []int{32, 33, Newest(), Newest() + 1} {
			name := fmt.Sprintf("k1%d", minor)
			_, err := r.RenderCluster(context.Background(), rc.config(), name, RenderOptions{})
			want := fmt.Sprintf(`cluster %q: add-on "f": FlowSchema/fs: flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema is not served by Kubernetes 1.%d: `+
				`use flowcontrol.apiserver.k8s.io/v1 (flowcontrol.apiserver.k8s.io/v1beta3 was removed in 1.32)`, name, minor)
			if err == nil || err.Error() != want {
				t.Errorf("1.%d: err = %v\nwant %s", minor, err, want)
			}
		}
	})

	t.Run("every removal in k8s.io/api holds from its minor on", func(t *testing.T) {
		checked := 0
		for _, a := range knowledge().apis {
			if a.offByDefault || a.until <= MinMinor {
				continue
			}
			gvk := a.groupVersion + "/" + a.kind
			for minor := max(MinMinor, a.from); minor < a.until+3; minor++ {
				s, _, err := builtinAPISet(minor)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := s.served[gvk], minor < a.until; got != want {
					t.Errorf("1.%d serves %s = %t, want %t (removed in 1.%d)", minor, gvk, got, want, a.until)
				}
			}
			checked++
		}
		if checked < 3 {
			t.Errorf("checked %d removals, want the flowcontrol, autoscaling and storage betas at least", checked)
		}
	})

	t.Run("scopes come from the typed clients", func(t *testing.T) {
		s, _, err := builtinAPISet(34)
		if err != nil {
			t.Fatal(err)
		}
		for gvk, want := range map[[2]string]bool{
			{"v1", "Namespace"}: false, {"v1", "ConfigMap"}: true, {"apps/v1", "Deployment"}: true,
			{"rbac.authorization.k8s.io/v1", "ClusterRole"}: false, {"storage.k8s.io/v1", "StorageClass"}: false,
			{"apiextensions.k8s.io/v1", "CustomResourceDefinition"}: false, {"authentication.k8s.io/v1", "TokenReview"}: false,
		} {
			if got := s.isNamespaced(gvk[0], gvk[1]); got != want {
				t.Errorf("%s %s namespaced = %t, want %t", gvk[0], gvk[1], got, want)
			}
		}
	})
}
