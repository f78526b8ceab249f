package sync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/addonsync/addonsync/pkg/render"
)

// prepare copies the add-on's objects, fills missing namespaces, labels them as members of the
// add-on's ApplySet and records the hash of each as it will be applied.
func (m *Manager) prepare(_ context.Context, r *addonRun) error {
	r.set = m.applySetFor(r.addon.Name)
	r.hashes = make(map[ObjectID]string, len(r.addon.Objects))
	r.live = map[ObjectID]*unstructured.Unstructured{}
	r.listed = map[listKey]bool{}
	crdScopes := renderedCRDScopes(r.addon.Objects)
	r.objects = make([]*unstructured.Unstructured, 0, len(r.addon.Objects))
	for _, in := range r.addon.Objects {
		obj := in.DeepCopy()
		if obj.GetNamespace() == "" && m.isNamespaced(obj.GroupVersionKind(), crdScopes) {
			obj.SetNamespace(addonNamespace(r.addon))
		}
		id := IDOf(obj)
		if _, dup := r.hashes[id]; dup {
			return fmt.Errorf("%s: rendered twice; remove the duplicate from the chart values or overlay", id)
		}
		labels := obj.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[LabelApplySetPartOf] = r.set.id
		obj.SetLabels(labels)
		h, err := appliedHash(obj)
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		ann := obj.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[AnnotationAppliedHash] = h
		obj.SetAnnotations(ann)
		r.hashes[id] = h
		r.objects = append(r.objects, obj)
	}
	return nil
}

func addonNamespace(a *render.Addon) string {
	if a.Namespace != "" {
		return a.Namespace
	}
	return a.Spec.Namespace
}

// appliedHash is the hex SHA-256 of the object's JSON without the hash annotation.
func appliedHash(obj *unstructured.Unstructured) (string, error) {
	c := obj.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "metadata", "annotations", AnnotationAppliedHash)
	b, err := json.Marshal(c.Object)
	if err != nil {
		return "", fmt.Errorf("encode: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// renderedCRDScopes maps the kinds defined by rendered CRDs to whether they are namespaced.
func renderedCRDScopes(objs []*unstructured.Unstructured) map[schema.GroupKind]bool {
	out := map[schema.GroupKind]bool{}
	for _, o := range objs {
		if o.GroupVersionKind().GroupKind() != gkCRD {
			continue
		}
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
		scope, _, _ := unstructured.NestedString(o.Object, "spec", "scope")
		out[schema.GroupKind{Group: group, Kind: kind}] = scope == "Namespaced"
	}
	return out
}

func (m *Manager) isNamespaced(gvk schema.GroupVersionKind, crdScopes map[schema.GroupKind]bool) bool {
	if ns, ok := crdScopes[gvk.GroupKind()]; ok {
		return ns
	}
	mapping, err := m.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	return err == nil && mapping.Scope.Name() == meta.RESTScopeNameNamespace
}

// ensureNamespace creates the add-on namespace when missing and not rendered (like helm
// --create-namespace). It is not a member of the inventory, so it is never pruned.
func (m *Manager) ensureNamespace(ctx context.Context, r *addonRun) error {
	ns := addonNamespace(r.addon)
	if ns == "" {
		return nil
	}
	if _, rendered := r.hashes[ObjectID{Kind: "Namespace", Name: ns}]; rendered {
		return nil
	}
	created, err := m.ensureNamespaceExists(ctx, ns, r.opts.DryRun)
	if err != nil {
		return fmt.Errorf("namespace %q: %w", ns, err)
	}
	if created {
		e := newEntry(r.addon.Name, ObjectID{Kind: "Namespace", Name: ns}, ActionCreated, "add-on namespace")
		r.changes.Add(e)
		r.opts.Progress(Event{Type: EventObject, Addon: r.addon.Name, Entry: &e})
	}
	return nil
}

var namespaceGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// ensureNamespaceExists reports whether it created (or, in a dry run, would create) ns.
func (m *Manager) ensureNamespaceExists(ctx context.Context, ns string, dryRun bool) (bool, error) {
	live, err := m.dynamic.Resource(namespaceGVR).Get(ctx, ns, metav1.GetOptions{})
	if err == nil {
		if phase, _, _ := unstructured.NestedString(live.Object, "status", "phase"); phase == string(corev1.NamespaceTerminating) {
			return false, errors.New("namespace is terminating; wait until it is gone and sync again")
		}
		return false, nil
	}
	if !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("read failed: %w", err)
	}
	if dryRun {
		return true, nil
	}
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("Namespace")
	u.SetName(ns)
	u.SetLabels(map[string]string{render.LabelManagedBy: render.ManagedBy})
	_, err = m.dynamic.Resource(namespaceGVR).Create(ctx, u, metav1.CreateOptions{FieldManager: m.opts.FieldManager})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return false, fmt.Errorf("create failed: %w", err)
	}
	return true, nil
}

// applyStages applies the objects stage by stage: CRDs and Namespaces (then waits for the CRDs
// to be Established and resets the REST mapper), cluster RBAC, the rest, webhooks last.
func (m *Manager) applyStages(ctx context.Context, r *addonRun) error {
	for _, st := range stagesOf(r.objects) {
		start := time.Now()
		if err := m.refreshLive(ctx, r, st.objects); err != nil {
			return fmt.Errorf("stage %s: %w", st.stage, err)
		}
		entries, err := m.applyAll(ctx, r, st.objects)
		r.changes.Add(entries...)
		if err != nil {
			return fmt.Errorf("stage %s: %w", st.stage, err)
		}
		if st.stage == stageCRDsNamespaces && !r.opts.DryRun {
			if err := m.establishCRDs(ctx, r, st.objects, entries); err != nil {
				return err
			}
		}
		m.log.Debug("stage applied", "addon", r.addon.Name, "stage", st.stage.String(), "objects", len(st.objects), "duration", time.Since(start))
	}
	return nil
}

// refreshLive lists, once per kind and namespace, the members the objects may already be.
func (m *Manager) refreshLive(ctx context.Context, r *addonRun, objs []*unstructured.Unstructured) error {
	var keys []listKey
	seen := map[listKey]bool{}
	for _, o := range objs {
		k := listKey{gvk: o.GroupVersionKind(), namespace: o.GetNamespace()}
		if !r.listed[k] && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	results := make([][]*unstructured.Unstructured, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.opts.Concurrency)
	for i, k := range keys {
		g.Go(func() error {
			objs, err := m.listMembers(gctx, r.set.id, k)
			results[i] = objs
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, k := range keys {
		r.listed[k] = true
		for _, o := range results[i] {
			r.live[IDOf(o)] = o
		}
	}
	return nil
}

// applyAll applies objects concurrently; entries are written by index.
func (m *Manager) applyAll(ctx context.Context, r *addonRun, objs []*unstructured.Unstructured) ([]ChangeSetEntry, error) {
	entries := make([]ChangeSetEntry, len(objs))
	errs := make([]error, len(objs))
	g := errgroup.Group{}
	g.SetLimit(m.opts.Concurrency)
	for i, obj := range objs {
		g.Go(func() error {
			id := IDOf(obj)
			if err := ctx.Err(); err != nil {
				entries[i], errs[i] = newEntry(r.addon.Name, id, ActionFailed, err.Error()), err
				return nil
			}
			e, err := m.applyObject(ctx, r, obj)
			if err != nil {
				e = newEntry(r.addon.Name, id, ActionFailed, err.Error())
			}
			entries[i], errs[i] = e, err
			r.opts.Progress(Event{Type: EventObject, Addon: r.addon.Name, Entry: &entries[i]})
			return nil
		})
	}
	_ = g.Wait()
	return entries, errors.Join(errs...)
}

// resourceFor maps an object to its dynamic client.
func (m *Manager) resourceFor(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	mapping, err := m.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, err
	}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return m.dynamic.Resource(mapping.Resource).Namespace(obj.GetNamespace()), nil
	}
	return m.dynamic.Resource(mapping.Resource), nil
}

// applyObject applies one object unless its live copy is already up to date.
func (m *Manager) applyObject(ctx context.Context, r *addonRun, obj *unstructured.Unstructured) (ChangeSetEntry, error) {
	id := IDOf(obj)
	r.mu.Lock()
	live := r.live[id]
	r.mu.Unlock()
	if live != nil && UpToDate(obj, live) {
		return newEntry(r.addon.Name, id, ActionUnchanged, ""), nil
	}
	ri, err := m.resourceFor(obj)
	if err != nil {
		if r.opts.DryRun && meta.IsNoMatchError(err) {
			return newEntry(r.addon.Name, id, ActionCreated, "kind served once its CRD is applied"), nil
		}
		return ChangeSetEntry{}, fmt.Errorf("%s: %w", id, err)
	}
	out, err := m.apply(ctx, ri, obj, r)
	if err != nil {
		var imm *ImmutableFieldError
		if errors.As(err, &imm) && r.addon.Spec.Sync.Recreate && !r.opts.DryRun {
			return m.recreate(ctx, ri, obj, r, imm)
		}
		if r.opts.DryRun && apierrors.IsNotFound(err) && live == nil {
			return newEntry(r.addon.Name, id, ActionCreated, "namespace created on sync"), nil
		}
		return ChangeSetEntry{}, err
	}
	if r.opts.DryRun && live != nil {
		// A dry run keeps the resourceVersion: compare the would-be object instead.
		if sameContent(live, out) {
			return newEntry(r.addon.Name, id, ActionUnchanged, ""), nil
		}
		return newEntry(r.addon.Name, id, ActionConfigured, ""), nil
	}
	return newEntry(r.addon.Name, id, actionFor(live, out, m.opts.FieldManager), ""), nil
}

// sameContent compares two versions of an object without managedFields and resourceVersion.
func sameContent(a, b *unstructured.Unstructured) bool {
	strip := func(u *unstructured.Unstructured) map[string]any {
		c := u.DeepCopy()
		unstructured.RemoveNestedField(c.Object, "metadata", "managedFields")
		unstructured.RemoveNestedField(c.Object, "metadata", "resourceVersion")
		unstructured.RemoveNestedField(c.Object, "metadata", "generation")
		return c.Object
	}
	return reflect.DeepEqual(strip(a), strip(b))
}

// apply sends one server-side apply, translating conflicts and immutable-field errors.
func (m *Manager) apply(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, r *addonRun) (*unstructured.Unstructured, error) {
	opts := metav1.ApplyOptions{FieldManager: m.opts.FieldManager, Force: forceConflicts(r.addon)}
	if r.opts.DryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	out, err := ri.Apply(ctx, obj.GetName(), obj, opts)
	if err != nil {
		return nil, applyError(IDOf(obj), err)
	}
	return out, nil
}

func forceConflicts(a *render.Addon) bool {
	return a.Spec.Sync.ForceConflicts == nil || *a.Spec.Sync.ForceConflicts
}

// actionFor tells created from configured from unchanged: a listed object whose
// resourceVersion did not move is unchanged; an object not listed was created unless another
// manager already had fields in it (adopted, so configured).
func actionFor(live, out *unstructured.Unstructured, manager string) Action {
	if live != nil {
		if live.GetResourceVersion() == out.GetResourceVersion() {
			return ActionUnchanged
		}
		return ActionConfigured
	}
	for _, mf := range out.GetManagedFields() {
		if mf.Manager != manager {
			return ActionConfigured
		}
	}
	return ActionCreated
}

// recreate deletes an object whose immutable fields changed, waits until it is gone and
// applies it again.
func (m *Manager) recreate(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, r *addonRun, cause *ImmutableFieldError) (ChangeSetEntry, error) {
	id := IDOf(obj)
	bg := metav1.DeletePropagationBackground
	if err := ri.Delete(ctx, obj.GetName(), metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil && !apierrors.IsNotFound(err) {
		return ChangeSetEntry{}, fmt.Errorf("%s: delete to recreate failed: %w", id, err)
	}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, m.opts.DeleteTimeout, true, func(ctx context.Context) (bool, error) {
		_, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		return ChangeSetEntry{}, fmt.Errorf("%s: waiting for deletion before recreate: %w", id, err)
	}
	if _, err := m.apply(ctx, ri, obj, r); err != nil {
		return ChangeSetEntry{}, err
	}
	return newEntry(r.addon.Name, id, ActionConfigured, "recreated: immutable "+cause.fieldList()+" changed"), nil
}
