package render

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/singleflight"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Options configure a Renderer.
type Options struct {
	// CacheDir holds downloaded chart archives by digest and, under renders/, the render
	// cache (default $XDG_CACHE_HOME/addonsync/charts). Any part of it may be deleted at
	// any time; what is missing is fetched or rendered again.
	CacheDir string
	// RenderCacheMaxBytes bounds the render cache: past it, the least recently used entries
	// are removed (0: DefaultRenderCacheMaxBytes; <0: unbounded).
	RenderCacheMaxBytes int64
	// Version is addonsync's version, part of every render cache key, so a new addonsync
	// never reuses what an older one rendered (default: from the binary's build info).
	Version string
	// Concurrency bounds how many add-ons (and clusters, in RenderAll) render at once
	// (default: the number of CPUs, at least 2).
	Concurrency int
	// Logger receives debug messages (default: discard).
	Logger *slog.Logger
	// RequireLocked refuses a chart from a repository that addonsync.lock does not pin.
	RequireLocked bool
	// Env looks up environment variables named by repositories[].usernameEnv/passwordEnv
	// (default os.Getenv).
	Env func(string) string
}

// DefaultOptions returns the options the CLI uses.
func DefaultOptions() Options {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return Options{
		CacheDir:    filepath.Join(dir, "addonsync", "charts"),
		Concurrency: max(2, runtime.NumCPU()),
		Logger:      slog.New(slog.DiscardHandler),
		Env:         os.Getenv,
	}
}

// RenderOptions select what RenderCluster and RenderAll render.
type RenderOptions struct {
	// Addons renders only these add-ons of the cluster; empty renders all of them.
	Addons []string
	// Discovery, when set, returns what the live cluster serves; it is merged with the
	// minor's built-in APIs, so custom resources of CRDs installed outside addonsync render.
	// It is called once per RenderCluster, only after every chart, values file and overlay
	// was read and checked, so bad input fails before any request to the cluster. Nil
	// renders offline: the built-in APIs plus the CRDs the config renders.
	Discovery DiscoveryFunc
}

// DiscoveryFunc returns the API resources a cluster serves, as discovery lists them.
type DiscoveryFunc func(ctx context.Context) ([]*metav1.APIResourceList, error)

// CachedDiscovery returns a DiscoveryFunc calling fn at most once; the result (or error) is
// reused, so a run discovers each cluster once.
func CachedDiscovery(fn DiscoveryFunc) DiscoveryFunc {
	var once sync.Once
	var lists []*metav1.APIResourceList
	var err error
	return func(ctx context.Context) ([]*metav1.APIResourceList, error) {
		once.Do(func() { lists, err = fn(ctx) })
		return lists, err
	}
}

// Renderer renders clusters. It is safe for concurrent use, and keeps what it fetched and
// rendered in memory, so rendering an unchanged cluster again is cheap.
type Renderer struct {
	o      Options
	log    *slog.Logger
	charts *chartStore

	flight  singleflight.Group
	mu      sync.Mutex
	indexes map[string]*indexEntry // repository URL -> parsed index.yaml
	renders *memo                  // render results by input digest
	store   *renderStore           // the render cache on disk
	version string                 // Options.Version or the build's
	// rendered counts the renders the render cache could not answer.
	rendered atomic.Int64
}

// New returns a Renderer; zero fields of o take their defaults.
func New(o Options) *Renderer {
	d := DefaultOptions()
	if o.CacheDir == "" {
		o.CacheDir = d.CacheDir
	}
	if o.Concurrency <= 0 {
		o.Concurrency = d.Concurrency
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	if o.Env == nil {
		o.Env = d.Env
	}
	if o.Version == "" {
		o.Version = buildVersion()
	}
	return &Renderer{
		store:   newRenderStore(filepath.Join(o.CacheDir, "renders"), o.RenderCacheMaxBytes),
		version: o.Version,
		o:       o,
		log:     o.Logger,
		charts:  newChartStore(o.CacheDir),
		indexes: map[string]*indexEntry{},
		renders: newMemo(512),
	}
}
