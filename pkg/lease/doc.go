// Package lease keeps two addonsync processes from syncing one cluster at the same time.
//
// A Locker holds a coordination.k8s.io/v1 Lease (by default "addonsync-sync" in the
// inventory namespace of the target cluster) while a sync runs:
//
//	l := lease.New(clientset, lease.DefaultOptions())
//	held, err := l.Acquire(ctx)
//	var he *lease.HeldError
//	if errors.As(err, &he) {
//		// another process syncs this cluster until he.Until
//	}
//	defer held.Release(context.WithoutCancel(ctx))
//	ctx, cancel := held.Context(ctx) // cancelled when the lease is lost
//	defer cancel()
//
// # Rules
//
//   - A free lease (no holder, or a holder whose renewTime + leaseDurationSeconds has
//     passed) is taken; a lease held by someone else is refused at once with a HeldError.
//   - Every write is conditioned on the resourceVersion just read (create when absent), so
//     of two processes racing for one lease exactly one wins and the other sees the winner.
//   - While held, a goroutine renews the lease every RenewInterval (Duration/3). When a
//     renewal finds another holder, or cannot renew before the lease would expire, the lease
//     is lost: Lost() is closed and the context from Context is cancelled.
//   - Release clears the holder (only when it is still this holder), so the next process
//     need not wait for the lease to expire.
//
// Expiry compares the lease's renewTime with the local clock, as client-go's leader election
// does: clocks apart by more than Duration - RenewInterval would let a second process take a
// live lease, so keep the clocks in sync (NTP).
package lease
