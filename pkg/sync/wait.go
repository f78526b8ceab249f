package sync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/addonsync/addonsync/pkg/render"
)

// Event types of the health wait and of hooks.
const (
	// EventWaiting says which objects of an add-on are not ready yet, and why (Message).
	EventWaiting EventType = "waiting"
	// EventHook reports a Helm hook starting, finishing or failing (Message).
	EventHook EventType = "hook"
)

// DefaultWaitTimeout bounds an add-on's health wait when its sync policy sets none.
const DefaultWaitTimeout = 5 * time.Minute

// Backoff of the status polls: the first poll comes quickly, later ones less often.
const (
	waitPollFirst = 100 * time.Millisecond
	waitPollMax   = 2 * time.Second
)

// ObjectStatus is the kstatus verdict on one object that is not ready.
type ObjectStatus struct {
	// ID of the object.
	ID ObjectID
	// Status is kstatus' status: InProgress, Failed, Terminating, NotFound or Unknown.
	Status status.Status
	// Message says why, in kstatus' words (e.g. "Deployment does not have minimum availability").
	Message string
}

// String reads "Deployment/ns/name: InProgress: Replicas: 0/1".
func (s ObjectStatus) String() string {
	if s.Message == "" {
		return s.ID.String() + ": " + s.Status.String()
	}
	return s.ID.String() + ": " + s.Status.String() + ": " + s.Message
}

// NotHealthyError is a health wait that ran out of time or met a failed object. Its message
// does not name the add-on: Sync wraps it as `add-on "x": ...`.
type NotHealthyError struct {
	// Addon whose objects are not ready.
	Addon string
	// Timeout is the wait's bound; zero when an object failed before it.
	Timeout time.Duration
	// Objects are the objects not ready, in the add-on's order.
	Objects []ObjectStatus
}

func (e *NotHealthyError) Error() string {
	var sb strings.Builder
	if e.Timeout > 0 {
		fmt.Fprintf(&sb, "not healthy after %s, %d object(s) not ready:", e.Timeout, len(e.Objects))
	} else {
		fmt.Fprintf(&sb, "not healthy, %d object(s) failed:", len(e.Objects))
	}
	for _, o := range e.Objects {
		sb.WriteString("\n  " + o.String())
	}
	sb.WriteString("\nfix the objects (kubectl describe them), raise spec.sync.timeout, or sync with --wait=false")
	return sb.String()
}

// waitForAddon waits, after the add-on's objects were applied, until kstatus finds every one of them
// Current, so that add-ons depending on it start on a healthy base. It is skipped in a dry
// run, with SyncOptions.Wait off, or when the add-on's sync policy turns waiting off.
func (m *Manager) waitForAddon(ctx context.Context, r *addonRun) error {
	if r.opts.DryRun || !r.opts.Wait || (r.addon.Spec.Sync.Wait != nil && !*r.addon.Spec.Sync.Wait) {
		return nil
	}
	timeout, err := waitTimeout(r.addon)
	if err != nil {
		return err
	}
	return m.waitHealthy(ctx, r.addon.Name, r.objects, timeout, r.opts.Progress)
}

// waitTimeout is the add-on's spec.sync.timeout, DefaultWaitTimeout when unset.
func waitTimeout(a *render.Addon) (time.Duration, error) {
	if a.Spec.Sync.Timeout == "" {
		return DefaultWaitTimeout, nil
	}
	d, err := time.ParseDuration(a.Spec.Sync.Timeout)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("spec.sync.timeout %q: not a positive Go duration such as \"5m\"", a.Spec.Sync.Timeout)
	}
	return d, nil
}

// waitHealthy polls the objects, with backoff, until all are Current; objects found Current
// are not read again. Progress gets an EventWaiting whenever the set of objects not ready, or
// their messages, change. An object kstatus finds Failed ends the wait at once.
func (m *Manager) waitHealthy(ctx context.Context, addon string, objs []*unstructured.Unstructured, timeout time.Duration, progress func(Event)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pending := objs
	var notReady []ObjectStatus
	delay := waitPollFirst
	last := ""
	for {
		polled, err := m.pollStatus(ctx, pending)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("health check: %w", err)
		}
		if err == nil {
			notReady = polled
			if len(notReady) == 0 {
				return nil
			}
			if failed := failedOnly(notReady); len(failed) > 0 {
				return &NotHealthyError{Addon: addon, Objects: failed}
			}
			if msg := waitingMessage(notReady); msg != last {
				last = msg
				progress(Event{Type: EventWaiting, Addon: addon, Message: msg})
			}
			pending = stillPending(pending, notReady)
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return &NotHealthyError{Addon: addon, Timeout: timeout, Objects: notReadyOrAll(notReady, pending)}
			}
			return fmt.Errorf("health wait: %w", ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, waitPollMax)
	}
}

// pollStatus reads the objects concurrently and returns those kstatus does not find Current,
// in the objects' order.
func (m *Manager) pollStatus(ctx context.Context, objs []*unstructured.Unstructured) ([]ObjectStatus, error) {
	results := make([]*ObjectStatus, len(objs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.opts.Concurrency)
	for i, obj := range objs {
		g.Go(func() error {
			s, err := m.objectStatus(gctx, obj)
			results[i] = s
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []ObjectStatus
	for _, s := range results {
		if s != nil {
			out = append(out, *s)
		}
	}
	return out, nil
}

// objectStatus returns nil when the object is Current, else its status.
func (m *Manager) objectStatus(ctx context.Context, obj *unstructured.Unstructured) (*ObjectStatus, error) {
	id := IDOf(obj)
	ri, err := m.resourceFor(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	live, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return &ObjectStatus{ID: id, Status: status.NotFoundStatus, Message: "object not found"}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: read failed: %w", id, err)
	}
	res, err := status.Compute(live)
	if err != nil {
		return &ObjectStatus{ID: id, Status: status.UnknownStatus, Message: err.Error()}, nil
	}
	if res.Status == status.CurrentStatus {
		return nil, nil
	}
	return &ObjectStatus{ID: id, Status: res.Status, Message: res.Message}, nil
}

// failedOnly returns the objects kstatus found Failed.
func failedOnly(s []ObjectStatus) []ObjectStatus {
	var out []ObjectStatus
	for _, o := range s {
		if o.Status == status.FailedStatus {
			out = append(out, o)
		}
	}
	return out
}

// waitingMessage is "waiting for 2 object(s): Deployment/ns/a: InProgress: ...; ...".
func waitingMessage(s []ObjectStatus) string {
	parts := make([]string, len(s))
	for i, o := range s {
		parts[i] = o.String()
	}
	return fmt.Sprintf("waiting for %d object(s): %s", len(s), strings.Join(parts, "; "))
}

// stillPending keeps the objects named in notReady.
func stillPending(objs []*unstructured.Unstructured, notReady []ObjectStatus) []*unstructured.Unstructured {
	ids := make(map[ObjectID]bool, len(notReady))
	for _, s := range notReady {
		ids[s.ID] = true
	}
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if ids[IDOf(o)] {
			out = append(out, o)
		}
	}
	return out
}

// notReadyOrAll is the last verdict, or, when no poll finished, every pending object.
func notReadyOrAll(notReady []ObjectStatus, pending []*unstructured.Unstructured) []ObjectStatus {
	if len(notReady) > 0 {
		return notReady
	}
	out := make([]ObjectStatus, len(pending))
	for i, o := range pending {
		out[i] = ObjectStatus{ID: IDOf(o), Status: status.UnknownStatus, Message: "not read before the timeout"}
	}
	return out
}
