package chartrepo

import (
	"crypto/subtle"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	helmregistry "helm.sh/helm/v3/pkg/registry"
)

// OCIRegistry is an OCI registry (go-containerregistry's pkg/registry) on loopback,
// spoken to over plain HTTP.
type OCIRegistry struct {
	srv      *httptest.Server
	host     string
	user     string
	password string

	mu       sync.Mutex
	requests map[string]int // path -> count
}

// OCIOption configures NewOCI.
type OCIOption func(*OCIRegistry)

// WithOCIBasicAuth makes the registry require HTTP basic auth with user and password.
func WithOCIBasicAuth(user, password string) OCIOption {
	return func(r *OCIRegistry) { r.user, r.password = user, password }
}

// NewOCI starts an OCI registry; it is closed when the test ends.
func NewOCI(t testing.TB, opts ...OCIOption) *OCIRegistry {
	t.Helper()
	r := &OCIRegistry{requests: map[string]int{}}
	for _, o := range opts {
		o(r)
	}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.requests[req.URL.Path]++
		r.mu.Unlock()
		if r.user != "" {
			u, p, ok := req.BasicAuth()
			if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(r.user)) != 1 ||
				subtle.ConstantTimeCompare([]byte(p), []byte(r.password)) != 1 {
				w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
				return
			}
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	r.host = strings.TrimPrefix(r.srv.URL, "http://")
	return r
}

// Host is "127.0.0.1:PORT".
func (r *OCIRegistry) Host() string { return r.host }

// Repository is the registry path charts are pushed under, as written in addon.yaml:
// "oci://127.0.0.1:PORT/charts".
func (r *OCIRegistry) Repository() string { return "oci://" + r.host + "/charts" }

// Ref is the oci:// reference of a chart: "oci://127.0.0.1:PORT/charts/<name>".
func (r *OCIRegistry) Ref(name string) string { return r.Repository() + "/" + name }

// Push packages c, pushes it with Helm's registry client and returns "sha256:<hex>" of the
// archive (which is also the digest of the chart layer).
func (r *OCIRegistry) Push(t testing.TB, c Chart) string {
	t.Helper()
	data := BuildChart(t, c)
	opts := []helmregistry.ClientOption{helmregistry.ClientOptPlainHTTP(), helmregistry.ClientOptWriter(io.Discard)}
	if r.user != "" {
		opts = append(opts, helmregistry.ClientOptBasicAuth(r.user, r.password))
	}
	client, err := helmregistry.NewClient(opts...)
	if err != nil {
		t.Fatalf("registry client: %v", err)
	}
	ref := fmt.Sprintf("%s/charts/%s:%s", r.host, c.Name, c.Version)
	res, err := client.Push(data, ref, helmregistry.PushOptCreationTime("2020-01-01T00:00:00Z"))
	if err != nil {
		t.Fatalf("chart %s %s: push to %s: %v", c.Name, c.Version, ref, err)
	}
	digest := Digest(data)
	if res.Chart.Digest != digest {
		t.Fatalf("chart %s %s: registry chart layer digest %s, want %s", c.Name, c.Version, res.Chart.Digest, digest)
	}
	return digest
}

// Requests returns how many requests the registry received whose path contains substr
// (e.g. a blob digest).
func (r *OCIRegistry) Requests(substr string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for p, c := range r.requests {
		if strings.Contains(p, substr) {
			n += c
		}
	}
	return n
}
