package sync

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

// The planner's table test, in the manner of CKE's DecideOps test: each case builds the
// gathered state with small helpers and checks the decisions, no I/O.

// pobj is a rendered ConfigMap (or kind) as prepare leaves it: namespace, applied hash.
func pobj(kind, ns, name, hash string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": kind,
		"metadata": map[string]any{"name": name, "annotations": map[string]any{AnnotationAppliedHash: hash}},
		"data":     map[string]any{"enabled": "false", "count": "0"},
	}}
	if ns != "" {
		u.SetNamespace(ns)
	}
	return u
}

// fieldsOf builds the fieldsV1 an Apply of obj leaves (maps only, as pobj has).
func fieldsOf(v map[string]any) map[string]any {
	out := map[string]any{}
	for k, x := range v {
		if m, ok := x.(map[string]any); ok && len(m) > 0 {
			out["f:"+k] = fieldsOf(m)
		} else {
			out["f:"+k] = map[string]any{}
		}
	}
	return out
}

// applied is the live copy of desired right after addonsync applied it.
func applied(desired *unstructured.Unstructured) *unstructured.Unstructured {
	live := desired.DeepCopy()
	set := withoutKeys(desired.Object, "apiVersion", "kind")
	md := withoutKeys(set["metadata"].(map[string]any), "name", "namespace")
	set = withoutKeys(set, "metadata")
	set["metadata"] = md
	raw, _ := json.Marshal(fieldsOf(set))
	live.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: "addonsync", Operation: metav1.ManagedFieldsOperationApply, FieldsV1: metav1.NewFieldsV1(string(raw))}})
	live.SetResourceVersion("1")
	return live
}

// edited is live after someone else removed data.enabled (it leaves addonsync's entry too).
func edited(desired *unstructured.Unstructured) *unstructured.Unstructured {
	d := desired.DeepCopy()
	unstructured.RemoveNestedField(d.Object, "data", "enabled")
	live := applied(d)
	live.Object["data"] = map[string]any{"count": "0"}
	return live
}

type stateOpt func(*AddonState)

func member(live *unstructured.Unstructured) ObjectState {
	return ObjectState{Live: live, Member: true}
}

// pstate builds an add-on state: objs are (desired, live state) pairs.
func pstate(name string, objs []ObjectState, opts ...stateOpt) AddonState {
	a := &render.Addon{Name: name, Namespace: "ns", Spec: config.AddonSpec{Namespace: "ns"}}
	st := AddonState{
		Addon: a, Objects: objs, Namespaces: map[string]NamespaceState{"ns": {Exists: true}},
		Inventory: &Inventory{Addon: name, Exists: true}, Digest: "d1",
		Record: &ReleaseRecord{Revision: 1, Digest: "d1", Installed: true},
	}
	for _, o := range st.Objects {
		if o.Member {
			st.Inventory.Members = append(st.Inventory.Members, Member{ID: IDOf(o.Desired)})
		}
	}
	for _, o := range opts {
		o(&st)
	}
	return st
}

func withDesired(d *unstructured.Unstructured, s ObjectState) ObjectState {
	s.Desired = d
	return s
}

// checkAddonPlan checks a decided add-on: with wantErr, that its plan failed with it (and
// false is returned: nothing else to check); else that it did not fail, its verbs, and the
// first object's reason when wantReason is set.
func checkAddonPlan(t *testing.T, ap AddonPlan, wantErr string, wantVerbs map[string]Verb, wantReason string) bool {
	t.Helper()
	if wantErr != "" {
		if ap.Err == nil || !strings.Contains(ap.Err.Error(), wantErr) {
			t.Fatalf("Err = %v, want %q", ap.Err, wantErr)
		}
		return false
	}
	if ap.Err != nil {
		t.Fatal(ap.Err)
	}
	if diff := cmp.Diff(wantVerbs, verbs(ap)); diff != "" {
		t.Errorf("verbs (-want +got):\n%s", diff)
	}
	if wantReason != "" && ap.Objects[0].Reason != wantReason {
		t.Errorf("reason = %q, want %q", ap.Objects[0].Reason, wantReason)
	}
	return true
}

func verbs(p AddonPlan) map[string]Verb {
	out := map[string]Verb{}
	for _, s := range append(append([]ObjectStep{}, p.Objects...), p.Prune...) {
		out[s.ID.String()] = s.Verb
	}
	return out
}

func planOpts() PlanOptions { return PlanOptions{Prune: true, FieldManager: "addonsync"} }

func TestDecideObjects(t *testing.T) {
	cm := pobj("ConfigMap", "ns", "cm", "h1")
	cm2 := pobj("ConfigMap", "ns", "cm", "h2")
	widget := pobj("Widget", "ns", "w", "h1")
	widget.SetAPIVersion("example.com/v1")
	for _, tt := range []struct {
		name      string
		state     AddonState
		want      map[string]Verb
		reason    string // of the first object, when set
		wantErr   string
		wantHooks HookPhase
	}{
		{
			name:  "an object not on the cluster is created",
			state: pstate("a", []ObjectState{{Desired: cm}}),
			want:  map[string]Verb{"ConfigMap/ns/cm": VerbCreate}, reason: reasonNew,
		},
		{
			name:  "an object applied as rendered is unchanged",
			state: pstate("a", []ObjectState{withDesired(cm, member(applied(cm)))}),
			want:  map[string]Verb{"ConfigMap/ns/cm": VerbUnchanged}, reason: reasonUpToDate,
		},
		{
			name:  "a changed render configures",
			state: pstate("a", []ObjectState{withDesired(cm2, member(applied(cm)))}, func(s *AddonState) { s.Digest = "d2" }),
			want:  map[string]Verb{"ConfigMap/ns/cm": VerbConfigure}, reason: reasonRendered, wantHooks: HookPhaseUpgrade,
		},
		{
			name:  "a field set to false and removed by hand configures",
			state: pstate("a", []ObjectState{withDesired(cm, member(edited(cm)))}),
			want:  map[string]Verb{"ConfigMap/ns/cm": VerbConfigure}, reason: ".data.enabled changed or removed by someone else",
		},
		{
			name:  "a dry run decides what the ownership check cannot",
			state: pstate("a", []ObjectState{withDesired(cm, ObjectState{Live: edited(cm), Member: true, DryRun: edited(cm)})}),
			want:  map[string]Verb{"ConfigMap/ns/cm": VerbUnchanged}, reason: reasonDryRunNoop,
		},
		{
			name:  "a live copy without the applied hash configures",
			state: pstate("a", []ObjectState{withDesired(cm, member(applied(pobj("ConfigMap", "ns", "cm", ""))))}),
			want:  map[string]Verb{"ConfigMap/ns/cm": VerbConfigure}, reason: reasonNoHash,
		},
		{
			name:  "an object that exists outside the inventory is adopted",
			state: pstate("a", []ObjectState{{Desired: cm, Live: applied(cm), Owner: `field manager "kubectl"`}}),
			want:  map[string]Verb{"ConfigMap/ns/cm": VerbAdopt}, reason: reasonAdopt + ` (held by field manager "kubectl")`,
		},
		{
			name:  "a kind whose CRD is rendered is created once the CRD is",
			state: pstate("a", []ObjectState{{Desired: widget, Unserved: true}, {Desired: crdFor("example.com", "Widget")}}),
			want:  map[string]Verb{"Widget/ns/w": VerbCreate, "CustomResourceDefinition/widgets.example.com": VerbCreate}, reason: reasonCRDMissing,
		},
		{
			name:    "a kind nobody serves or renders is an error",
			state:   pstate("a", []ObjectState{{Desired: widget, Unserved: true}}),
			wantErr: "does not serve kind Widget.example.com",
		},
		{
			name: "an object in a missing namespace nobody creates is an error",
			state: pstate("a", []ObjectState{{Desired: pobj("ConfigMap", "elsewhere", "cm", "h1")}},
				func(s *AddonState) { s.Namespaces["elsewhere"] = NamespaceState{} }),
			wantErr: `namespace "elsewhere" does not exist and this sync does not create it`,
		},
		{
			name:  "an object in the missing add-on namespace is created after it",
			state: pstate("a", []ObjectState{{Desired: cm}}, func(s *AddonState) { s.Namespaces["ns"] = NamespaceState{} }),
			want:  map[string]Verb{"ConfigMap/ns/cm": VerbCreate}, reason: `namespace "ns" created by this sync`,
		},
		{
			name:    "a terminating add-on namespace is an error",
			state:   pstate("a", []ObjectState{{Desired: cm}}, func(s *AddonState) { s.Namespaces["ns"] = NamespaceState{Terminating: true} }),
			wantErr: `namespace "ns": terminating`,
		},
		{
			name: "an immutable field change recreates when the add-on allows it",
			state: pstate("a", []ObjectState{withDesired(cm2, ObjectState{Live: applied(cm), Member: true, DryRunErr: &ImmutableFieldError{Fields: []string{"spec.selector"}}})},
				func(s *AddonState) { s.Addon.Spec.Sync.Recreate = true; s.Digest = "d2" }),
			want: map[string]Verb{"ConfigMap/ns/cm": VerbConfigure}, reason: "recreated: immutable spec.selector changed", wantHooks: HookPhaseUpgrade,
		},
		{
			name:    "an immutable field change is an error otherwise",
			state:   pstate("a", []ObjectState{withDesired(cm2, ObjectState{Live: applied(cm), Member: true, DryRunErr: &ImmutableFieldError{Subject: "ConfigMap/ns/cm", Fields: []string{"spec.selector"}}})}),
			wantErr: "immutable field spec.selector changed",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := Decide(PlanInput{Cluster: "c", Addons: []AddonState{tt.state}, Options: planOpts()})
			ap := p.Addons[0]
			if !checkAddonPlan(t, ap, tt.wantErr, tt.want, tt.reason) {
				return
			}
			if ap.Hooks != tt.wantHooks {
				t.Errorf("hooks = %s, want %s", ap.Hooks, tt.wantHooks)
			}
		})
	}
}

func crdFor(group, kind string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": strings.ToLower(kind) + "s." + group},
		"spec":     map[string]any{"group": group, "scope": "Namespaced", "names": map[string]any{"kind": kind}},
	}}
	return u
}

func TestDecideHooksAndRecord(t *testing.T) {
	cm := pobj("ConfigMap", "ns", "cm", "h1")
	up := []ObjectState{withDesired(cm, member(applied(cm)))}
	hooks := []render.Hook{{Object: hookObject("Job", "migrate"), Events: []render.HookEvent{render.HookPreInstall, render.HookPreUpgrade}}}
	for _, tt := range []struct {
		name      string
		record    *ReleaseRecord
		digest    string
		wantHooks HookPhase
		wantWrite bool
		wantRev   int
	}{
		{name: "no record: install", record: nil, digest: "d1", wantHooks: HookPhaseInstall, wantWrite: true, wantRev: 1},
		{name: "an install that did not complete installs again", record: &ReleaseRecord{LastHook: "pre-install failed: x"}, digest: "d1", wantHooks: HookPhaseInstall, wantWrite: true, wantRev: 1},
		{name: "installed and unchanged: no hook, no write", record: &ReleaseRecord{Revision: 3, Digest: "d1", Installed: true, Hooks: "Job.batch/ns/migrate", LastHook: "install hooks succeeded"}, digest: "d1", wantRev: 3},
		{name: "render changed: upgrade", record: &ReleaseRecord{Revision: 3, Digest: "d0", Installed: true, Hooks: "Job.batch/ns/migrate"}, digest: "d1", wantHooks: HookPhaseUpgrade, wantWrite: true, wantRev: 4},
		{name: "a failed upgrade left the old digest: upgrade again", record: &ReleaseRecord{Revision: 3, Digest: "d0", Installed: true, LastHook: "pre-upgrade failed: x", Hooks: "Job.batch/ns/migrate"}, digest: "d1", wantHooks: HookPhaseUpgrade, wantWrite: true, wantRev: 4},
		{name: "drift repaired by hand edit alone runs no hook", record: &ReleaseRecord{Revision: 2, Digest: "d1", Installed: true, Hooks: "Job.batch/ns/migrate"}, digest: "d1", wantRev: 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := pstate("a", up, func(s *AddonState) { s.Record, s.Digest, s.Addon.Hooks = tt.record, tt.digest, hooks })
			ap := Decide(PlanInput{Addons: []AddonState{st}, Options: planOpts()}).Addons[0]
			if ap.Hooks != tt.wantHooks {
				t.Errorf("hooks = %s, want %s", ap.Hooks, tt.wantHooks)
			}
			if ap.Changes() != tt.wantWrite {
				t.Errorf("Changes() = %v, want %v (record %+v -> %+v)", ap.Changes(), tt.wantWrite, ap.OldRecord, ap.Record)
			}
			if !ap.Record.Installed || ap.Record.Digest != tt.digest || ap.Record.Revision != tt.wantRev {
				t.Errorf("record = %+v, want installed, digest %s, revision %d", ap.Record, tt.digest, tt.wantRev)
			}
		})
	}
}

func TestDecidePrune(t *testing.T) {
	cm := pobj("ConfigMap", "ns", "cm", "h1")
	gone := func(names ...string) stateOpt {
		return func(s *AddonState) {
			for _, n := range names {
				kind := "ConfigMap"
				if n == "ns" {
					kind = "Namespace"
				}
				id := ObjectID{Kind: kind, Namespace: "ns", Name: n}
				if kind == "Namespace" {
					id.Namespace = ""
				}
				m := Member{ID: id}
				if n == "kept" {
					m.Annotations = map[string]string{render.AnnotationResourcePolicy: "keep"}
				}
				s.Inventory.Members = append(s.Inventory.Members, m)
			}
		}
	}
	up := []ObjectState{withDesired(cm, member(applied(cm)))}
	fifty := 50
	half := planOpts()
	half.PruneLimits = config.PruneLimits{MaxPercent: &fifty}
	for _, tt := range []struct {
		name        string
		state       AddonState
		opts        PlanOptions
		want        map[string]Verb
		wantRefused bool
	}{
		{
			name: "a member the render lacks is pruned", state: pstate("a", up, gone("old")), opts: half,
			want: map[string]Verb{"ConfigMap/ns/cm": VerbUnchanged, "ConfigMap/ns/old": VerbPrune},
		},
		{
			name: "Namespaces and keep-annotated members are kept", state: pstate("a", up, gone("ns", "kept")), opts: planOpts(),
			want: map[string]Verb{"ConfigMap/ns/cm": VerbUnchanged, "Namespace/ns": VerbKeep, "ConfigMap/ns/kept": VerbKeep},
		},
		{
			name: "a prune over the share limit is refused", state: pstate("a", up, gone("o1", "o2")), opts: planOpts(),
			want:        map[string]Verb{"ConfigMap/ns/cm": VerbUnchanged, "ConfigMap/ns/o1": VerbPrune, "ConfigMap/ns/o2": VerbPrune},
			wantRefused: true,
		},
		{
			name: "--max-prune -1 lifts the limit", state: pstate("a", up, gone("o1", "o2")), opts: PlanOptions{Prune: true, MaxPrune: -1, FieldManager: "addonsync"},
			want: map[string]Verb{"ConfigMap/ns/cm": VerbUnchanged, "ConfigMap/ns/o1": VerbPrune, "ConfigMap/ns/o2": VerbPrune},
		},
		{
			name: "prune off plans no prune", state: pstate("a", up, gone("old")), opts: PlanOptions{FieldManager: "addonsync"},
			want: map[string]Verb{"ConfigMap/ns/cm": VerbUnchanged},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ap := Decide(PlanInput{Addons: []AddonState{tt.state}, Options: tt.opts}).Addons[0]
			if diff := cmp.Diff(tt.want, verbs(ap)); diff != "" {
				t.Errorf("verbs (-want +got):\n%s", diff)
			}
			if (ap.PruneRefused != nil) != tt.wantRefused {
				t.Errorf("PruneRefused = %v, want refused %v", ap.PruneRefused, tt.wantRefused)
			}
			if tt.wantRefused && ap.Changes() {
				t.Errorf("a refused prune counts as a change")
			}
		})
	}
}

func TestDecideRemovedAndRenamed(t *testing.T) {
	cm := pobj("ConfigMap", "ns", "cm", "h1")
	old := &Inventory{Addon: "web", Exists: true, Members: []Member{
		{ID: ObjectID{Kind: "ConfigMap", Namespace: "ns", Name: "cm"}},
		{ID: ObjectID{Kind: "ConfigMap", Namespace: "ns", Name: "only-old"}},
	}}
	rec := &ReleaseRecord{Installed: true, Hooks: "Job.batch/ns/migrate", Namespace: "ns"}
	t.Run("a renamed add-on adopts what the old name held; the rest is pruned", func(t *testing.T) {
		p := Decide(PlanInput{
			Options: planOpts(),
			Addons:  []AddonState{pstate("web2", []ObjectState{{Desired: cm, Live: applied(cm), Owner: "ApplySet x"}}, func(s *AddonState) { s.Record = nil })},
			Removed: []RemovedState{{Inventory: old, Record: rec}},
		})
		if diff := cmp.Diff(map[string]Verb{"ConfigMap/ns/cm": VerbAdopt}, verbs(p.Addons[0])); diff != "" {
			t.Errorf("web2 (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]Verb{"ConfigMap/ns/only-old": VerbPrune}, verbs(p.Addons[1])); diff != "" {
			t.Errorf("web (-want +got):\n%s", diff)
		}
		if !p.Addons[1].Removed || p.Addons[1].Prune[0].Reason != reasonRemovedAddon {
			t.Errorf("removed plan = %+v", p.Addons[1])
		}
	})
	t.Run("a removed add-on loses its last hooks; its namespace only when allowed", func(t *testing.T) {
		for _, allow := range []bool{false, true} {
			r := *rec
			r.PruneNamespace = allow
			p := Decide(PlanInput{Options: planOpts(), Removed: []RemovedState{{Inventory: old, Record: &r}}})
			want := ""
			if allow {
				want = "ns"
			}
			if ap := p.Addons[0]; ap.DeleteNamespace != want || len(ap.DeleteHooks) != 1 || ap.DeleteHooks[0] != (ObjectID{Group: "batch", Kind: "Job", Namespace: "ns", Name: "migrate"}) {
				t.Errorf("allow %v: DeleteNamespace %q, DeleteHooks %v", allow, ap.DeleteNamespace, ap.DeleteHooks)
			}
		}
	})
	t.Run("a partial render removes nothing", func(t *testing.T) {
		o := planOpts()
		o.Partial = true
		if p := Decide(PlanInput{Options: o, Removed: []RemovedState{{Inventory: old}}}); len(p.Addons) != 0 {
			t.Errorf("plans %d add-ons, want none", len(p.Addons))
		}
	})
	t.Run("an object rendered by two add-ons is an error", func(t *testing.T) {
		p := Decide(PlanInput{Options: planOpts(), Addons: []AddonState{pstate("a", []ObjectState{{Desired: cm}}), pstate("b", []ObjectState{{Desired: cm}})}})
		if err := p.Addons[1].Err; err == nil || !strings.Contains(err.Error(), `rendered by add-ons "a" and "b"`) {
			t.Errorf("b Err = %v", err)
		}
		var pe *PruneLimitError
		if errors.As(p.Err(), &pe) {
			t.Errorf("Err() = %v, want no prune error", p.Err())
		}
	})
}
