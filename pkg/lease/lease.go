package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	gosync "sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// DefaultName is the name of the Lease guarding a cluster's sync.
const DefaultName = "addonsync-sync"

// DefaultNamespace is where the Lease lives when none is configured (the default inventory
// namespace).
const DefaultNamespace = "addonsync-system"

// Options configure a Locker.
type Options struct {
	// Namespace holds the Lease (default "addonsync-system"); it is created when missing.
	Namespace string
	// Name is the Lease's name (default "addonsync-sync").
	Name string
	// Holder identifies this process in spec.holderIdentity (default Identity()).
	Holder string
	// Duration is how long the lease stays held without renewal (default 60s; whole
	// seconds, at least 1s).
	Duration time.Duration
	// RenewInterval is how often a held lease is renewed (default Duration/3).
	RenewInterval time.Duration
	// Now returns the time (default time.Now).
	Now func() time.Time
	// Logger receives renewals and losses (default: discard).
	Logger *slog.Logger
}

// DefaultOptions returns the defaults: 60s leases renewed every 20s.
func DefaultOptions() Options {
	return Options{
		Namespace: DefaultNamespace, Name: DefaultName, Holder: Identity(),
		Duration: 60 * time.Second, Now: time.Now, Logger: slog.New(slog.DiscardHandler),
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Namespace == "" {
		o.Namespace = d.Namespace
	}
	if o.Name == "" {
		o.Name = d.Name
	}
	if o.Holder == "" {
		o.Holder = d.Holder
	}
	if o.Duration < time.Second {
		o.Duration = d.Duration
	}
	o.Duration = o.Duration.Truncate(time.Second)
	if o.RenewInterval <= 0 || o.RenewInterval >= o.Duration {
		o.RenewInterval = o.Duration / 3
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	return o
}

// Identity names this process: $POD_NAME (set from the downward API) or the host name,
// then the process id, e.g. "addonsync-28934-x7k2p/1".
func Identity() string {
	host := os.Getenv("POD_NAME")
	if host == "" {
		host, _ = os.Hostname()
	}
	if host == "" {
		host = "unknown"
	}
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

// HeldError says another holder has the lease.
type HeldError struct {
	// Namespace and Name locate the Lease.
	Namespace, Name string
	// Holder is the other holder's identity.
	Holder string
	// Until is when the lease expires unless renewed.
	Until time.Time
	// Left is how long the lease had left when it was read.
	Left time.Duration
}

// Error reads like "another addonsync (pod-a/1) holds the sync lease addonsync-system/
// addonsync-sync until 2026-12-01T09:40:00Z (in 2m10s); retry later": the time in UTC, as
// the reader's clock and the holder's need not share a zone.
func (e *HeldError) Error() string {
	return fmt.Sprintf("another addonsync (%s) holds the sync lease %s/%s until %s (in %s); retry later",
		e.Holder, e.Namespace, e.Name, e.Until.UTC().Format(time.RFC3339), e.Left.Round(time.Second))
}

// ErrLost is the cause of a held lease's context when the lease was lost.
var ErrLost = errors.New("sync lease lost")

// Locker acquires one Lease.
type Locker struct {
	client kubernetes.Interface
	o      Options
}

// New returns a Locker for the Lease o names; zero fields of o take their defaults.
func New(client kubernetes.Interface, o Options) *Locker {
	return &Locker{client: client, o: o.withDefaults()}
}

// Options returns the options in effect (defaults filled in).
func (l *Locker) Options() Options { return l.o }

// Acquire takes the lease and starts renewing it. It fails at once with a *HeldError when
// another holder has it; other errors come from the API server.
func (l *Locker) Acquire(ctx context.Context) (*Held, error) {
	for attempt := 0; ; attempt++ {
		lease, err := l.tryAcquire(ctx)
		if err == nil {
			return l.hold(ctx, lease), nil
		}
		// A conflict or an AlreadyExists means another process wrote in between: read again,
		// and the second round sees that process as the holder.
		if attempt < 3 && (apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)) {
			continue
		}
		return nil, err
	}
}

func (l *Locker) tryAcquire(ctx context.Context) (*coordinationv1.Lease, error) {
	leases := l.client.CoordinationV1().Leases(l.o.Namespace)
	cur, err := leases.Get(ctx, l.o.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		created, err := leases.Create(ctx, l.fresh(nil), metav1.CreateOptions{FieldManager: "addonsync"})
		if !apierrors.IsNotFound(err) {
			return created, err
		}
		// The namespace is missing (a first sync): create it, then the lease. Only then, so
		// a process allowed to write leases but not namespaces works once it exists.
		if err := l.ensureNamespace(ctx); err != nil {
			return nil, err
		}
		return leases.Create(ctx, l.fresh(nil), metav1.CreateOptions{FieldManager: "addonsync"})
	}
	if err != nil {
		return nil, fmt.Errorf("lease %s/%s: get failed: %w", l.o.Namespace, l.o.Name, err)
	}
	if holder, until, held := l.heldByOther(cur); held {
		return nil, &HeldError{Namespace: l.o.Namespace, Name: l.o.Name, Holder: holder, Until: until, Left: until.Sub(l.o.Now())}
	}
	return leases.Update(ctx, l.fresh(cur), metav1.UpdateOptions{FieldManager: "addonsync"})
}

// heldByOther reports the holder and expiry when someone else holds a live lease.
func (l *Locker) heldByOther(cur *coordinationv1.Lease) (string, time.Time, bool) {
	holder := ptrValue(cur.Spec.HolderIdentity)
	if holder == "" || holder == l.o.Holder {
		return "", time.Time{}, false
	}
	until := expiry(cur)
	return holder, until, l.o.Now().Before(until)
}

func expiry(cur *coordinationv1.Lease) time.Time {
	var renewed time.Time
	switch {
	case cur.Spec.RenewTime != nil:
		renewed = cur.Spec.RenewTime.Time
	case cur.Spec.AcquireTime != nil:
		renewed = cur.Spec.AcquireTime.Time
	}
	return renewed.Add(time.Duration(ptrValue(cur.Spec.LeaseDurationSeconds)) * time.Second)
}

// fresh returns the lease taken by this holder: cur (with its resourceVersion, so the update
// fails on a concurrent write) or a new object.
func (l *Locker) fresh(cur *coordinationv1.Lease) *coordinationv1.Lease {
	now := metav1.NewMicroTime(l.o.Now())
	var lease *coordinationv1.Lease
	if cur == nil {
		lease = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{
			Name: l.o.Name, Namespace: l.o.Namespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "addonsync"},
		}}
	} else {
		lease = cur.DeepCopy()
		if ptrValue(cur.Spec.HolderIdentity) != l.o.Holder {
			lease.Spec.LeaseTransitions = ptr(ptrValue(cur.Spec.LeaseTransitions) + 1)
		}
	}
	lease.Spec.HolderIdentity = ptr(l.o.Holder)
	lease.Spec.LeaseDurationSeconds = ptr(int32(l.o.Duration / time.Second))
	lease.Spec.AcquireTime = &now
	lease.Spec.RenewTime = &now
	return lease
}

func (l *Locker) ensureNamespace(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: l.o.Namespace}}
	_, err := l.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{FieldManager: "addonsync"})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("namespace %s: create failed (it holds the sync lease): %w", l.o.Namespace, err)
	}
	return nil
}

// Held is an acquired lease, renewed in the background until Release.
type Held struct {
	l        *Locker
	mu       gosync.Mutex
	lease    *coordinationv1.Lease
	lost     chan struct{}
	lostOnce gosync.Once
	lostErr  error
	stop     context.CancelFunc
	done     chan struct{}
}

func (l *Locker) hold(ctx context.Context, lease *coordinationv1.Lease) *Held {
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	h := &Held{l: l, lease: lease, lost: make(chan struct{}), stop: stop, done: make(chan struct{})}
	go h.renewLoop(rctx)
	return h
}

// Holder is this holder's identity.
func (h *Held) Holder() string { return h.l.o.Holder }

// Lost is closed when the lease was lost (taken by another holder, or not renewed in time).
func (h *Held) Lost() <-chan struct{} { return h.lost }

// Err returns why the lease was lost, nil while it is held.
func (h *Held) Err() error {
	select {
	case <-h.lost:
		return h.lostErr
	default:
		return nil
	}
}

// Context returns a context cancelled (with cause ErrLost) when the lease is lost.
func (h *Held) Context(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	go func() {
		select {
		case <-h.lost:
			cancel(fmt.Errorf("%w: %w", ErrLost, h.lostErr))
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(context.Canceled) }
}
