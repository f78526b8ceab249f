package sync

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/addonsync/addonsync/pkg/objref"
	"github.com/addonsync/addonsync/pkg/render"
)

// ApplySet (KEP-3659) keys, as kubectl's pkg/cmd/apply/applyset.go defines them.
const (
	// LabelApplySetID is on the parent: its value is ApplySetID(parent).
	LabelApplySetID = "applyset.kubernetes.io/id"
	// LabelApplySetPartOf is on every member: the parent's ID.
	LabelApplySetPartOf = "applyset.kubernetes.io/part-of"
	// AnnotationApplySetTooling names the tool managing the set: "addonsync/<version>".
	AnnotationApplySetTooling = "applyset.kubernetes.io/tooling"
	// AnnotationApplySetGroupKinds lists the members' group-kinds, "Kind.group", sorted, comma-separated.
	AnnotationApplySetGroupKinds = "applyset.kubernetes.io/contains-group-kinds"
	// AnnotationApplySetNamespaces lists the members' namespaces other than the parent's.
	AnnotationApplySetNamespaces = "applyset.kubernetes.io/additional-namespaces"
)

// addonsync's own keys.
const (
	// AnnotationAppliedHash is the SHA-256 of the object as last applied (without this
	// annotation); a live object with the desired hash has no fields dropped from the render.
	AnnotationAppliedHash = "addonsync.io/applied-hash"
	// AnnotationPrune set to "disabled" keeps an object from being pruned.
	AnnotationPrune = "addonsync.io/prune"
	// ParentPrefix prefixes the add-on name in the parent ConfigMap's name.
	ParentPrefix = "addonsync-"
)

// ApplySetID computes the applyset.kubernetes.io/id of a parent exactly as kubectl does:
// "applyset-" + base64url(sha256(<name>.<namespace>.<kind>.<group>)) without padding + "-v1".
func ApplySetID(parent ObjectID) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{parent.Name, parent.Namespace, parent.Kind, parent.Group}, ".")))
	return "applyset-" + base64.RawURLEncoding.EncodeToString(sum[:]) + "-v1"
}

// applySet names an add-on's parent.
type applySet struct {
	addon  string
	parent ObjectID
	id     string
}

func (m *Manager) applySetFor(addon string) applySet {
	p := ObjectID{Kind: "ConfigMap", Namespace: m.opts.InventoryNamespace, Name: ParentPrefix + addon}
	return applySet{addon: addon, parent: p, id: ApplySetID(p)}
}

// Member is an object the inventory holds.
type Member struct {
	// ID of the object.
	ID ObjectID
	// Annotations of the live object (keep and prune-disabled markers are read from them).
	Annotations map[string]string
}

// Inventory is what an add-on's ApplySet parent records, and the members found with it.
type Inventory struct {
	// Addon name.
	Addon string
	// ID is the ApplySet ID, the value of the members' part-of label.
	ID string
	// Parent is the parent ConfigMap.
	Parent ObjectID
	// Exists is false when the parent is missing (the add-on was never synced).
	Exists bool
	// GroupKinds the parent lists, sorted.
	GroupKinds []schema.GroupKind
	// Namespaces the members live in (the parent's and the additional ones), sorted.
	Namespaces []string
	// Members found by listing each group-kind in each namespace with the part-of label.
	Members []Member
	// Record is the release record the parent holds; nil when it holds none.
	Record *ReleaseRecord
}

// DataRelease is the parent's data key holding the release record (JSON).
const DataRelease = "release"

// Inventory reads an add-on's ApplySet parent and lists its members.
func (m *Manager) Inventory(ctx context.Context, addon string) (*Inventory, error) {
	as := m.applySetFor(addon)
	inv, err := m.readParent(ctx, as)
	if err != nil {
		return nil, err
	}
	objs, err := m.listInventory(ctx, inv, nil)
	if err != nil {
		return nil, err
	}
	inv.Members = membersOf(objs)
	return inv, nil
}

func membersOf(objs []*unstructured.Unstructured) []Member {
	ms := make([]Member, 0, len(objs))
	for _, o := range objs {
		ms = append(ms, Member{ID: IDOf(o), Annotations: o.GetAnnotations()})
	}
	sort.Slice(ms, func(i, j int) bool { return objref.Less(ms[i].ID, ms[j].ID) })
	return ms
}

var configMapGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// readParent reads the parent; a missing parent is an empty inventory.
func (m *Manager) readParent(ctx context.Context, as applySet) (*Inventory, error) {
	u, err := m.dynamic.Resource(configMapGVR).Namespace(as.parent.Namespace).Get(ctx, as.parent.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return parentFrom(as, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("inventory %s: read failed: %w", as.parent, err)
	}
	return parentFrom(as, u)
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func parseGroupKinds(s string) []schema.GroupKind {
	var gks []schema.GroupKind
	for _, p := range splitList(s) {
		gks = append(gks, schema.ParseGroupKind(p))
	}
	return gks
}

// formatGroupKinds renders group-kinds as kubectl does: gk.String() sorted, comma-separated.
func formatGroupKinds(gks []schema.GroupKind) string {
	ss := make([]string, 0, len(gks))
	for _, gk := range gks {
		ss = append(ss, gk.String())
	}
	sort.Strings(ss)
	return strings.Join(dedupe(ss), ",")
}

func normaliseNamespaces(ns []string) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		if n != "" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return dedupe(out)
}

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

func unionGroupKinds(a, b []schema.GroupKind) []schema.GroupKind {
	seen := map[schema.GroupKind]bool{}
	var out []schema.GroupKind
	for _, gk := range append(append([]schema.GroupKind{}, a...), b...) {
		if !seen[gk] {
			seen[gk] = true
			out = append(out, gk)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// scopeOf returns the group-kinds and namespaces of objects.
func scopeOf(objs []*unstructured.Unstructured) ([]schema.GroupKind, []string) {
	var gks []schema.GroupKind
	var nss []string
	for _, o := range objs {
		gks = append(gks, o.GroupVersionKind().GroupKind())
		nss = append(nss, o.GetNamespace())
	}
	return unionGroupKinds(gks, nil), normaliseNamespaces(nss)
}

// parentObject builds the parent ConfigMap recording gks, namespaces and the release record.
func (m *Manager) parentObject(as applySet, gks []schema.GroupKind, nss []string, rec *ReleaseRecord) *unstructured.Unstructured {
	var extra []string
	for _, n := range nss {
		if n != as.parent.Namespace {
			extra = append(extra, n)
		}
	}
	cm := &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      as.parent.Name,
			Namespace: as.parent.Namespace,
			Labels: map[string]string{
				LabelApplySetID:       as.id,
				render.LabelManagedBy: render.ManagedBy,
				render.LabelAddon:     as.addon,
			},
			Annotations: map[string]string{
				AnnotationApplySetTooling:    m.opts.Tooling,
				AnnotationApplySetGroupKinds: formatGroupKinds(gks),
				AnnotationApplySetNamespaces: strings.Join(extra, ","),
			},
		},
	}
	if rec != nil {
		b, _ := json.Marshal(rec)
		cm.Data = map[string]string{DataRelease: string(b)}
	}
	obj, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(cm)
	u := &unstructured.Unstructured{Object: obj}
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	return u
}

// writeParent applies the parent unless it already records exactly gks, nss and rec.
func (m *Manager) writeParent(ctx context.Context, as applySet, inv *Inventory, gks []schema.GroupKind, nss []string, rec *ReleaseRecord) error {
	nss = normaliseNamespaces(append(append([]string{}, nss...), as.parent.Namespace))
	if inv.Exists && formatGroupKinds(inv.GroupKinds) == formatGroupKinds(gks) &&
		strings.Join(inv.Namespaces, ",") == strings.Join(nss, ",") && sameRecord(inv.Record, rec) {
		return nil
	}
	u := m.parentObject(as, gks, nss, rec)
	_, err := m.dynamic.Resource(configMapGVR).Namespace(as.parent.Namespace).Apply(ctx, as.parent.Name, u,
		metav1.ApplyOptions{FieldManager: m.opts.FieldManager, Force: true})
	if err != nil {
		return fmt.Errorf("inventory %s: write failed: %w", as.parent, err)
	}
	inv.Exists, inv.GroupKinds, inv.Namespaces, inv.Record = true, gks, nss, rec
	return nil
}

func sameRecord(a, b *ReleaseRecord) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// ensureInventoryNamespace creates the inventory namespace when missing.
func (m *Manager) ensureInventoryNamespace(ctx context.Context) error {
	_, err := m.ensureNamespaceExists(ctx, m.opts.InventoryNamespace, false)
	if err != nil {
		return fmt.Errorf("inventory namespace %q: %w", m.opts.InventoryNamespace, err)
	}
	return nil
}

// listKey is one list call: a group-version-kind in a namespace ("" cluster-wide).
type listKey struct {
	gvk       schema.GroupVersionKind
	namespace string
}

// listMembers lists the objects of one kind in one namespace carrying the part-of label. A kind
// the server does not serve (yet) has no members.
func (m *Manager) listMembers(ctx context.Context, id string, k listKey) ([]*unstructured.Unstructured, error) {
	mapping, err := m.mapper.RESTMapping(k.gvk.GroupKind(), k.gvk.Version)
	if meta.IsNoMatchError(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.gvk.Kind, err)
	}
	ri := m.dynamic.Resource(mapping.Resource)
	var list *unstructured.UnstructuredList
	opts := metav1.ListOptions{LabelSelector: LabelApplySetPartOf + "=" + id}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace && k.namespace != "" {
		list, err = ri.Namespace(k.namespace).List(ctx, opts)
	} else {
		list, err = ri.List(ctx, opts)
	}
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s in %q: %w", mapping.Resource.Resource, k.namespace, err)
	}
	out := make([]*unstructured.Unstructured, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	return out, nil
}
