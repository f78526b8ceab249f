package lease

import (
	"context"
	"errors"
	"fmt"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/addonsync/addonsync/internal/testenv"
)

func client(t *testing.T) kubernetes.Interface {
	t.Helper()
	testenv.Require(t, env)
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func locker(cs kubernetes.Interface, ns, holder string) *Locker {
	o := DefaultOptions()
	o.Namespace, o.Holder = ns, holder
	return New(cs, o)
}

func getLease(t *testing.T, cs kubernetes.Interface, ns string) *coordinationv1.Lease {
	t.Helper()
	l, err := cs.CoordinationV1().Leases(ns).Get(t.Context(), DefaultName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestAcquireRelease(t *testing.T) {
	cs := client(t)
	ns := env.Namespace(t) + "-inv" // does not exist yet: Acquire creates it
	a, b := locker(cs, ns, "pod-a/1"), locker(cs, ns, "pod-b/2")

	var held *Held
	t.Run("acquires a missing lease and creates its namespace", func(t *testing.T) {
		var err error
		if held, err = a.Acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
		l := getLease(t, cs, ns)
		if got := ptrValue(l.Spec.HolderIdentity); got != "pod-a/1" {
			t.Errorf("holder %q, want pod-a/1", got)
		}
		if got := ptrValue(l.Spec.LeaseDurationSeconds); got != 60 {
			t.Errorf("leaseDurationSeconds %d, want 60", got)
		}
	})

	t.Run("refuses a second holder, naming the holder and expiry", func(t *testing.T) {
		_, err := b.Acquire(t.Context())
		var he *HeldError
		if !errors.As(err, &he) {
			t.Fatalf("err = %v, want *HeldError", err)
		}
		if he.Holder != "pod-a/1" || time.Until(he.Until) < 30*time.Second {
			t.Errorf("HeldError %+v", he)
		}
		if !strings.Contains(err.Error(), "another addonsync (pod-a/1) holds the sync lease "+ns+"/addonsync-sync until "+he.Until.UTC().Format(time.RFC3339)+" (in ") {
			t.Errorf("message %q", err)
		}
	})

	t.Run("frees the lease on release so another holder acquires at once", func(t *testing.T) {
		if err := held.Release(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := getLease(t, cs, ns).Spec.HolderIdentity; got != nil {
			t.Errorf("holder after release %q", *got)
		}
		hb, err := b.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := ptrValue(getLease(t, cs, ns).Spec.LeaseTransitions); got != 1 {
			t.Errorf("leaseTransitions %d, want 1", got)
		}
		if err := hb.Release(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// putLease writes the lease as held by holder, renewed at renewed.
func putLease(t *testing.T, cs kubernetes.Interface, ns, holder string, renewed time.Time, seconds int32) {
	t.Helper()
	l := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: DefaultName, Namespace: ns},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity: ptr(holder), LeaseDurationSeconds: ptr(seconds),
			AcquireTime: ptr(metav1.NewMicroTime(renewed)), RenewTime: ptr(metav1.NewMicroTime(renewed)),
		},
	}
	if _, err := cs.CoordinationV1().Leases(ns).Create(t.Context(), l, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestAcquireTakesOverExpiredLease(t *testing.T) {
	cs := client(t)
	ns := env.Namespace(t)
	putLease(t, cs, ns, "crashed-pod/7", time.Now().Add(-10*time.Minute), 60)
	held, err := locker(cs, ns, "pod-a/1").Acquire(t.Context())
	if err != nil {
		t.Fatalf("expired lease not taken over: %v", err)
	}
	defer func() { _ = held.Release(context.WithoutCancel(t.Context())) }()
	l := getLease(t, cs, ns)
	if got := ptrValue(l.Spec.HolderIdentity); got != "pod-a/1" {
		t.Errorf("holder %q", got)
	}
	if got := ptrValue(l.Spec.LeaseTransitions); got != 1 {
		t.Errorf("leaseTransitions %d, want 1", got)
	}
}

func TestRenewKeepsLease(t *testing.T) {
	cs := client(t)
	ns := env.Namespace(t)
	o := DefaultOptions()
	o.Namespace, o.Holder, o.Duration = ns, "pod-a/1", 3*time.Second
	held, err := New(cs, o).Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = held.Release(context.WithoutCancel(t.Context())) }()
	first := getLease(t, cs, ns).Spec.RenewTime.Time

	t.Run("renews in the background", func(t *testing.T) {
		deadline := time.Now().Add(time.Minute)
		for !getLease(t, cs, ns).Spec.RenewTime.After(first.Add(time.Second)) {
			if time.Now().After(deadline) {
				t.Fatal("lease not renewed within a minute")
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	t.Run("still refuses others after the first duration has passed", func(t *testing.T) {
		for time.Since(first) < 4*time.Second {
			time.Sleep(200 * time.Millisecond)
		}
		var he *HeldError
		if _, err := locker(cs, ns, "pod-b/2").Acquire(t.Context()); !errors.As(err, &he) {
			t.Fatalf("err = %v, want *HeldError", err)
		}
		if held.Err() != nil {
			t.Errorf("lease lost: %v", held.Err())
		}
	})
}

func TestLostWhenTakenOver(t *testing.T) {
	cs := client(t)
	ns := env.Namespace(t)
	o := DefaultOptions()
	o.Namespace, o.Holder, o.Duration = ns, "pod-a/1", 3*time.Second
	held, err := New(cs, o).Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := held.Context(t.Context())
	defer cancel()
	// Another process steals the lease (as one with a clock far ahead would).
	l := getLease(t, cs, ns)
	l.Spec.HolderIdentity = ptr("thief/9")
	if _, err := cs.CoordinationV1().Leases(ns).Update(t.Context(), l, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(time.Minute):
		t.Fatal("context not cancelled within a minute of losing the lease")
	}
	if !errors.Is(context.Cause(ctx), ErrLost) {
		t.Errorf("cause %v, want ErrLost", context.Cause(ctx))
	}
	if err := held.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := ptrValue(getLease(t, cs, ns).Spec.HolderIdentity); got != "thief/9" {
		t.Errorf("release of a lost lease changed the holder to %q", got)
	}
}

// TestConcurrentAcquire races acquirers for a missing lease (create) and for an expired one
// (update): exactly one wins each time.
func TestConcurrentAcquire(t *testing.T) {
	cs := client(t)
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, ns string)
	}{
		{"missing lease", func(*testing.T, string) {}},
		{"expired lease", func(t *testing.T, ns string) {
			putLease(t, cs, ns, "crashed-pod/7", time.Now().Add(-time.Hour), 60)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := env.Namespace(t)
			tc.prepare(t, ns)
			const n = 8
			errs := make([]error, n)
			helds := make([]*Held, n)
			var wg gosync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					helds[i], errs[i] = locker(cs, ns, fmt.Sprintf("pod-%d/1", i)).Acquire(t.Context())
				})
			}
			close(start)
			wg.Wait()
			var winners []string
			for i, err := range errs {
				var he *HeldError
				switch {
				case err == nil:
					winners = append(winners, fmt.Sprintf("pod-%d/1", i))
					defer func() { _ = helds[i].Release(context.WithoutCancel(t.Context())) }()
				case !errors.As(err, &he):
					t.Errorf("acquirer %d: %v, want *HeldError", i, err)
				}
			}
			if len(winners) != 1 {
				t.Fatalf("winners %v, want exactly one", winners)
			}
			if diff := cmp.Diff(winners[0], ptrValue(getLease(t, cs, ns).Spec.HolderIdentity)); diff != "" {
				t.Errorf("holder (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHeldErrorNamesExpiryInUTC(t *testing.T) {
	until := time.Date(2026, 12, 1, 9, 40, 0, 0, time.FixedZone("CET", 3600))
	err := &HeldError{Namespace: "addonsync-system", Name: DefaultName, Holder: "pod-a/1", Until: until, Left: 2*time.Minute + 10400*time.Millisecond}
	want := "another addonsync (pod-a/1) holds the sync lease addonsync-system/addonsync-sync until 2026-12-01T08:40:00Z (in 2m10s); retry later"
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}
}
