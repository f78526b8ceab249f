// Package chartsource resolves a chart repository URL from addon.yaml to what is fetched:
// the mirror configured in addonsync.yaml `repositories:`, its credentials and CA bundle,
// and the HTTP and OCI registry clients that reach it. Render (pulling charts) and upgrade
// (listing versions) share it, so both see a repository the same way.
package chartsource

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/registry"

	"github.com/addonsync/addonsync/pkg/config"
)

// Remote is a chart repository with its mirror and credentials applied.
type Remote struct {
	// Source is the upstream URL as written in addon.yaml (the lock file's key).
	Source string
	// URL is what is fetched: the mirror when one is configured, without a trailing slash.
	URL string
	// Username for basic auth or registry login; empty for none.
	Username string
	// Password or token; never printed.
	Password string
	// CAFile is a PEM bundle to trust; empty for the system roots.
	CAFile string
}

// OCI reports whether the remote is an OCI registry (oci://).
func (r Remote) OCI() bool { return strings.HasPrefix(r.URL, "oci://") }

// Resolve applies the repositories: entry matching source (mirror, credentials, CA file).
// env looks up environment variables (os.Getenv when nil).
func Resolve(repos []config.ChartRepository, source string, env func(string) string) (Remote, error) {
	if env == nil {
		env = os.Getenv
	}
	rm := Remote{Source: source, URL: strings.TrimSuffix(source, "/")}
	for _, cr := range repos {
		if strings.TrimSuffix(cr.URL, "/") != rm.URL {
			continue
		}
		if cr.Mirror != "" {
			rm.URL = strings.TrimSuffix(cr.Mirror, "/")
		}
		rm.CAFile = cr.CAFile
		if cr.UsernameEnv != "" {
			rm.Username = env(cr.UsernameEnv)
		}
		switch {
		case cr.PasswordFile != "":
			data, err := os.ReadFile(cr.PasswordFile)
			if err != nil {
				return rm, fmt.Errorf("repository %s: password file: %w (check repositories[].passwordFile in %s)", source, err, config.RepositoryFile)
			}
			rm.Password = strings.TrimRight(string(data), "\r\n")
		case cr.PasswordEnv != "":
			rm.Password = env(cr.PasswordEnv)
			if rm.Password == "" {
				return rm, fmt.Errorf("repository %s: environment variable %s is empty (set it, or change repositories[].passwordEnv in %s)", source, cr.PasswordEnv, config.RepositoryFile)
			}
		}
		break
	}
	return rm, nil
}

// HTTPClient returns a client trusting the remote's CA file (if any) with the given timeout.
func (r Remote) HTTPClient(timeout time.Duration) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if r.CAFile != "" {
		pem, err := os.ReadFile(r.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w (check repositories[].caFile in %s)", err, config.RepositoryFile)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificates found", r.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

// RegistryClient returns a Helm registry client for the remote: basic auth when it has
// credentials, its CA file, and plain HTTP only for loopback hosts.
func (r Remote) RegistryClient(timeout time.Duration) (*registry.Client, error) {
	opts := []registry.ClientOption{registry.ClientOptWriter(io.Discard)}
	if IsLoopback(strings.TrimPrefix(r.URL, "oci://")) {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	if r.Username != "" || r.Password != "" {
		opts = append(opts, registry.ClientOptBasicAuth(r.Username, r.Password))
	}
	hc, err := r.HTTPClient(timeout)
	if err != nil {
		return nil, err
	}
	opts = append(opts, registry.ClientOptHTTPClient(hc))
	client, err := registry.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: registry client: %w", r.URL, err)
	}
	return client, nil
}

// IsLoopback reports whether a host, host:port or host/path reference is on loopback.
func IsLoopback(ref string) bool {
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
