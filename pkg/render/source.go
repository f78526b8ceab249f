package render

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"github.com/addonsync/addonsync/pkg/config"
)

// remote is where a chart from a repository is fetched from, with credentials.
type remote struct {
	source   string // upstream URL as written in addon.yaml (the lock key)
	url      string // URL fetched: the mirror when one is configured
	username string
	password string
	caFile   string
}

func (r remote) oci() bool { return strings.HasPrefix(r.url, "oci://") }

// resolveRemote applies repositories: from addonsync.yaml (mirror, credentials, CA).
func (r *Renderer) resolveRemote(cfg *config.Config, source string) (remote, error) {
	rm := remote{source: source, url: source}
	if cfg.Repository == nil {
		return rm, nil
	}
	for _, cr := range cfg.Repository.Spec.Repositories {
		if strings.TrimSuffix(cr.URL, "/") != source {
			continue
		}
		if cr.Mirror != "" {
			rm.url = strings.TrimSuffix(cr.Mirror, "/")
		}
		rm.caFile = cr.CAFile
		if cr.UsernameEnv != "" {
			rm.username = r.o.Env(cr.UsernameEnv)
		}
		switch {
		case cr.PasswordFile != "":
			data, err := os.ReadFile(cr.PasswordFile)
			if err != nil {
				return rm, fmt.Errorf("repository %s: password file: %w (check repositories[].passwordFile in %s)", source, err, config.RepositoryFile)
			}
			rm.password = strings.TrimRight(string(data), "\r\n")
		case cr.PasswordEnv != "":
			rm.password = r.o.Env(cr.PasswordEnv)
			if rm.password == "" {
				return rm, fmt.Errorf("repository %s: environment variable %s is empty (set it, or change repositories[].passwordEnv in %s)", source, cr.PasswordEnv, config.RepositoryFile)
			}
		}
		break
	}
	return rm, nil
}

// download fetches the archive of a chart version.
func (r *Renderer) download(ctx context.Context, rm remote, name, version string) ([]byte, error) {
	if rm.oci() {
		return r.pullOCI(ctx, rm, name, version)
	}
	idx, err := r.index(ctx, rm)
	if err != nil {
		return nil, err
	}
	cv, err := idx.Get(name, version)
	if err != nil || cv.Version != version {
		return nil, fmt.Errorf("chart %s %s is not in %s/index.yaml (check spec.chart.name and spec.chart.version)", name, version, rm.url)
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("chart %s %s: %s/index.yaml lists no download URL", name, version, rm.url)
	}
	u, err := resolveURL(rm.url, cv.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", name, version, err)
	}
	data, err := r.httpGet(ctx, rm, u)
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", name, version, err)
	}
	if cv.Digest != "" && digestOf(data) != "sha256:"+cv.Digest {
		return nil, fmt.Errorf("chart %s %s: %s has digest %s but index.yaml says sha256:%s (the repository is inconsistent; retry later or report it upstream)",
			name, version, u, digestOf(data), cv.Digest)
	}
	return data, nil
}

type indexEntry struct {
	idx *repo.IndexFile
}

// index returns the parsed index.yaml of a repository, fetched once per Renderer.
func (r *Renderer) index(ctx context.Context, rm remote) (*repo.IndexFile, error) {
	r.mu.Lock()
	e := r.indexes[rm.url]
	r.mu.Unlock()
	if e != nil {
		return e.idx, nil
	}
	v, err, _ := r.flight.Do("index\x00"+rm.url, func() (any, error) {
		data, err := r.httpGet(ctx, rm, rm.url+"/index.yaml")
		if err != nil {
			return nil, err
		}
		idx := &repo.IndexFile{}
		if err := yaml.Unmarshal(data, idx); err != nil {
			return nil, fmt.Errorf("%s/index.yaml: %w", rm.url, err)
		}
		idx.SortEntries()
		r.mu.Lock()
		r.indexes[rm.url] = &indexEntry{idx: idx}
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
func (r *Renderer) httpGet(ctx context.Context, rm remote, u string) ([]byte, error) {
	client, err := httpClient(rm.caFile)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if rm.username != "" || rm.password != "" {
		if ru, err := url.Parse(rm.url); err == nil && ru.Host == req.URL.Host {
			req.SetBasicAuth(rm.username, rm.password)
		}
	}
	req.Header.Set("User-Agent", "addonsync")
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("GET %s: %w", u, ctx.Err())
		}
		return nil, fmt.Errorf("GET %s: %w (check the network, or set a mirror under repositories: in %s)", u, err, config.RepositoryFile)
	}
	defer func() { _ = resp.Body.Close() }()
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
	return data, nil
}

func httpClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w (check repositories[].caFile in %s)", err, config.RepositoryFile)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificates found", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 5 * time.Minute}, nil
}

// pullOCI pulls a chart from an OCI registry; plain HTTP only for loopback hosts.
func (r *Renderer) pullOCI(ctx context.Context, rm remote, name, version string) ([]byte, error) {
	ref := strings.TrimPrefix(rm.url, "oci://") + "/" + name + ":" + version
	opts := []registry.ClientOption{registry.ClientOptWriter(io.Discard)}
	if isLoopback(ref) {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	if rm.username != "" || rm.password != "" {
		opts = append(opts, registry.ClientOptBasicAuth(rm.username, rm.password))
	}
	if rm.caFile != "" {
		hc, err := httpClient(rm.caFile)
		if err != nil {
			return nil, err
		}
		opts = append(opts, registry.ClientOptHTTPClient(hc))
	}
	client, err := registry.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("registry client: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := client.Pull(ref, registry.PullOptWithChart(true))
	if err != nil {
		return nil, fmt.Errorf("pull oci://%s: %w", ref, err)
	}
	return res.Chart.Data, nil
}

func isLoopback(ref string) bool {
	host := ref
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
