package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"github.com/addonsync/addonsync/internal/kube"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/helmrelease"
)

// helmReleaseRow is an add-on that has a Helm release on its cluster.
type helmReleaseRow struct {
	Cluster, Addon string
	Release        *helmrelease.Release
}

// helmReleaseRows reads the Helm releases of every cluster (one LIST per storage driver and
// cluster) and returns the add-ons that have one. A cluster that cannot be read is a
// warning on stderr, not an error: the listing is about the config repo.
func helmReleaseRows(ctx context.Context, g *GlobalOptions, cfg *config.Config, rows []clusterRow) []helmReleaseRow {
	found := make([][]helmReleaseRow, len(rows))
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(4)
	for i, row := range rows {
		eg.Go(func() error {
			releases, err := readHelmReleases(ctx, g, cfg, row.Name)
			if err != nil {
				fmt.Fprintf(g.ErrOut, "warning: cluster %q: Helm releases not read: %v\n", row.Name, err)
				return nil
			}
			for _, name := range row.Addons {
				a := cfg.Addons[name]
				if rel := releases.Find(a.Spec.ReleaseName, a.Spec.Namespace); rel != nil {
					found[i] = append(found[i], helmReleaseRow{Cluster: row.Name, Addon: name, Release: rel})
				}
			}
			return nil
		})
	}
	_ = eg.Wait()
	var out []helmReleaseRow
	for _, f := range found {
		out = append(out, f...)
	}
	return out
}

func readHelmReleases(ctx context.Context, g *GlobalOptions, cfg *config.Config, cluster string) (helmrelease.Releases, error) {
	ko := kube.DefaultOptions()
	ko.Timeout = 30 * time.Second
	rc, err := kube.RESTConfig(ctx, clusterKubeconfig(g, cfg, cluster), ko)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cs.Discovery()))
	o := helmrelease.DefaultReaderOptions()
	o.Logger = g.Logger
	return helmrelease.NewReader(cs, mapper, o).List(ctx)
}

// printHelmReleases prints the add-ons that run as Helm releases today, which the next sync
// takes over; nothing when there are none.
func printHelmReleases(w io.Writer, rows []helmReleaseRow) error {
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tADD-ON\tHELM RELEASE (addonsync sync takes it over)")
	for _, r := range rows {
		s := r.Release.Summary()
		if !r.Release.Installed() {
			s += " (" + r.Release.Status.String() + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Cluster, r.Addon, s)
	}
	return tw.Flush()
}
