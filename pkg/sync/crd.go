package sync

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// establishCRDs waits until every CRD of the stage is Established, then resets the REST mapper
// so the next stages find the new kinds. Unchanged CRDs that were already Established cost no
// request; an applied one is watched from the version the apply returned (applied, by index).
func (m *Manager) establishCRDs(ctx context.Context, r *addonRun, objs []*unstructured.Unstructured, entries []ChangeSetEntry, applied []*unstructured.Unstructured) error {
	start := time.Now()
	changed := false
	for i, o := range objs {
		if o.GroupVersionKind().GroupKind() != gkCRD {
			continue
		}
		if entries[i].Action == ActionUnchanged && established(r.live[IDOf(o)]) {
			continue
		}
		changed = true
		if established(applied[i]) {
			continue
		}
		if err := m.waitEstablished(ctx, o.GetName(), applied[i].GetResourceVersion()); err != nil {
			return err
		}
	}
	if changed {
		m.mapper.Reset()
	}
	m.log.Debug("CRDs established", "addon", r.addon.Name, "duration", time.Since(start))
	return nil
}

// waitEstablished waits until a CRD's Established condition is True: a watch on that CRD from
// resourceVersion rv, the version the apply returned (a GET per poll of a 700 KiB CRD would
// load the API server while it builds the new kind; with rv empty, one GET first), falling
// back to polling with backoff if the watch ends early.
func (m *Manager) waitEstablished(ctx context.Context, name, rv string) error {
	ctx, cancel := context.WithTimeout(ctx, m.opts.CRDTimeout)
	defer cancel()
	ri := m.dynamic.Resource(crdGVR)
	err := func() error {
		if rv == "" {
			u, err := ri.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if established(u) {
				return nil
			}
			rv = u.GetResourceVersion()
		}
		w, err := ri.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name, ResourceVersion: rv})
		if err != nil {
			return err
		}
		defer w.Stop()
		for ev := range w.ResultChan() {
			if u, ok := ev.Object.(*unstructured.Unstructured); ok && established(u) {
				return nil
			}
		}
		return errors.New("watch ended")
	}()
	if err == nil {
		return nil
	}
	m.log.Debug("CRD watch failed, polling", "crd", name, "err", err)
	backoff := wait.Backoff{Duration: 50 * time.Millisecond, Factor: 1.5, Jitter: 0.1, Steps: 1 << 30, Cap: 500 * time.Millisecond}
	err = wait.ExponentialBackoffWithContext(ctx, backoff, func(ctx context.Context) (bool, error) {
		u, err := ri.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil //nolint:nilerr // retried until the timeout
		}
		return established(u), nil
	})
	if err != nil {
		return fmt.Errorf("CustomResourceDefinition/%s: not Established within %s: %w; check the CRD's status conditions",
			name, m.opts.CRDTimeout, err)
	}
	return nil
}

// established reports whether a CRD's Established condition is True.
func established(crd *unstructured.Unstructured) bool {
	if crd == nil {
		return false
	}
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		cm, _ := c.(map[string]any)
		if cm["type"] == "Established" && cm["status"] == "True" {
			return true
		}
	}
	return false
}
