package render

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCRDDependsOn checks that an add-on using kinds whose CRDs another add-on renders is
// ordered after it without dependsOn, and that a dependsOn the other way is refused.
func TestCRDDependsOn(t *testing.T) {
	r := newTestRenderer(t)
	t.Run("orders the user after the CRD add-on and records why", func(t *testing.T) {
		rc := crdConfig()
		rc.addons["user"].Spec.DependsOn = nil // "user" sorts first by name: only the inference orders it
		rc.addons["crds"].Spec.Namespace = "crds"
		c, err := r.RenderCluster(context.Background(), rc.config(), "prod", RenderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			Name                string
			DependsOn, Inferred []string
		}
		var got []row
		for _, a := range c.Addons {
			got = append(got, row{a.Name, a.Spec.DependsOn, a.InferredDependsOn})
		}
		want := []row{{"crds", nil, nil}, {"user", []string{"crds"}, []string{"crds"}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("add-ons (-want +got):\n%s", diff)
		}
	})
	t.Run("refuses a dependsOn that contradicts it", func(t *testing.T) {
		rc := crdConfig()
		rc.addons["user"].Spec.DependsOn = nil
		rc.addons["crds"].Spec.DependsOn = []string{"user"}
		_, err := r.RenderCluster(context.Background(), rc.config(), "prod", RenderOptions{})
		want := `cluster "prod": add-on "user": Gadget/user/g uses kind example.org/Gadget, whose CustomResourceDefinition add-on "crds" renders, so it must sync after "crds"; but "crds" depends on "user": remove that dependsOn`
		if err == nil || err.Error() != want {
			t.Errorf("err = %v\nwant %s", err, want)
		}
	})
}
