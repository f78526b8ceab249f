package sync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
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

// prepare copies the add-on's objects, fills missing namespaces (and clears them on
// cluster-scoped kinds, which a chart may have templated one into), moves Secret stringData
// into data as the API server stores it, labels the objects as members of the add-on's
// ApplySet and records the hash of each as it will be applied.
func (m *Manager) prepare(_ context.Context, r *addonRun) error {
	r.set = m.applySetFor(r.addon.Name)
	r.hashes = make(map[ObjectID]string, len(r.addon.Objects))
	crdScopes := r.crdScopes
	if crdScopes == nil {
		crdScopes = renderedCRDScopes(r.addon.Objects)
	}
	r.objects = make([]*unstructured.Unstructured, 0, len(r.addon.Objects))
	for _, in := range r.addon.Objects {
		obj := in.DeepCopy()
		namespaced, known := m.scopeOf(obj.GroupVersionKind(), crdScopes)
		switch {
		case obj.GetNamespace() == "" && namespaced:
			obj.SetNamespace(addonNamespace(r.addon))
		case obj.GetNamespace() != "" && known && !namespaced:
			obj.SetNamespace("")
		}
		if obj.GetKind() == "Secret" && obj.GetAPIVersion() == "v1" {
			obj.Object = secretDataOnly(obj.Object)
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
	content := obj.Object
	meta, _ := content["metadata"].(map[string]any)
	ann, _ := meta["annotations"].(map[string]any)
	if _, ok := ann[AnnotationAppliedHash]; ok {
		// Copy only the maps on the way to the annotation: the object is not changed, and
		// a big CRD is not copied to be hashed.
		ann = maps.Clone(ann)
		delete(ann, AnnotationAppliedHash)
		meta = maps.Clone(meta)
		meta["annotations"] = ann
		content = maps.Clone(content)
		content["metadata"] = meta
	}
	b, err := json.Marshal(content)
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
	ns, _ := m.scopeOf(gvk, crdScopes)
	return ns
}

// scopeOf tells whether a kind is namespaced, and whether its scope is known at all.
func (m *Manager) scopeOf(gvk schema.GroupVersionKind, crdScopes map[schema.GroupKind]bool) (namespaced, known bool) {
	if ns, ok := crdScopes[gvk.GroupKind()]; ok {
		return ns, true
	}
	mapping, err := m.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return false, false
	}
	return mapping.Scope.Name() == meta.RESTScopeNameNamespace, true
}

// ensureNamespace creates the add-on namespace when the plan says it is missing (like helm
// --create-namespace). It is not a member of the inventory, so it is never pruned with the
// add-on's objects; the release record remembers it.
func (m *Manager) ensureNamespace(ctx context.Context, r *addonRun) error {
	ns := r.plan.Namespace
	if !r.plan.CreateNamespace {
		return nil
	}
	created, err := m.ensureNamespaceExists(ctx, ns, false)
	if err != nil {
		return fmt.Errorf("namespace %q: %w", ns, err)
	}
	if !created {
		return nil // another add-on of the same namespace created it first
	}
	e := newEntry(r.addon.Name, ObjectID{Kind: "Namespace", Name: ns}, ActionCreated, "add-on namespace")
	r.changes.Add(e)
	r.opts.Progress(Event{Type: EventObject, Addon: r.addon.Name, Entry: &e})
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

// applyStages applies the planned objects stage by stage: CRDs and Namespaces (then waits for
// the CRDs to be Established and resets the REST mapper), cluster RBAC, the rest, webhooks
// last. Unchanged objects are reported and not sent.
func (m *Manager) applyStages(ctx context.Context, r *addonRun) error {
	for _, st := range stagesOf(r.objects) {
		start := time.Now()
		entries, applied, err := m.applyAll(ctx, r, st.objects)
		r.changes.Add(entries...)
		if err != nil {
			return fmt.Errorf("stage %s: %w", st.stage, err)
		}
		if st.stage == stageCRDsNamespaces {
			if err := m.establishCRDs(ctx, r, st.objects, entries, applied); err != nil {
				return err
			}
		}
		m.log.Debug("stage applied", "addon", r.addon.Name, "stage", st.stage.String(), "objects", len(st.objects), "duration", time.Since(start))
	}
	return nil
}

// applyAll applies objects concurrently; entries, and the objects as the API server returned
// them (nil where nothing was sent), are written by index.
func (m *Manager) applyAll(ctx context.Context, r *addonRun, objs []*unstructured.Unstructured) ([]ChangeSetEntry, []*unstructured.Unstructured, error) {
	entries := make([]ChangeSetEntry, len(objs))
	applied := make([]*unstructured.Unstructured, len(objs))
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
			e, out, err := m.applyObject(ctx, r, obj)
			if err != nil {
				e = newEntry(r.addon.Name, id, ActionFailed, err.Error())
			}
			entries[i], applied[i], errs[i] = e, out, err
			r.opts.Progress(Event{Type: EventObject, Addon: r.addon.Name, Entry: &entries[i]})
			return nil
		})
	}
	_ = g.Wait()
	return entries, applied, errors.Join(errs...)
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

// applyObject executes the plan's step for one object, and returns the object the apply
// returned (nil when nothing was sent, or when it was recreated).
func (m *Manager) applyObject(ctx context.Context, r *addonRun, obj *unstructured.Unstructured) (ChangeSetEntry, *unstructured.Unstructured, error) {
	id := IDOf(obj)
	st := r.steps[id]
	if st == nil || st.Verb == VerbUnchanged {
		return newEntry(r.addon.Name, id, ActionUnchanged, ""), nil, nil
	}
	ri, err := m.resourceFor(obj)
	if err != nil {
		return ChangeSetEntry{}, nil, fmt.Errorf("%s: %w", id, err)
	}
	out, err := m.applyObj(ctx, ri, obj, forceConflicts(r.addon), false)
	if err != nil {
		var imm *ImmutableFieldError
		if errors.As(err, &imm) && r.addon.Spec.Sync.Recreate {
			e, err := m.recreate(ctx, ri, obj, r, imm)
			return e, nil, err
		}
		return ChangeSetEntry{}, nil, err
	}
	a := st.Verb.action()
	if st.Live != nil && st.Live.GetResourceVersion() == out.GetResourceVersion() {
		a = ActionUnchanged
	}
	msg := ""
	if a != ActionUnchanged && (st.Verb == VerbAdopt || st.Verb == VerbConfigure) {
		msg = st.Reason
	}
	return newEntry(r.addon.Name, id, a, msg), out, nil
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

// applyObj sends one server-side apply (a dry run when dryRun), translating conflicts and
// immutable-field errors.
func (m *Manager) applyObj(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, force, dryRun bool) (*unstructured.Unstructured, error) {
	opts := metav1.ApplyOptions{FieldManager: m.opts.FieldManager, Force: force}
	if dryRun {
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
	if _, err := m.applyObj(ctx, ri, obj, forceConflicts(r.addon), false); err != nil {
		return ChangeSetEntry{}, err
	}
	return newEntry(r.addon.Name, id, ActionConfigured, "recreated: immutable "+cause.fieldList()+" changed"), nil
}
