package reconcile

import (
	"cmp"
	"context"
	"log/slog"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"github.com/addonsync/addonsync/internal/kube"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
	"github.com/addonsync/addonsync/pkg/sync"
)

// Connector builds the REST config of a cluster; a run builds one per cluster and uses it
// for the sync and the sync lease alike.
type Connector interface {
	RESTConfig(ctx context.Context, cfg *config.Config, cluster string) (*rest.Config, error)
}

// KubeConnector reaches each cluster as its cluster.yaml says (spec.kubeconfig: a file, a
// Secret, or in-cluster), optionally overridden.
type KubeConnector struct {
	// Kubeconfig, when set, is used instead of the kubeconfig cluster.yaml names.
	Kubeconfig string
	// Context, when set, selects this kubeconfig context.
	Context string
	// Warnings handles API server warnings (default: client-go's).
	Warnings rest.WarningHandler
}

// RESTConfig builds the cluster's REST config with addonsync's QPS and burst.
func (k KubeConnector) RESTConfig(ctx context.Context, cfg *config.Config, cluster string) (*rest.Config, error) {
	ref := cfg.Clusters[cluster].Spec.Kubeconfig
	if k.Kubeconfig != "" {
		ref = config.KubeconfigRef{Path: k.Kubeconfig}
	}
	ref.Context = cmp.Or(k.Context, ref.Context)
	ko := kube.DefaultOptions()
	ko.Warnings = k.Warnings
	return kube.RESTConfig(ctx, ref, ko)
}

// Renderer renders one cluster; *render.Renderer implements it.
type Renderer interface {
	RenderCluster(ctx context.Context, cfg *config.Config, cluster string, opts render.RenderOptions) (*render.Cluster, error)
}

// Syncer applies a rendered cluster; *sync.Manager implements it.
type Syncer interface {
	Sync(ctx context.Context, c *render.Cluster, o sync.SyncOptions) (*sync.Result, error)
}

// Engine builds the Syncer of one cluster from its REST config.
type Engine interface {
	Syncer(rc *rest.Config, cfg *config.Config, cluster string) (Syncer, error)
}

// SyncEngine builds a *sync.Manager per cluster with the repository's field manager and
// inventory namespace.
type SyncEngine struct {
	// Tooling is the applyset tooling value, "addonsync/<version>" (default sync's).
	Tooling string
	// Logger receives the manager's logs (default: discard).
	Logger *slog.Logger
}

// Syncer returns a sync.Manager for the cluster.
func (e SyncEngine) Syncer(rc *rest.Config, cfg *config.Config, _ string) (Syncer, error) {
	mo := sync.DefaultManagerOptions()
	spec := cfg.Repository.Spec
	mo.FieldManager = cmp.Or(spec.FieldManager, mo.FieldManager)
	mo.InventoryNamespace = cmp.Or(spec.InventoryNamespace, mo.InventoryNamespace)
	mo.Tooling = cmp.Or(e.Tooling, mo.Tooling)
	if e.Logger != nil {
		mo.Logger = e.Logger
	}
	m, err := sync.NewManager(rc, mo)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Discovery lists what the cluster serves, through conn, at most once, for the render's API
// set (render.RenderOptions.Discovery). A group that fails discovery (an aggregated API
// down) is logged and left out rather than blocking the add-ons.
func Discovery(conn Connector, cfg *config.Config, cluster string, logger *slog.Logger) render.DiscoveryFunc {
	return render.CachedDiscovery(func(ctx context.Context) ([]*metav1.APIResourceList, error) {
		rc, err := conn.RESTConfig(ctx, cfg, cluster)
		if err != nil {
			return nil, err
		}
		dc, err := discovery.NewDiscoveryClientForConfig(rc)
		if err != nil {
			return nil, err
		}
		_, lists, err := dc.ServerGroupsAndResources()
		if discovery.IsGroupDiscoveryFailedError(err) && len(lists) > 0 {
			if logger != nil {
				logger.Debug("API discovery: some groups failed; rendering with the others", "cluster", cluster, "error", err)
			}
			return lists, nil
		}
		return lists, err
	})
}
