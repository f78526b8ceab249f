package sync

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/internal/testutil/helmcli"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

// helmTakeoverRepo copies testdata/helmtakeover (add-ons "same" and "changed" of one local
// chart, values replicas: 3) with ${NS} and ${KUBECONFIG} filled in.
func helmTakeoverRepo(t *testing.T, ns string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("testdata", "helmtakeover")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		s := strings.NewReplacer("${NS}", ns, "${KUBECONFIG}", env.Kubeconfig).Replace(string(data))
		return os.WriteFile(out, []byte(s), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// helmReleasesIn lists the releases `helm list -A -a` shows in namespace ns.
func helmReleasesIn(t *testing.T, h *helmcli.CLI, ns string) []string {
	t.Helper()
	var rows []struct{ Name, Namespace string }
	out := h.Must(t, "list", "-A", "-a", "-o", "json")
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("helm list -o json: %v\n%s", err, out)
	}
	var names []string
	for _, r := range rows {
		if r.Namespace == ns {
			names = append(names, r.Name)
		}
	}
	return names
}

func addonDiff(r *DiffResult, name string) AddonDiff {
	for _, a := range r.Addons {
		if a.Name == name {
			return a
		}
	}
	return AddonDiff{}
}

func addonResult(r *Result, name string) AddonResult {
	for _, a := range r.Addons {
		if a.Addon == name {
			return a
		}
	}
	return AddonResult{}
}

// TestSyncTakesOverHelmReleases is issue 13's "Done when": the real helm CLI installs two
// releases, "same" with the add-on's values and "changed" with other values and an object
// the render lacks; diff shows the adoption plan, sync adopts in place (UIDs unchanged, no
// DELETE or POST of an existing object) and retires the releases, the leftover is kept
// unless PruneHelmLeftovers is set, and a second sync writes nothing.
func TestSyncTakesOverHelmReleases(t *testing.T) {
	testenv.Require(t, env)
	ctx := context.Background()
	ns := env.Namespace(t)
	h := helmcli.New(t, env.Kubeconfig)
	dir := helmTakeoverRepo(t, ns)
	chart := filepath.Join(dir, "charts", "web")
	h.Must(t, "install", "same", chart, "-n", ns, "-f", filepath.Join(dir, "addons/same/values.yaml"))
	h.Must(t, "install", "changed", chart, "-n", ns, "--set", "replicas=5,extra=true")

	cfg, err := config.OpenWorktree(dir)
	if err != nil {
		t.Fatal(err)
	}
	ro := render.DefaultOptions()
	ro.CacheDir = t.TempDir()
	c, err := render.New(ro).RenderCluster(ctx, cfg, "test", render.RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	m := newTestManager(t, ns, rec)

	// Every object helm made, with its UID; the pre-install hook must not run again.
	leftover := &unstructured.Unstructured{}
	leftover.SetAPIVersion("v1")
	leftover.SetKind("ConfigMap")
	leftover.SetNamespace(ns)
	leftover.SetName("changed-extra")
	var existing []*unstructured.Unstructured
	for _, a := range c.Addons {
		for _, o := range a.Objects {
			o = o.DeepCopy()
			o.SetNamespace(ns)
			existing = append(existing, o)
		}
		for _, hk := range a.Hooks {
			o := hk.Object.DeepCopy()
			o.SetNamespace(ns)
			existing = append(existing, o)
		}
	}
	existing = append(existing, leftover)
	uids := map[string]string{}
	for _, o := range existing {
		live := get(t, m, o)
		if live == nil {
			t.Fatalf("%s: helm did not create it", IDOf(o))
		}
		uids[IDOf(o).String()] = string(live.GetUID())
	}
	checkUIDs := func(t *testing.T, gone ...string) {
		t.Helper()
		for _, o := range existing {
			id := IDOf(o).String()
			live := get(t, m, o)
			switch {
			case slices.Contains(gone, id):
				if live != nil {
					t.Errorf("%s: still exists", id)
				}
			case live == nil:
				t.Errorf("%s: deleted", id)
			case string(live.GetUID()) != uids[id]:
				t.Errorf("%s: UID %s -> %s: recreated", id, uids[id], live.GetUID())
			}
		}
	}
	// Creating the inventory namespace and the ApplySet parents aside, a takeover neither
	// creates nor deletes: only retiring deletes Helm's release records.
	checkWrites := func(t *testing.T, reqs []request, allowDelete ...string) {
		t.Helper()
		for _, r := range reqs {
			switch {
			case r.Method == "POST" && (r.Path == "/api/v1/namespaces" || strings.HasPrefix(r.Path, "/api/v1/namespaces/"+ns+"-inv/")):
			case r.Method == "DELETE" && strings.Contains(r.Path, "/secrets/sh.helm.release.v1."):
			case r.Method == "DELETE" && slices.ContainsFunc(allowDelete, func(s string) bool { return strings.HasSuffix(r.Path, s) }):
			case r.Method == "POST" || r.Method == "DELETE" || r.Method == "PUT":
				t.Errorf("takeover sent %s", r)
			}
		}
	}

	t.Run("diff shows the adoption plan", func(t *testing.T) {
		rec.reset()
		res, err := m.Diff(ctx, c, DefaultDiffOptions())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range writes(rec.reset()) {
			if !r.DryRun {
				t.Errorf("diff wrote: %s", r)
			}
		}
		same, changed := addonDiff(res, "same"), addonDiff(res, "changed")
		if same.HelmRelease != "Helm release same rev 1, chart 1.2.3: to adopt" || len(same.Adopt) != 4 || same.AdoptedAsIs != 4 || len(same.HelmLeftovers) != 0 || same.Hooks != "" {
			t.Errorf("same: %q, %d adopted, %d as they are, leftovers %v, hooks %q", same.HelmRelease, len(same.Adopt), same.AdoptedAsIs, same.HelmLeftovers, same.Hooks)
		}
		if changed.HelmRelease != "Helm release changed rev 1, chart 1.2.3: to adopt" || len(changed.Adopt) != 4 || changed.AdoptedAsIs != 2 {
			t.Errorf("changed: %q, %d adopted, %d as they are", changed.HelmRelease, len(changed.Adopt), changed.AdoptedAsIs)
		}
		if len(changed.HelmLeftovers) != 1 || changed.HelmLeftovers[0].Subject != "ConfigMap/"+ns+"/changed-extra" ||
			!strings.HasPrefix(changed.HelmLeftovers[0].Note, "left by Helm release changed, kept") || len(changed.Prune) != 0 {
			t.Errorf("changed leftovers %+v, prune %+v", changed.HelmLeftovers, changed.Prune)
		}
		var diffs strings.Builder
		for _, o := range changed.Adopt {
			diffs.WriteString(o.Diff)
		}
		for _, want := range []string{
			"-  replicas: 5", "+  replicas: 3",
			`-  extra: "yes"`, // set by Helm only: the sync removes it once it owns it
		} {
			if !strings.Contains(diffs.String(), want) {
				t.Errorf("the diffs of changed lack %q:\n%s", want, diffs.String())
			}
		}
		o := DefaultDiffOptions()
		o.PruneHelmLeftovers = true
		res, err = m.Diff(ctx, c, o)
		if err != nil {
			t.Fatal(err)
		}
		if a := addonDiff(res, "changed"); len(a.Prune) != 1 || a.Prune[0].Note != "left by Helm release changed, pruned (--prune-helm-leftovers)" {
			t.Errorf("with --prune-helm-leftovers: prune %+v", a.Prune)
		}
	})

	t.Run("sync adopts in place and retires the release whose objects it all took over", func(t *testing.T) {
		rec.reset()
		res, err := m.Sync(ctx, c, syncOpts())
		if err != nil {
			t.Fatal(err)
		}
		checkWrites(t, rec.reset())
		checkUIDs(t)
		for _, a := range res.Addons {
			s := a.ChangeSet.Summary()
			if s[ActionAdopted] != 4 || s[ActionCreated] != 0 {
				t.Errorf("%s: %s", a.Addon, a.ChangeSet)
			}
		}
		same, changed := addonResult(res, "same"), addonResult(res, "changed")
		if !same.HelmRetired || changed.HelmRetired || !strings.Contains(changed.HelmRelease, "not retired: 1 object(s) left by the Helm release are kept") {
			t.Errorf("retired: same %v %q, changed %v %q", same.HelmRetired, same.HelmRelease, changed.HelmRetired, changed.HelmRelease)
		}
		if got := helmReleasesIn(t, h, ns); !slices.Equal(got, []string{"changed"}) {
			t.Errorf("helm list: %v, want [changed]", got)
		}
		for _, o := range existing[:len(existing)-1] {
			if live := get(t, m, o); live.GetAnnotations()["meta.helm.sh/release-name"] != "" && o.GetAnnotations()["helm.sh/hook"] == "" {
				t.Errorf("%s: Helm's annotations stay: %v", IDOf(o), live.GetAnnotations())
			}
		}
		cm := get(t, m, find(t, existing, "ConfigMap/"+ns+"/changed-config"))
		if want := map[string]any{"replicas": "3"}; !reflect.DeepEqual(cm.Object["data"], want) {
			t.Errorf("changed-config data = %v, want %v (the field Helm alone set removed)", cm.Object["data"], want)
		}
		if got := members(t, m, "same"); !slices.Contains(got, "ConfigMap/"+ns+"/same-config") || len(got) != 4 {
			t.Errorf("members of same: %v, want its 4 adopted objects", got)
		}
	})

	t.Run("a second sync writes nothing", func(t *testing.T) {
		rec.reset()
		if _, err := m.Sync(ctx, c, syncOpts()); err != nil {
			t.Fatal(err)
		}
		if w := writes(rec.reset()); len(w) != 0 {
			t.Errorf("second sync wrote: %v", w)
		}
	})

	t.Run("with PruneHelmLeftovers the leftover is pruned and the release retired", func(t *testing.T) {
		rec.reset()
		o := syncOpts()
		o.PruneHelmLeftovers = true
		res, err := m.Sync(ctx, c, o)
		if err != nil {
			t.Fatal(err)
		}
		checkWrites(t, rec.reset(), "/configmaps/changed-extra")
		checkUIDs(t, "ConfigMap/"+ns+"/changed-extra")
		if a := addonResult(res, "changed"); a.ChangeSet.Summary()[ActionPruned] != 1 || !a.HelmRetired {
			t.Errorf("changed: %s, %q", a.ChangeSet, a.HelmRelease)
		}
		if got := helmReleasesIn(t, h, ns); len(got) != 0 {
			t.Errorf("helm list -A: %v", got)
		}
		rec.reset()
		if _, err := m.Sync(ctx, c, o); err != nil {
			t.Fatal(err)
		}
		if w := writes(rec.reset()); len(w) != 0 {
			t.Errorf("a sync after the takeover wrote: %v", w)
		}
	})
}

// TestSyncRefusesImmutableChangeOfHelmRelease: a Deployment helm installed with another
// selector than the render's cannot be adopted in place; diff and sync say so before
// anything of the add-on is written (a takeover never recreates, sync.recreate or not).
func TestSyncRefusesImmutableChangeOfHelmRelease(t *testing.T) {
	testenv.Require(t, env)
	ctx := context.Background()
	ns := env.Namespace(t)
	h := helmcli.New(t, env.Kubeconfig)
	dir := helmTakeoverRepo(t, ns)
	h.Must(t, "install", "same", filepath.Join(dir, "charts", "web"), "-n", ns, "-f", filepath.Join(dir, "addons/same/values.yaml"), "--set", "tier=front")
	cfg, err := config.OpenWorktree(dir)
	if err != nil {
		t.Fatal(err)
	}
	ro := render.DefaultOptions()
	ro.CacheDir = t.TempDir()
	c, err := render.New(ro).RenderCluster(ctx, cfg, "test", render.RenderOptions{Addons: []string{"same"}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	m := newTestManager(t, ns, rec)
	want := "Deployment/" + ns + "/same: cannot adopt from Helm release same rev 1, chart 1.2.3 in place"
	if _, err := m.Diff(ctx, c, DefaultDiffOptions()); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("diff: %v, want %q", err, want)
	}
	rec.reset()
	o := syncOpts()
	o.Partial = true
	if _, err := m.Sync(ctx, c, o); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("sync: %v, want %q", err, want)
	}
	for _, r := range writes(rec.reset()) {
		if !r.DryRun && r.Path != "/api/v1/namespaces" {
			t.Errorf("a refused adoption wrote %s", r)
		}
	}
	if got := helmReleasesIn(t, h, ns); !slices.Equal(got, []string{"same"}) {
		t.Errorf("helm list: %v", got)
	}
}
