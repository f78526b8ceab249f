package lease

import (
	"context"
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// renewLoop renews the lease every RenewInterval until stopped or lost.
func (h *Held) renewLoop(ctx context.Context) {
	defer close(h.done)
	t := time.NewTicker(h.l.o.RenewInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := h.Renew(ctx)
		if err == nil || ctx.Err() != nil {
			continue
		}
		h.mu.Lock()
		until := expiry(h.lease)
		h.mu.Unlock()
		var he *HeldError
		if errors.As(err, &he) || !h.l.o.Now().Add(h.l.o.RenewInterval).Before(until) {
			h.markLost(err)
			return
		}
		h.l.o.Logger.Warn("lease renewal failed; retrying", "lease", h.l.o.Namespace+"/"+h.l.o.Name, "err", err)
	}
}

func (h *Held) markLost(err error) {
	h.lostOnce.Do(func() {
		h.lostErr = err
		h.l.o.Logger.Error("sync lease lost", "lease", h.l.o.Namespace+"/"+h.l.o.Name, "err", err)
		close(h.lost)
	})
}

// Renew extends the lease now. It fails with a *HeldError when another holder took it.
func (h *Held) Renew(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	leases := h.l.client.CoordinationV1().Leases(h.l.o.Namespace)
	next := h.lease.DeepCopy()
	now := metav1.NewMicroTime(h.l.o.Now())
	next.Spec.RenewTime = &now
	updated, err := leases.Update(ctx, next, metav1.UpdateOptions{FieldManager: "addonsync"})
	if apierrors.IsConflict(err) {
		// Someone wrote the lease: it is still ours only when the holder is unchanged.
		cur, gerr := leases.Get(ctx, h.l.o.Name, metav1.GetOptions{})
		if gerr != nil {
			return fmt.Errorf("lease %s/%s: renew failed: %w", h.l.o.Namespace, h.l.o.Name, gerr)
		}
		if holder := ptrValue(cur.Spec.HolderIdentity); holder != h.l.o.Holder {
			return &HeldError{Namespace: h.l.o.Namespace, Name: h.l.o.Name, Holder: holder, Until: expiry(cur)}
		}
		next = cur.DeepCopy()
		next.Spec.RenewTime = &now
		updated, err = leases.Update(ctx, next, metav1.UpdateOptions{FieldManager: "addonsync"})
	}
	if err != nil {
		return fmt.Errorf("lease %s/%s: renew failed: %w", h.l.o.Namespace, h.l.o.Name, err)
	}
	h.lease = updated
	return nil
}

// Release stops renewing and frees the lease when this holder still has it. Pass a context
// that is not cancelled (context.WithoutCancel) so a cancelled sync still releases.
func (h *Held) Release(ctx context.Context) error {
	h.stop()
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	leases := h.l.client.CoordinationV1().Leases(h.l.o.Namespace)
	for range 3 {
		next := h.lease.DeepCopy()
		next.Spec.HolderIdentity = nil
		next.Spec.AcquireTime, next.Spec.RenewTime = nil, nil
		_, err := leases.Update(ctx, next, metav1.UpdateOptions{FieldManager: "addonsync"})
		if err == nil || apierrors.IsNotFound(err) {
			return nil
		}
		if !apierrors.IsConflict(err) {
			return fmt.Errorf("lease %s/%s: release failed (it expires by itself): %w", h.l.o.Namespace, h.l.o.Name, err)
		}
		cur, err := leases.Get(ctx, h.l.o.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("lease %s/%s: release failed (it expires by itself): %w", h.l.o.Namespace, h.l.o.Name, err)
		}
		if ptrValue(cur.Spec.HolderIdentity) != h.l.o.Holder {
			return nil // taken over already: nothing of ours to release
		}
		h.lease = cur
	}
	return fmt.Errorf("lease %s/%s: release failed: the lease keeps changing", h.l.o.Namespace, h.l.o.Name)
}

// Lease returns a copy of the Lease as last written.
func (h *Held) Lease() *coordinationv1.Lease {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lease.DeepCopy()
}

func ptr[T any](v T) *T { return &v }

func ptrValue[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
