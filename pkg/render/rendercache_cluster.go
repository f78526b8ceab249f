package render

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/addonsync/addonsync/pkg/config"
)

// RenderCluster renders the add-ons of a cluster (ro.Addons, or all). It renders everything or
// returns an error that joins every add-on's error; there is no partial output. A failure of
// the config's inputs is an *InputError; a chart repository that cannot be read a *FetchError.
//
// When the render cache (under Options.CacheDir) holds every add-on asked for, rendered from
// the same inputs, the result is read from it: no chart is fetched or loaded, and neither
// Helm nor kustomize runs. Otherwise the cluster is rendered and the cache updated.
func (r *Renderer) RenderCluster(ctx context.Context, cfg *config.Config, cluster string, ro RenderOptions) (*Cluster, error) {
	keys, cacheable := r.cacheKeys(cfg, cluster)
	if cacheable {
		if c, ok := r.fromCache(ctx, cfg, cluster, ro, keys); ok {
			return c, nil
		}
	}
	r.rendered.Add(1)
	c, err := r.renderCluster(ctx, cfg, cluster, ro)
	if err != nil {
		return nil, inputError(err)
	}
	if !cacheable {
		// The charts the render downloaded can be named now.
		if keys, cacheable = r.cacheKeys(cfg, cluster); !cacheable {
			return c, nil
		}
	}
	for i := range c.Addons {
		a := &c.Addons[i]
		if err := r.store.put(keys[a.Name], a); err != nil {
			r.log.Warn("render cache: entry not written", "cluster", cluster, "addon", a.Name, "error", err)
		}
	}
	if err := r.store.trim(); err != nil {
		r.log.Warn("render cache: not trimmed", "error", err)
	}
	return c, nil
}

// cacheKeys returns the render cache key of every add-on of the cluster; ok is false when
// the inputs cannot be named without fetching something (a chart never downloaded) or are
// invalid (the render reports why). An add-on's key covers the inputs of every add-on of
// the cluster, since any of them may render a CRD that changes the API set the others are
// rendered with: addonsync's version, the cluster, its minor and the API set addonsync
// computes for it, and per add-on its name, release name, namespace, chart digest, values
// (merged, canonical JSON) and overlay files (paths and contents).
func (r *Renderer) cacheKeys(cfg *config.Config, cluster string) (map[string]string, bool) {
	cl := cfg.Clusters[cluster]
	if cl == nil {
		return nil, false
	}
	minor, err := config.ParseMinor(cl.Spec.KubernetesVersion)
	if err != nil {
		return nil, false
	}
	base, _, err := builtinAPISet(minor)
	if err != nil {
		return nil, false
	}
	addons, err := cfg.AddonsFor(cluster)
	if err != nil {
		return nil, false
	}
	lock, err := LoadLock(cfg.FS)
	if err != nil {
		return nil, false
	}
	parts := []string{renderCacheMagic, r.version, cluster, fmt.Sprint(minor), strings.Join(base.versionSet(), ","), base.digest()}
	for _, a := range addons {
		p, ok := r.addonInputs(cfg, lock, cluster, a)
		if !ok {
			return nil, false
		}
		parts = append(parts, p...)
	}
	ctxKey := hashKey(parts...)
	keys := make(map[string]string, len(addons))
	for _, a := range addons {
		keys[a.Metadata.Name] = hashKey(ctxKey, a.Metadata.Name)
	}
	return keys, true
}

// addonInputs lists what one add-on's render depends on, as strings for the key.
func (r *Renderer) addonInputs(cfg *config.Config, lock *config.Lock, cluster string, a *config.Addon) ([]string, bool) {
	name := a.Metadata.Name
	release := a.Spec.ReleaseName
	if release == "" {
		release = name
	}
	chart := "-"
	if c := a.Spec.Chart; c != nil {
		var ok bool
		if chart, ok = r.chartKey(cfg.FS, lock, c); !ok {
			return nil, false
		}
	}
	_, addonVals, err := readValuesFile(cfg.FS, config.AddonValuesFile(name))
	if err != nil {
		return nil, false
	}
	_, clusterVals, err := readValuesFile(cfg.FS, config.ClusterValuesFile(cluster, name))
	if err != nil {
		return nil, false
	}
	vals, err := json.Marshal(mergeValues(addonVals, clusterVals)) // map keys sorted: canonical
	if err != nil {
		return nil, false
	}
	addonOv, err := readOverlay(cfg.FS, config.AddonKustomizeDir(name))
	if err != nil {
		return nil, false
	}
	clusterOv, err := readOverlay(cfg.FS, config.ClusterKustomizeDir(cluster, name))
	if err != nil {
		return nil, false
	}
	return []string{"addon", name, release, a.Spec.Namespace, chart, string(vals), ovDigest(addonOv), ovDigest(clusterOv)}, true
}

// chartKey names a chart by content: the digest addonsync.lock pins, or the digest of the
// archive the chart cache holds for an unpinned version, or the digest of a chart directory's
// files. ok is false when that needs a download.
func (r *Renderer) chartKey(fsys fs.FS, lock *config.Lock, spec *config.ChartSpec) (string, bool) {
	if spec.Path != "" {
		d, err := treeDigest(fsys, spec.Path)
		return "path:" + spec.Path + "@" + d, err == nil
	}
	source := strings.TrimSuffix(spec.Repository, "/")
	id := source + "\x00" + spec.Name + "\x00" + spec.Version + "@"
	if locked, ok := LookupLock(lock, source, spec.Name, spec.Version); ok {
		return id + locked, true
	}
	if r.o.RequireLocked {
		return "", false
	}
	digest := r.charts.ref(source, spec.Name, spec.Version)
	if digest == "" {
		return "", false
	}
	if _, err := os.Stat(r.charts.blobPath(digest)); err != nil {
		return "", false // the render downloads it again, perhaps republished
	}
	return id + digest, true
}

// treeDigest hashes every file under dir of fsys, names and contents.
func treeDigest(fsys fs.FS, dir string) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(data))
		h.Write(data)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// fromCache returns the cluster's render from the cache; ok is false unless every add-on
// asked for has an intact entry.
func (r *Renderer) fromCache(ctx context.Context, cfg *config.Config, cluster string, ro RenderOptions, keys map[string]string) (*Cluster, bool) {
	addons, err := cfg.AddonsFor(cluster)
	if err != nil {
		return nil, false
	}
	var selected []*config.Addon
	for _, a := range addons {
		if len(ro.Addons) == 0 || slices.Contains(ro.Addons, a.Metadata.Name) {
			selected = append(selected, a)
		}
	}
	if len(ro.Addons) > 0 && len(selected) != len(ro.Addons) {
		return nil, false // an add-on the cluster does not run: the render says so
	}
	cl := cfg.Clusters[cluster]
	out := &Cluster{Name: cluster, KubernetesVersion: cl.Spec.KubernetesVersion, Revision: cfg.Revision, Addons: make([]Addon, len(selected))}
	// The same warnings as a render (cacheKeys checked the minor parses).
	if minor, err := config.ParseMinor(cl.Spec.KubernetesVersion); err == nil {
		if _, warning, err := builtinAPISet(minor); err == nil && warning != "" {
			out.Warnings = []string{fmt.Sprintf("cluster %q: %s", cluster, warning)}
		}
	}
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(r.o.Concurrency)
	for i, a := range selected {
		g.Go(func() error {
			got, ok := r.store.get(keys[a.Metadata.Name])
			if !ok || got.Name != a.Metadata.Name || got.Namespace != a.Spec.Namespace {
				return errCacheMiss
			}
			got.Spec = a.Spec
			got.Spec.DependsOn = cfg.DependsOn(cluster, a.Metadata.Name)
			out.Addons[i] = *got
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, false
	}
	r.log.Debug("rendered from the render cache", "cluster", cluster, "addons", len(selected))
	return out, true
}

var errCacheMiss = fmt.Errorf("render cache: miss")
