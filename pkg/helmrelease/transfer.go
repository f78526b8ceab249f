package helmrelease

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/csaupgrade"
	"k8s.io/client-go/util/retry"
)

// HelmFieldManager is the field manager the helm CLI writes with (the base name of its
// binary): Helm 3 creates and patches objects with Update operations under it.
const HelmFieldManager = "helm"

// TransferOptions say whose field ownership moves to whom.
type TransferOptions struct {
	// From are the Update-operation managers whose fields move (default ["helm"]). Add a
	// name when Helm ran under another binary name, e.g. "helm3".
	From []string
	// To is addonsync's server-side apply field manager (default "addonsync", the repo's
	// spec.fieldManager).
	To string
}

// DefaultTransferOptions moves "helm" to "addonsync".
func DefaultTransferOptions() TransferOptions {
	return TransferOptions{From: []string{HelmFieldManager}, To: "addonsync"}
}

func (o TransferOptions) withDefaults() TransferOptions {
	d := DefaultTransferOptions()
	if len(o.From) == 0 {
		o.From = d.From
	}
	if o.To == "" {
		o.To = d.To
	}
	return o
}

// OwnedBy reports whether any Update-operation manager in from owns fields of live.
func OwnedBy(live *unstructured.Unstructured, from ...string) bool {
	if len(from) == 0 {
		from = DefaultTransferOptions().From
	}
	names := sets.New(from...)
	for _, e := range live.GetManagedFields() {
		if e.Operation == metav1.ManagedFieldsOperationUpdate && names.Has(e.Manager) && e.Subresource == "" {
			return true
		}
	}
	return false
}

// TransferPatch returns the JSON patch that moves the fields o.From own on live (with
// Update operations, as Helm 3 writes) to o.To's Apply entry, with client-go's csaupgrade,
// the same transformation kubectl apply --server-side makes for client-side apply. The
// patch replaces metadata.managedFields and nothing else, and carries live's
// resourceVersion, so it fails with a conflict if the object changed since it was read.
// It returns nil when there is nothing to move.
//
// Apply the render right after: fields Helm set that the render lacks (Helm's
// meta.helm.sh annotations, values no longer set) are then owned by addonsync alone and
// removed by that apply, and `helm upgrade` finds no field it owns any more.
func TransferPatch(live *unstructured.Unstructured, o TransferOptions) ([]byte, error) {
	o = o.withDefaults()
	patch, err := csaupgrade.UpgradeManagedFieldsPatch(live, sets.New(o.From...), o.To)
	if err != nil {
		return nil, fmt.Errorf("%s: transfer field ownership from %v to %q: %w", IDOf(live), o.From, o.To, err)
	}
	return patch, nil
}

// Transferrer sends TransferPatch patches (the executor of the transfer).
type Transferrer struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
	o      TransferOptions
}

// NewTransferrer returns a Transferrer patching through dyn, finding resources with mapper.
func NewTransferrer(dyn dynamic.Interface, mapper meta.RESTMapper, o TransferOptions) *Transferrer {
	return &Transferrer{dyn: dyn, mapper: mapper, o: o.withDefaults()}
}

// Transfer moves Helm's field ownership on the live object to addonsync's apply manager,
// in place: one PATCH of metadata.managedFields, no delete, no recreate (UID and
// creationTimestamp stay). When the object changed since live was read, it reads it again
// and retries. It reports whether it patched (false: Helm owned nothing).
func (t *Transferrer) Transfer(ctx context.Context, live *unstructured.Unstructured) (bool, error) {
	id := IDOf(live)
	gvk := live.GroupVersionKind()
	m, err := t.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return false, fmt.Errorf("%s: transfer field ownership: %w", id, err)
	}
	var ri dynamic.ResourceInterface = t.dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ri = t.dyn.Resource(m.Resource).Namespace(live.GetNamespace())
	}
	patched := false
	obj := live
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		patch, err := TransferPatch(obj, t.o)
		if err != nil || patch == nil {
			return err
		}
		_, err = ri.Patch(ctx, live.GetName(), types.JSONPatchType, patch, metav1.PatchOptions{})
		if apierrors.IsConflict(err) {
			fresh, gerr := ri.Get(ctx, live.GetName(), metav1.GetOptions{})
			if gerr != nil {
				return gerr
			}
			obj = fresh
		}
		patched = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("%s: transfer field ownership from %v to %q: %w", id, t.o.From, t.o.To, err)
	}
	return patched, nil
}

// TransferAll transfers every object of live that o.From own fields of (OwnedBy), at most
// limit at a time (limit <= 0: 8), and returns the IDs it patched, in live's order. Give it
// the live objects the render has, adopted ones and the chart's crds/ CRDs alike (Helm
// creates both, and keeps the CRDs out of the release manifest). On error it returns
// what it patched so far and every failure, joined.
func (t *Transferrer) TransferAll(ctx context.Context, live []*unstructured.Unstructured, limit int) ([]ObjectID, error) {
	if limit <= 0 {
		limit = 8
	}
	patched := make([]bool, len(live))
	errs := make([]error, len(live))
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(limit)
	for i, obj := range live {
		if obj == nil || !OwnedBy(obj, t.o.From...) {
			continue
		}
		eg.Go(func() error {
			patched[i], errs[i] = t.Transfer(ctx, obj)
			return nil
		})
	}
	_ = eg.Wait()
	var ids []ObjectID
	for i, ok := range patched {
		if ok {
			ids = append(ids, IDOf(live[i]))
		}
	}
	return ids, errors.Join(errs...)
}
