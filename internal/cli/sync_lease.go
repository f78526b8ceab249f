package cli

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/rest"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/reconcile"
)

// holdSyncLease takes the cluster's sync lease (reconcile.HoldLease) for sync and returns a
// context cancelled when the lease is lost, and a func releasing it. A lease another
// addonsync holds is an error naming the holder and when the lease expires (exit 3).
func holdSyncLease(ctx context.Context, g *GlobalOptions, cfg *config.Config, cluster string, d time.Duration) (context.Context, func(), error) {
	conn := reconcile.KubeConnector{Kubeconfig: g.Kubeconfig, Context: g.Context, Warnings: rest.NoWarnings{}}
	rc, err := conn.RESTConfig(ctx, cfg, cluster)
	if err != nil {
		return ctx, nil, fmt.Errorf("cluster %q: %w", cluster, err)
	}
	ctx, release, err := reconcile.HoldLease(ctx, rc, cfg, reconcile.LeaseOptions{
		Duration: d, Logger: g.Logger,
		OnReleaseError: func(err error) { fmt.Fprintf(g.ErrOut, "warning: cluster %q: %v\n", cluster, err) },
	})
	if err != nil {
		return ctx, nil, fmt.Errorf("cluster %q: %w", cluster, err)
	}
	return ctx, release, nil
}
