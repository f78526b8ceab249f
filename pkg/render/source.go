package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"github.com/addonsync/addonsync/internal/redact"
	"github.com/addonsync/addonsync/pkg/chartsource"
	"github.com/addonsync/addonsync/pkg/config"
)

// resolveRemote applies repositories: from addonsync.yaml (mirror, credentials, CA).
func (r *Renderer) resolveRemote(cfg *config.Config, source string) (chartsource.Remote, error) {
	var repos []config.ChartRepository
	if cfg.Repository != nil {
		repos = cfg.Repository.Spec.Repositories
	}
	return chartsource.Resolve(repos, source, r.o.Env)
}

// download fetches the archive of a chart version.
func (r *Renderer) download(ctx context.Context, rm chartsource.Remote, name, version string) ([]byte, error) {
	if rm.OCI() {
		return r.pullOCI(ctx, rm, name, version)
	}
	idx, err := r.index(ctx, rm)
	if err != nil {
		return nil, err
	}
	cv, err := idx.Get(name, version)
	if err != nil || cv.Version != version {
		return nil, fmt.Errorf("chart %s %s is not in %s/index.yaml (check spec.chart.name and spec.chart.version)", name, version, redact.URL(rm.URL))
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("chart %s %s: %s/index.yaml lists no download URL", name, version, redact.URL(rm.URL))
	}
	u, err := resolveURL(rm.URL, cv.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", name, version, err)
	}
	data, err := r.httpGet(ctx, rm, u)
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", name, version, err)
	}
	if cv.Digest != "" && digestOf(data) != "sha256:"+cv.Digest {
		return nil, fmt.Errorf("chart %s %s: %s has digest %s but index.yaml says sha256:%s (the repository is inconsistent; retry later or report it upstream)",
			name, version, redact.URL(u), digestOf(data), cv.Digest)
	}
	return data, nil
}

type indexEntry struct {
	idx *repo.IndexFile
}

// index returns the parsed index.yaml of a repository, fetched once per Renderer.
func (r *Renderer) index(ctx context.Context, rm chartsource.Remote) (*repo.IndexFile, error) {
	r.mu.Lock()
	e := r.indexes[rm.URL]
	r.mu.Unlock()
	if e != nil {
		return e.idx, nil
	}
	v, err, _ := r.flight.Do("index\x00"+rm.URL, func() (any, error) {
		data, err := r.httpGet(ctx, rm, rm.URL+"/index.yaml")
		if err != nil {
			return nil, err
		}
		idx := &repo.IndexFile{}
		if err := yaml.Unmarshal(data, idx); err != nil {
			return nil, fmt.Errorf("%s/index.yaml: %w", redact.URL(rm.URL), err)
		}
		idx.SortEntries()
		r.mu.Lock()
		r.indexes[rm.URL] = &indexEntry{idx: idx}
		r.mu.Unlock()
		return idx, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*repo.IndexFile), nil
}

func resolveURL(base, ref string) (string, error) {
	b, err := url.Parse(base + "/")
	if err != nil {
		return "", err
	}
	u, err := b.Parse(ref)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// httpGet downloads u; credentials are sent only to the repository's own host.
func (r *Renderer) httpGet(ctx context.Context, rm chartsource.Remote, u string) ([]byte, error) {
	client, err := rm.HTTPClient(chartTimeout)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if rm.Username != "" || rm.Password != "" {
		if ru, err := url.Parse(rm.URL); err == nil && ru.Host == req.URL.Host {
			req.SetBasicAuth(rm.Username, rm.Password)
		}
	}
	req.Header.Set("User-Agent", "addonsync")
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("GET %s: %w", u, ctx.Err())
		}
		return nil, &FetchError{Op: "GET", URL: u, Err: fmt.Errorf("%w (check the network, or set a mirror under repositories: in %s)", err, config.RepositoryFile)}
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = fmt.Sprintf(" (set credentials for this repository under repositories: in %s)", config.RepositoryFile)
		}
		return nil, &FetchError{Op: "GET", URL: u, Err: fmt.Errorf("%s%s", resp.Status, hint)}
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, &FetchError{Op: "GET", URL: u, Err: err}
	}
	return data, nil
}

// pullOCI pulls a chart from an OCI registry; plain HTTP only for loopback hosts.
func (r *Renderer) pullOCI(ctx context.Context, rm chartsource.Remote, name, version string) ([]byte, error) {
	ref := strings.TrimPrefix(rm.URL, "oci://") + "/" + name + ":" + version
	client, err := rm.RegistryClient(chartTimeout)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := client.Pull(ref, registry.PullOptWithChart(true))
	if err != nil {
		return nil, &FetchError{Op: "pull", URL: "oci://" + ref, Err: err}
	}
	return res.Chart.Data, nil
}

// FetchError is a chart repository or registry that could not be read (network, status,
// credentials): a failure outside the config, unlike a template or values error.
type FetchError struct {
	// Op is "GET" for HTTP repositories, "pull" for OCI registries.
	Op string
	// URL is what was fetched.
	URL string
	// Err is the cause.
	Err error
}

func (e *FetchError) Error() string {
	return redact.Text(fmt.Sprintf("%s %s: %v", e.Op, redact.URL(e.URL), e.Err))
}
func (e *FetchError) Unwrap() error { return e.Err }

// DiscoveryError is a cluster whose API discovery failed (RenderOptions.Discovery): a
// failure of the cluster, not of the config.
type DiscoveryError struct {
	// Cluster is the cluster's name.
	Cluster string
	// Err is the cause.
	Err error
}

func (e *DiscoveryError) Error() string {
	return fmt.Sprintf("cluster %q: API discovery: %v", e.Cluster, redact.Text(e.Err.Error()))
}
func (e *DiscoveryError) Unwrap() error { return e.Err }

// InputError is a render that failed on the config repo's inputs: a template, values, an
// overlay, an API the cluster's minor does not serve, the lock. Fixing the config fixes it,
// unlike a FetchError or a DiscoveryError, which are failures outside the config.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// inputError marks err as an InputError unless a failure outside the config (a chart
// repository, the cluster's discovery, a cancelled or timed-out run) is among its causes.
func inputError(err error) error {
	var fe *FetchError
	var de *DiscoveryError
	if err == nil || errors.As(err, &fe) || errors.As(err, &de) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &InputError{Err: err}
}

// chartTimeout bounds one chart repository request.
const chartTimeout = 5 * time.Minute
