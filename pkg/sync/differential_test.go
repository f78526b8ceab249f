package sync

import (
	"reflect"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/pkg/render"
)

// handEdit is a change made to a live object by someone other than addonsync.
type handEdit struct {
	name    string
	subject string
	// patch is sent as patchType by the field manager "kubectl-edit"; apply, when set, is
	// server-side applied with force by the field manager "other" instead.
	patchType types.PatchType
	patch     string
	apply     string
	// want is what the server's dry run must say for the edit to test what it claims:
	// "changed", "unchanged" or "" (either: the server may default the field back).
	want string
}

// handEdits are the ways a person edits objects by hand, on every kind of the fixture.
func handEdits(ns string) []handEdit {
	const jp, mp = types.JSONPatchType, types.MergePatchType
	dep, ds, sa, cm := "Deployment/"+ns+"/coredns", "DaemonSet/"+ns+"/speaker", "ServiceAccount/"+ns+"/coredns", "ConfigMap/"+ns+"/coredns"
	return []handEdit{
		{
			name: "remove allowPrivilegeEscalation: false", subject: dep, patchType: jp, want: "changed",
			patch: `[{"op":"remove","path":"/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation"}]`,
		},
		{
			name: "remove automountServiceAccountToken: false from a ServiceAccount", subject: sa, patchType: jp, want: "changed",
			patch: `[{"op":"remove","path":"/automountServiceAccountToken"}]`,
		},
		{
			name: "remove automountServiceAccountToken: false from a pod template", subject: dep, patchType: jp, want: "changed",
			patch: `[{"op":"remove","path":"/spec/template/spec/automountServiceAccountToken"}]`,
		},
		{
			name: "remove privileged: false", subject: ds, patchType: jp, want: "changed",
			patch: `[{"op":"remove","path":"/spec/template/spec/containers/0/securityContext/privileged"}]`,
		},
		{
			name: "remove an env var whose value is empty", subject: ds, patchType: jp, want: "changed",
			patch: `[{"op":"remove","path":"/spec/template/spec/containers/0/env/1"}]`,
		},
		{
			name: "remove a data key holding an empty string", subject: cm, patchType: jp, want: "changed",
			patch: `[{"op":"remove","path":"/data/empty"}]`,
		},
		{
			name: "remove autoAssign: false from a custom resource", subject: "IPPool/" + ns + "/default", patchType: jp, want: "changed",
			patch: `[{"op":"remove","path":"/spec/autoAssign"}]`,
		},
		{
			name: "remove a property of a CRD over 256 KiB", subject: "CustomResourceDefinition/bigs." + ns + ".example.com", patchType: jp, want: "changed",
			patch: `[{"op":"remove","path":"/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/field00001"}]`,
		},
		{
			name: "remove a field the server defaults back", subject: "MutatingWebhookConfiguration/" + ns + "-pods", patchType: jp,
			patch: `[{"op":"remove","path":"/webhooks/0/reinvocationPolicy"}]`,
		},
		{name: "set replicas to 0", subject: dep, patchType: mp, want: "changed", patch: `{"spec":{"replicas":0}}`},
		{
			name: "set a list to []", subject: dep, patchType: jp, want: "changed",
			patch: `[{"op":"replace","path":"/spec/template/spec/containers/0/args","value":[]}]`,
		},
		{
			name: "set a map to {}", subject: "ConfigMap/" + ns + "/coredns", patchType: jp, want: "changed",
			patch: `[{"op":"replace","path":"/metadata/annotations","value":{}}]`,
		},
		{name: "set a string to empty", subject: cm, patchType: mp, want: "changed", patch: `{"data":{"debug":""}}`},
		{name: "set an empty string to a value", subject: cm, patchType: mp, want: "changed", patch: `{"data":{"empty":"x"}}`},
		{name: "change false to true", subject: "Service/" + ns + "/coredns", patchType: mp, want: "changed", patch: `{"spec":{"publishNotReadyAddresses":true}}`},
		{
			name: "change an integer", subject: "ValidatingWebhookConfiguration/" + ns + "-ippools", patchType: jp, want: "changed",
			patch: `[{"op":"replace","path":"/webhooks/0/timeoutSeconds","value":5}]`,
		},
		{name: "change a Secret value", subject: "Secret/" + ns + "/webhook-ca", patchType: mp, want: "changed", patch: `{"data":{"ca.crt":"b3RoZXI="}}`},
		{
			name: "drop a verb from an atomic list", subject: "ClusterRole/" + ns + "-speaker", patchType: jp, want: "changed",
			patch: `[{"op":"remove","path":"/rules/0/verbs/1"}]`,
		},
		{name: "change a label addonsync sets", subject: dep, patchType: mp, want: "changed", patch: `{"metadata":{"labels":{"app.kubernetes.io/name":"other"}}}`},
		{name: "change an annotation addonsync sets", subject: cm, patchType: mp, want: "changed", patch: `{"metadata":{"annotations":{"meta.helm.sh/release-name":"other"}}}`},
		{name: "change the applied hash", subject: "Role/" + ns + "/coredns", patchType: mp, want: "changed", patch: `{"metadata":{"annotations":{"` + AnnotationAppliedHash + `":"x"}}}`},
		{
			name: "take a field over with another field manager", subject: cm, want: "changed",
			apply: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"coredns","namespace":"` + ns + `"},"data":{"debug":"true"}}`,
		},
		{
			name: "take a list element over with another field manager", subject: dep, want: "changed",
			apply: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"coredns","namespace":"` + ns + `"},"spec":{"selector":{"matchLabels":{"app.kubernetes.io/name":"coredns"}},"template":{"spec":{"containers":[{"name":"coredns","image":"registry.example.com/coredns:9"}]}}}}`,
		},
		{name: "add a label nobody renders", subject: "Service/" + ns + "/coredns", patchType: mp, want: "unchanged", patch: `{"metadata":{"labels":{"team":"dns"}}}`},
		{name: "add a field nobody renders", subject: dep, patchType: mp, want: "unchanged", patch: `{"spec":{"minReadySeconds":5}}`},
		{
			name: "add an annotation to the big CRD", subject: "CustomResourceDefinition/bigs." + ns + ".example.com", patchType: mp, want: "unchanged",
			patch: `{"metadata":{"annotations":{"note":"hand"}}}`,
		},
	}
}

// TestUpToDateMatchesServerDryRun is the differential test of the up-to-date decision: after
// every hand edit, the planner's verdict (from one LIST per kind and the managedFields
// ownership check, no dry run) equals whether a server-side dry-run apply changes the object.
func TestUpToDateMatchesServerDryRun(t *testing.T) {
	testenv.Require(t, env)
	ctx := t.Context()
	ns := env.Namespace(t)
	group := ns + ".example.com"
	objs := append(fixture(t, "realistic", map[string]string{"NS": ns, "GROUP": group}), bigCRD(group, "bigs", "Big", 300<<10))
	m := newTestManager(t, ns, nil)
	c := &render.Cluster{Name: "test", Addons: []render.Addon{addon("dns", ns, objs)}}
	sync := func(t *testing.T) {
		t.Helper()
		if _, err := m.Sync(ctx, c, syncOpts()); err != nil {
			t.Fatalf("Sync: %v", err)
		}
	}
	prepared := func(t *testing.T) []*unstructured.Unstructured {
		r := &addonRun{addon: &c.Addons[0]}
		if err := m.prepare(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r.objects
	}
	// verdicts plans as a sync does; cheap holds the ownership check's verdict alone (no
	// dry run): whether it says changed.
	verdicts := func(t *testing.T) (map[string]Verb, map[string]bool) {
		t.Helper()
		in, err := m.gather(ctx, c, []*render.Addon{&c.Addons[0]}, syncOpts().planOptions(m.opts.FieldManager), gatherOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out, cheap := map[string]Verb{}, map[string]bool{}
		for i, s := range Decide(*in).Addons[0].Objects {
			os := in.Addons[0].Objects[i]
			out[s.ID.String()] = s.Verb
			os.DryRun = nil
			v, _ := objectVerdict(&os, m.opts.FieldManager)
			cheap[s.ID.String()] = v != VerbUnchanged
		}
		return out, cheap
	}
	// serverChanges is the oracle: does a dry-run apply of the object change it?
	serverChanges := func(t *testing.T, subject string) bool {
		t.Helper()
		obj := find(t, prepared(t), subject)
		ri := objectClient(t, m, obj)
		live, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		merged, err := ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: m.opts.FieldManager, Force: true, DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			t.Fatal(err)
		}
		return !reflect.DeepEqual(oracleView(live), oracleView(merged))
	}
	subjectsOf := subjects(objs)

	sync(t)
	t.Run("after a sync every object is unchanged, as the server agrees", func(t *testing.T) {
		got, cheap := verdicts(t)
		for _, s := range subjectsOf {
			if got[s] != VerbUnchanged || cheap[s] || serverChanges(t, s) {
				t.Errorf("%s: planner %s (ownership check alone: changed %v), server dry run changes it: %v", s, got[s], cheap[s], serverChanges(t, s))
			}
		}
	})
	for _, e := range handEdits(ns) {
		t.Run(e.name, func(t *testing.T) {
			editObject(t, m, find(t, prepared(t), e.subject), e)
			want := serverChanges(t, e.subject)
			if e.want != "" && want != (e.want == "changed") {
				t.Fatalf("the server's dry run says changed=%v; the edit does not test what it claims (%s)", want, e.want)
			}
			got, cheap := verdicts(t)
			if (got[e.subject] != VerbUnchanged) != want || cheap[e.subject] != want {
				t.Errorf("%s: planner %s (ownership check alone: changed %v), server dry run changes it: %v", e.subject, got[e.subject], cheap[e.subject], want)
			}
			for _, s := range subjectsOf {
				if s != e.subject && got[s] != VerbUnchanged {
					t.Errorf("%s: planner %s after an edit of %s", s, got[s], e.subject)
				}
			}
			res, err := m.Diff(ctx, c, DefaultDiffOptions())
			if err != nil {
				t.Fatal(err)
			}
			if res.HasChanges() != want || want != slices.ContainsFunc(res.Addons[0].Change, func(od ObjectDiff) bool { return od.Subject == e.subject }) {
				t.Errorf("diff: changes %v, change list %+v; want the edit reported: %v", res.HasChanges(), res.Addons[0].Change, want)
			}
			sync(t)
			if serverChanges(t, e.subject) {
				t.Errorf("%s: not put back by sync", e.subject)
			}
			if got, _ := verdicts(t); got[e.subject] != VerbUnchanged {
				t.Errorf("%s: planner %s after the sync that put it back", e.subject, got[e.subject])
			}
		})
	}
}

// oracleView is an object without what every write changes (managedFields, resourceVersion,
// generation).
func oracleView(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy()
	for _, f := range []string{"managedFields", "resourceVersion", "generation"} {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	return c.Object
}

// editObject makes a hand edit.
func editObject(t *testing.T, m *Manager, obj *unstructured.Unstructured, e handEdit) {
	t.Helper()
	ri := objectClient(t, m, obj)
	var err error
	if e.apply != "" {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON([]byte(e.apply)); err != nil {
			t.Fatal(err)
		}
		_, err = ri.Apply(t.Context(), obj.GetName(), u, metav1.ApplyOptions{FieldManager: "other", Force: true})
	} else {
		_, err = ri.Patch(t.Context(), obj.GetName(), e.patchType, []byte(e.patch), metav1.PatchOptions{FieldManager: "kubectl-edit"})
	}
	if err != nil {
		t.Fatalf("%s: %v", e.name, err)
	}
}
