package upgrade

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	"golang.org/x/sync/errgroup"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"github.com/addonsync/addonsync/pkg/chartsource"
	"github.com/addonsync/addonsync/pkg/config"
)

// AnnotationChanges is the Chart.yaml annotation Artifact Hub reads a changelog from.
const AnnotationChanges = "artifacthub.io/changes"

// DiscoverOptions configure a Discoverer.
type DiscoverOptions struct {
	// Repositories are addonsync.yaml's repositories: mirrors and credentials per upstream URL.
	Repositories []config.ChartRepository
	// Env looks up the environment variables repositories name (default os.Getenv).
	Env func(string) string
	// Concurrency bounds the add-ons (and OCI manifests) fetched at once (default 4).
	Concurrency int
	// Timeout bounds each HTTP request (default 1m).
	Timeout time.Duration
	// Logger receives debug messages (default: discard).
	Logger *slog.Logger
}

// DefaultDiscoverOptions returns the options the CLI uses.
func DefaultDiscoverOptions() DiscoverOptions {
	return DiscoverOptions{Env: os.Getenv, Concurrency: 4, Timeout: time.Minute, Logger: slog.New(slog.DiscardHandler)}
}

// Discoverer lists the chart versions upstream sources publish. It caches each HTTP
// repository's index for its lifetime, so build one per run.
type Discoverer struct {
	o   DiscoverOptions
	log *slog.Logger

	mu      sync.Mutex
	indexes map[string]*repo.IndexFile
}

// NewDiscoverer returns a Discoverer; zero fields of o take their defaults.
func NewDiscoverer(o DiscoverOptions) *Discoverer {
	d := DefaultDiscoverOptions()
	if o.Env == nil {
		o.Env = d.Env
	}
	if o.Concurrency <= 0 {
		o.Concurrency = d.Concurrency
	}
	if o.Timeout <= 0 {
		o.Timeout = d.Timeout
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	return &Discoverer{o: o, log: o.Logger, indexes: map[string]*repo.IndexFile{}}
}

// CurrentOf returns the add-ons of cfg whose chart comes from a repository, sorted by name.
func CurrentOf(cfg *config.Config) []Current {
	var out []Current
	for _, n := range cfg.AddonNames() {
		a := cfg.Addons[n]
		if a.Spec.Chart == nil || a.Spec.Chart.Repository == "" {
			continue
		}
		out = append(out, Current{
			Addon: n, Source: a.Spec.Chart.Repository, Chart: a.Spec.Chart.Name,
			Version: a.Spec.Chart.Version, Policy: a.Spec.Upgrade,
		})
	}
	return out
}

// DiscoverAll lists the versions of every current add-on's chart. Add-ons whose source failed
// are missing from the map; their errors are joined in the error.
func (d *Discoverer) DiscoverAll(ctx context.Context, current []Current) (map[string][]Available, []error) {
	results := make([][]Available, len(current))
	errs := make([]error, len(current))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.o.Concurrency)
	for i, c := range current {
		g.Go(func() error {
			v, err := d.Versions(gctx, c.Source, c.Chart, c.Version)
			if err != nil {
				errs[i] = fmt.Errorf("add-on %q: %w", c.Addon, err)
			}
			results[i] = v
			return nil
		})
	}
	_ = g.Wait()
	out := map[string][]Available{}
	var failed []error
	for i, c := range current {
		if errs[i] != nil {
			failed = append(failed, errs[i])
			continue
		}
		out[c.Addon] = results[i]
	}
	return out, failed
}

// Versions lists the versions of chart at source (an HTTP repository URL or oci:// path).
// For OCI, metadata (kubeVersion, changelog) is fetched only for versions newer than since
// ("" for all), one manifest and config blob each.
func (d *Discoverer) Versions(ctx context.Context, source, chart, since string) ([]Available, error) {
	rs, err := d.resolve(source)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(rs.URL, "oci://") {
		return d.ociVersions(ctx, rs, chart, since)
	}
	idx, err := d.index(ctx, rs)
	if err != nil {
		return nil, err
	}
	var out []Available
	for _, cv := range idx.Entries[chart] {
		if cv == nil || cv.Metadata == nil {
			continue
		}
		a := Available{Version: cv.Version, KubeVersion: cv.KubeVersion, Changes: cv.Annotations[AnnotationChanges]}
		if cv.Digest != "" {
			a.Digest = "sha256:" + strings.TrimPrefix(cv.Digest, "sha256:")
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("chart %q not found in %s/index.yaml (check spec.chart.name)", chart, rs.URL)
	}
	return out, nil
}

func (d *Discoverer) resolve(source string) (chartsource.Remote, error) {
	return chartsource.Resolve(d.o.Repositories, source, d.o.Env)
}

// index fetches and parses <url>/index.yaml once per Discoverer.
func (d *Discoverer) index(ctx context.Context, rs chartsource.Remote) (*repo.IndexFile, error) {
	d.mu.Lock()
	idx := d.indexes[rs.URL]
	d.mu.Unlock()
	if idx != nil {
		return idx, nil
	}
	client, err := rs.HTTPClient(d.o.Timeout)
	if err != nil {
		return nil, err
	}
	u := rs.URL + "/index.yaml"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if rs.Username != "" || rs.Password != "" {
		req.SetBasicAuth(rs.Username, rs.Password)
	}
	req.Header.Set("User-Agent", "addonsync")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = fmt.Sprintf(" (set credentials for this repository under repositories: in %s)", config.RepositoryFile)
		}
		return nil, fmt.Errorf("GET %s: %s%s", u, resp.Status, hint)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	idx = &repo.IndexFile{}
	if err := yaml.Unmarshal(data, idx); err != nil {
		return nil, fmt.Errorf("%s: parse: %w", u, err)
	}
	d.mu.Lock()
	d.indexes[rs.URL] = idx
	d.mu.Unlock()
	return idx, nil
}

// ociVersions lists a chart's tags with Helm's registry client and pulls every version newer
// than since (or equal to it) for its Chart.yaml metadata and archive digest.
func (d *Discoverer) ociVersions(ctx context.Context, rs chartsource.Remote, chart, since string) ([]Available, error) {
	path := strings.TrimPrefix(rs.URL, "oci://") + "/" + chart
	client, err := rs.RegistryClient(d.o.Timeout)
	if err != nil {
		return nil, err
	}
	tags, err := client.Tags(path) // semver tags only, "_" turned back into "+"
	if err != nil {
		return nil, fmt.Errorf("oci://%s: list tags: %w", path, err)
	}
	var sinceV *semver.Version
	if since != "" {
		sinceV, _ = semver.NewVersion(since)
	}
	var versions []string
	for _, v := range tags {
		sv, err := semver.NewVersion(v)
		if err == nil && (sinceV == nil || !sv.LessThan(sinceV)) {
			versions = append(versions, v)
		}
	}
	out := make([]Available, len(versions))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.o.Concurrency)
	for i, v := range versions {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			res, err := client.Pull(path+":"+strings.ReplaceAll(v, "+", "_"), registry.PullOptWithChart(true))
			if err != nil {
				return fmt.Errorf("oci://%s:%s: pull: %w", path, v, err)
			}
			a := Available{Version: v, Digest: res.Chart.Digest}
			if m := res.Chart.Meta; m != nil {
				a.KubeVersion, a.Changes = m.KubeVersion, m.Annotations[AnnotationChanges]
			}
			out[i] = a
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
