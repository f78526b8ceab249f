package sync

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/addonsync/addonsync/pkg/render"
)

// HookFailedError is a Helm hook that failed or did not finish in time. It stops its add-on
// and, through the dependency check of Sync, the add-ons depending on it.
type HookFailedError struct {
	// Subject is the hook object, "Job/namespace/name".
	Subject string
	// Event is the phase the hook ran in.
	Event render.HookEvent
	// Reason is the failure reason and message (for a Job, of its Failed condition).
	Reason string
}

func (e *HookFailedError) Error() string {
	return fmt.Sprintf("%s: %s hook failed: %s; fix the hook (kubectl describe %s) and sync again", e.Subject, e.Event, e.Reason, e.Subject)
}

// runHooks runs the hooks of one event one at a time, lowest weight first, as Helm does: each
// hook is (re)created and, if a Job or Pod, waited for until it succeeds or fails. A failure
// stops the add-on. Hooks with hook-succeeded are deleted once every hook of the event
// succeeded. Hook objects are not ApplySet members: never listed by the inventory, never
// pruned (the release record lists them, so removing the add-on deletes them). A failure is
// noted in the release record. An empty event runs nothing.
func (m *Manager) runHooks(ctx context.Context, r *addonRun, event render.HookEvent) error {
	hooks := hooksFor(r.addon.Hooks, event)
	if len(hooks) == 0 || event == "" {
		return nil
	}
	timeout, err := waitTimeout(r.addon)
	if err != nil {
		return err
	}
	objs := make([]*unstructured.Unstructured, len(hooks))
	for i, h := range hooks {
		objs[i] = m.hookObject(r, h)
		if err := m.runHook(ctx, r, event, h, objs[i], timeout); err != nil {
			var hfe *HookFailedError
			if errors.As(err, &hfe) {
				m.recordHookFailure(ctx, r, hfe)
			}
			return err
		}
	}
	for i, h := range hooks {
		if hookHasPolicy(h, HookDeleteSucceeded) {
			if err := m.deleteHook(ctx, r, objs[i], HookDeleteSucceeded, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// hookObject copies the hook's object, in the add-on namespace when it names none.
func (m *Manager) hookObject(r *addonRun, h render.Hook) *unstructured.Unstructured {
	obj := h.Object.DeepCopy()
	if obj.GetNamespace() == "" && m.isNamespaced(obj.GroupVersionKind(), nil) {
		obj.SetNamespace(addonNamespace(r.addon))
	}
	return obj
}

// runHook deletes the previous hook object (before-hook-creation), applies the hook and
// waits for it to finish.
func (m *Manager) runHook(ctx context.Context, r *addonRun, event render.HookEvent, h render.Hook, obj *unstructured.Unstructured, timeout time.Duration) error {
	id := IDOf(obj)
	if hookHasPolicy(h, HookDeleteBeforeCreation) {
		if err := m.deleteHook(ctx, r, obj, HookDeleteBeforeCreation, true); err != nil {
			return err
		}
	}
	ri, err := m.resourceFor(obj)
	if err != nil {
		return fmt.Errorf("%s: %s hook: %w", id, event, err)
	}
	if _, err := ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: m.opts.FieldManager, Force: true}); err != nil {
		return fmt.Errorf("%s: %s hook: %w", id, event, applyError(id, err))
	}
	m.hookEvent(r, id, ActionCreated, event.String()+" hook")
	state, msg, err := waitHookDone(ctx, ri, obj, timeout)
	if err != nil {
		return fmt.Errorf("%s: %s hook: %w", id, event, err)
	}
	if state == hookSucceeded {
		m.hookEvent(r, id, ActionUnchanged, event.String()+" hook succeeded")
		return nil
	}
	hfe := &HookFailedError{Subject: id.String(), Event: event, Reason: msg}
	m.hookEvent(r, id, ActionFailed, hfe.Reason)
	if hookHasPolicy(h, HookDeleteFailed) {
		if err := m.deleteHook(ctx, r, obj, HookDeleteFailed, false); err != nil {
			return fmt.Errorf("%w (and %w)", hfe, err)
		}
	}
	return hfe
}

// hookEvent records a hook step in the change set and reports it.
func (m *Manager) hookEvent(r *addonRun, id ObjectID, a Action, msg string) {
	e := newEntry(r.addon.Name, id, a, msg)
	if a != ActionUnchanged {
		r.changes.Add(e)
	}
	r.opts.Progress(Event{Type: EventHook, Addon: r.addon.Name, Entry: &e, Message: e.String()})
}

// waitHookDone polls a hook object with backoff until it succeeded or failed; running past
// timeout is a failure.
func waitHookDone(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, timeout time.Duration) (hookState, string, error) {
	var (
		state hookState
		msg   string
	)
	delay := waitPollFirst
	deadline := time.Now().Add(timeout)
	for {
		live, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			state, msg = hookRunning, "hook object not found"
		case err != nil:
			return "", "", fmt.Errorf("read failed: %w", err)
		default:
			state, msg = hookStatus(live)
		}
		if state != hookRunning {
			return state, msg, nil
		}
		if time.Now().After(deadline) {
			return hookFailed, fmt.Sprintf("not finished after %s (%s)", timeout, msg), nil
		}
		select {
		case <-ctx.Done():
			return "", "", ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, waitPollMax)
	}
}

// deleteHook deletes a hook object by a delete policy (background propagation, so a Job's
// pods go too); with wait it waits until the object is gone, so that it can be created anew.
func (m *Manager) deleteHook(ctx context.Context, r *addonRun, obj *unstructured.Unstructured, policy string, waitGone bool) error {
	id := IDOf(obj)
	ri, err := m.resourceFor(obj)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", id, policy, err)
	}
	bg := metav1.DeletePropagationBackground
	err = ri.Delete(ctx, obj.GetName(), metav1.DeleteOptions{PropagationPolicy: &bg})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: delete (%s) failed: %w", id, policy, err)
	}
	m.hookEvent(r, id, ActionDeleted, policy)
	if !waitGone {
		return nil
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, m.opts.DeleteTimeout, true, func(ctx context.Context) (bool, error) {
		_, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		return fmt.Errorf("%s: waiting for the previous hook object to be deleted (%s): %w", id, policy, err)
	}
	return nil
}
