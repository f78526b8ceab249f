package sync

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/pkg/render"
)

const (
	diffOldPassword = "old-pa55word-never-shown"
	diffNewPassword = "new-pa55word-never-shown"
)

// diffSubjects lists the subjects of entries.
func diffSubjects(ods []ObjectDiff) []string {
	out := []string{}
	for _, od := range ods {
		out = append(out, od.Subject)
	}
	return out
}

func mustDiff(t *testing.T, m *Manager, c *render.Cluster) *DiffResult {
	t.Helper()
	res, err := m.Diff(context.Background(), c, DefaultDiffOptions())
	if err != nil {
		t.Fatalf("Diff: %v", err)
	}
	return res
}

func mustSync(t *testing.T, m *Manager, c *render.Cluster) {
	t.Helper()
	if _, err := m.Sync(context.Background(), c, syncOpts()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

// dump is the result as JSON, every string of it: what each output format shows comes
// from these fields.
func dump(t *testing.T, res *DiffResult) string {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDiffAgainstCluster(t *testing.T) {
	testenv.Require(t, env)
	ctx := context.Background()
	ns := env.Namespace(t)
	m := newTestManager(t, ns, nil)
	objs := fixture(t, "diff/app", map[string]string{"NS": ns, "PASSWORD": diffOldPassword})
	cluster := func(objs []*unstructured.Unstructured) *render.Cluster {
		return &render.Cluster{Name: "test", Addons: []render.Addon{addon("app", ns, objs)}}
	}
	all := []string{"ConfigMap/" + ns + "/app-config", "Secret/" + ns + "/app-secret", "Deployment/" + ns + "/app", "Service/" + ns + "/app"}

	t.Run("lists everything as create before the first sync", func(t *testing.T) {
		res := mustDiff(t, m, cluster(objs))
		if diff := cmp.Diff(all, diffSubjects(res.Addons[0].Create)); diff != "" {
			t.Errorf("Create (-want +got):\n%s", diff)
		}
		if !res.HasChanges() || res.Summary != (DiffSummary{Create: 4}) {
			t.Errorf("Summary = %+v, HasChanges = %v; want 4 to create", res.Summary, res.HasChanges())
		}
		if out := dump(t, res); strings.Contains(out, diffOldPassword) || strings.Contains(out, base64.StdEncoding.EncodeToString([]byte(diffOldPassword))) {
			t.Errorf("the result shows the secret value:\n%s", out)
		}
	})

	mustSync(t, m, cluster(objs))

	t.Run("shows nothing after a sync", func(t *testing.T) {
		res := mustDiff(t, m, cluster(objs))
		if res.HasChanges() || res.Summary != (DiffSummary{Unchanged: 4}) {
			t.Errorf("Summary = %+v; want 4 unchanged\n%s", res.Summary, dump(t, res))
		}
	})
	t.Run("shows nothing after a sync when every object goes through the dry run", func(t *testing.T) {
		o := DefaultDiffOptions()
		o.DryRunAll = true
		res, err := m.Diff(ctx, cluster(objs), o)
		if err != nil {
			t.Fatal(err)
		}
		if res.HasChanges() || res.Summary != (DiffSummary{Unchanged: 4}) {
			t.Errorf("Summary = %+v; want 4 unchanged\n%s", res.Summary, dump(t, res))
		}
	})

	dep := find(t, objs, "Deployment/"+ns+"/app")
	svc := find(t, objs, "Service/"+ns+"/app")
	t.Run("server defaults never appear when the dry run compares", func(t *testing.T) {
		// Without the applied hash the live copy is not known to be up to date: a sync
		// writes the hash back, so Diff lists the objects, and the dry-run apply compared
		// field by field shows no server default as a change: the diff text is empty.
		for _, o := range []*unstructured.Unstructured{dep, svc} {
			patch := []byte(`[{"op":"remove","path":"/metadata/annotations/addonsync.io~1applied-hash"}]`)
			if _, err := objectClient(t, m, o).Patch(ctx, o.GetName(), types.JSONPatchType, patch, metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		res := mustDiff(t, m, cluster(objs))
		if res.Summary != (DiffSummary{Change: 2, Unchanged: 2}) {
			t.Errorf("Summary = %+v, want the two objects without their hash to change", res.Summary)
		}
		for _, od := range res.Addons[0].Change {
			if od.Diff != "" || !strings.Contains(od.Note, "only addonsync's bookkeeping") {
				t.Errorf("%s: diff %q, note %q; want no field shown", od.Subject, od.Diff, od.Note)
			}
		}
		mustSync(t, m, cluster(objs))
		if res := mustDiff(t, m, cluster(objs)); res.HasChanges() {
			t.Errorf("diff after the sync wrote the hashes back: %+v", res.Summary)
		}
	})

	t.Run("a hand edit appears as a one-field diff", func(t *testing.T) {
		patch := []byte(`{"spec":{"replicas":5}}`)
		if _, err := objectClient(t, m, dep).Patch(ctx, dep.GetName(), types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
			t.Fatal(err)
		}
		res := mustDiff(t, m, cluster(objs))
		if got := diffSubjects(res.Addons[0].Change); !cmp.Equal(got, []string{"Deployment/" + ns + "/app"}) {
			t.Fatalf("Change = %v, want the Deployment", got)
		}
		var changed []string
		for _, l := range splitLines(res.Addons[0].Change[0].Diff) {
			if strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+") {
				changed = append(changed, l)
			}
		}
		if diff := cmp.Diff([]string{"-  replicas: 5", "+  replicas: 2"}, changed); diff != "" {
			t.Errorf("changed lines (-want +got):\n%s\nfull diff:\n%s", diff, res.Addons[0].Change[0].Diff)
		}
		if res.Summary != (DiffSummary{Change: 1, Unchanged: 3}) {
			t.Errorf("Summary = %+v, want 1 to change, 3 unchanged", res.Summary)
		}
	})
	mustSync(t, m, cluster(objs))

	t.Run("a Secret change is masked in the result", func(t *testing.T) {
		next := fixture(t, "diff/app", map[string]string{"NS": ns, "PASSWORD": diffNewPassword})
		res := mustDiff(t, m, cluster(next))
		if got := diffSubjects(res.Addons[0].Change); !cmp.Equal(got, []string{"Secret/" + ns + "/app-secret"}) {
			t.Fatalf("Change = %v, want the Secret", got)
		}
		d := res.Addons[0].Change[0].Diff
		if !strings.Contains(d, "+  password: (masked, changed)") || !strings.Contains(d, "   user: (masked)") {
			t.Errorf("Secret diff does not say per key what changed:\n%s", d)
		}
		out := dump(t, res)
		for _, secret := range []string{diffOldPassword, diffNewPassword, "admin"} {
			for _, form := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret))} {
				if strings.Contains(out, form) {
					t.Errorf("the result shows a secret value (%q)", form)
				}
			}
		}
	})

	t.Run("an object dropped from the render is a prune candidate", func(t *testing.T) {
		res := mustDiff(t, m, cluster(without(objs, "ConfigMap/"+ns+"/app-config")))
		if diff := cmp.Diff([]string{"ConfigMap/" + ns + "/app-config"}, diffSubjects(res.Addons[0].Prune)); diff != "" {
			t.Errorf("Prune (-want +got):\n%s", diff)
		}
		if res.Summary != (DiffSummary{Unchanged: 3, Prune: 1}) {
			t.Errorf("Summary = %+v, want 3 unchanged, 1 to prune", res.Summary)
		}
	})

	t.Run("a kind nobody serves and a namespace nobody creates are errors, as for sync", func(t *testing.T) {
		widget := mustObject(t, "apiVersion: example.addonsync.io/v1\nkind: Widget\nmetadata: {name: w, namespace: "+ns+"}\nspec: {size: 3}\n")
		elsewhere := mustObject(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: "+ns+"-not-yet}\ndata: {k: v}\n")
		_, err := m.Diff(ctx, cluster(append(clone(objs), widget, elsewhere)), DefaultDiffOptions())
		for _, want := range []string{"does not serve kind Widget.example.addonsync.io", `namespace "` + ns + `-not-yet" does not exist`} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Diff error = %v, want %q", err, want)
			}
		}
	})

	t.Run("a removed add-on is pruned whole", func(t *testing.T) {
		res := mustDiff(t, m, &render.Cluster{Name: "test"})
		if len(res.Addons) != 1 || !res.Addons[0].Removed || res.Addons[0].Name != "app" {
			t.Fatalf("Addons = %+v, want app removed", res.Addons)
		}
		if diff := cmp.Diff(all, diffSubjects(res.Addons[0].Prune), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("Prune (-want +got):\n%s", diff)
		}
	})
}

// objectClient is the dynamic client for an object's kind and namespace.
func objectClient(t testing.TB, m *Manager, obj *unstructured.Unstructured) dynamic.ResourceInterface {
	t.Helper()
	ri, err := m.resourceFor(obj)
	if err != nil {
		t.Fatal(err)
	}
	return ri
}
