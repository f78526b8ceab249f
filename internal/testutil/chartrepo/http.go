package chartrepo

import (
	"crypto/subtle"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"
)

// HTTPRepo is a Helm HTTP chart repository served on loopback: GET /index.yaml and
// GET /<name>-<version>.tgz.
type HTTPRepo struct {
	srv      *httptest.Server
	user     string
	password string
	tls      bool

	mu       sync.Mutex
	index    *repo.IndexFile
	archives map[string][]byte // path -> bytes
	requests map[string]int    // path -> count of requests (authorised or not)
}

// HTTPOption configures NewHTTP.
type HTTPOption func(*HTTPRepo)

// WithBasicAuth makes the repository require HTTP basic auth with user and password.
func WithBasicAuth(user, password string) HTTPOption {
	return func(r *HTTPRepo) { r.user, r.password = user, password }
}

// WithTLS serves the repository over HTTPS with a self-signed certificate; CAFile writes
// the certificate for clients to trust.
func WithTLS() HTTPOption {
	return func(r *HTTPRepo) { r.tls = true }
}

// NewHTTP starts an HTTP chart repository; it is closed when the test ends.
func NewHTTP(t testing.TB, opts ...HTTPOption) *HTTPRepo {
	t.Helper()
	r := &HTTPRepo{
		index:    repo.NewIndexFile(),
		archives: map[string][]byte{},
		requests: map[string]int{},
	}
	for _, o := range opts {
		o(r)
	}
	if r.tls {
		r.srv = httptest.NewTLSServer(http.HandlerFunc(r.serve))
	} else {
		r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	}
	t.Cleanup(r.srv.Close)
	return r
}

// URL is the repository URL (no trailing slash), as written in addon.yaml.
func (r *HTTPRepo) URL() string { return r.srv.URL }

// Add packages c, publishes it in the index and returns "sha256:<hex>" of the archive.
func (r *HTTPRepo) Add(t testing.TB, c Chart) string {
	t.Helper()
	data := BuildChart(t, c)
	digest := Digest(data)
	file := fmt.Sprintf("%s-%s.tgz", c.Name, c.Version)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.index.MustAdd(c.Metadata(), file, r.srv.URL, strings.TrimPrefix(digest, "sha256:")); err != nil {
		t.Fatalf("chart %s %s: add to index: %v", c.Name, c.Version, err)
	}
	r.index.SortEntries()
	r.archives["/"+file] = data
	return digest
}

// Requests returns how many requests the repository received for path (e.g. "/index.yaml",
// "/demo-1.0.0.tgz").
func (r *HTTPRepo) Requests(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests[path]
}

// ArchivePath returns the path of a chart archive in the repository.
func ArchivePath(name, version string) string { return fmt.Sprintf("/%s-%s.tgz", name, version) }

func (r *HTTPRepo) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests[req.URL.Path]++
	r.mu.Unlock()
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.user != "" {
		u, p, ok := req.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(r.user)) != 1 ||
			subtle.ConstantTimeCompare([]byte(p), []byte(r.password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="charts"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if req.URL.Path == "/index.yaml" {
		data, err := yaml.Marshal(r.index)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/x-yaml")
		_, _ = w.Write(data)
		return
	}
	data, ok := r.archives[req.URL.Path]
	if !ok {
		http.NotFound(w, req)
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	_, _ = w.Write(data)
}

// CAFile writes the PEM certificate of a WithTLS repository into a temporary file and
// returns its path.
func (r *HTTPRepo) CAFile(t testing.TB) string {
	t.Helper()
	if !r.tls {
		t.Fatal("CAFile: the repository was not started WithTLS")
	}
	p := filepath.Join(t.TempDir(), "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.srv.Certificate().Raw})
	if err := os.WriteFile(p, block, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
