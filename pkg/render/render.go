package render

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/pkg/config"
)

// addonJob carries one add-on through the render stages.
type addonJob struct {
	addon   *config.Addon
	release string
	// dependsOn is the add-on's dependsOn on this cluster (addon.yaml plus cluster.yaml).
	dependsOn []string
	// Inputs.
	chart     *chartFiles
	info      *ChartInfo
	vals      map[string]any
	source    *overlay // chart-less add-ons: addons/<a>/kustomize
	addonOv   *overlay // addons/<a>/kustomize for charted add-ons
	clusterOv *overlay
	selected  bool
	ready     bool        // prepare succeeded
	maxRender int64       // spec.limits.maxRenderSize of addonsync.yaml, in bytes
	sourceKey string      // digest of what stage A rendered from
	sourceOut *helmOutput // stage A output; shared with the memo, never mutated
	result    *Addon
}

// renderCluster renders the add-ons of a cluster (ro.Addons, or all). It renders everything or
// returns an error that joins every add-on's error; there is no partial output.
func (r *Renderer) renderCluster(ctx context.Context, cfg *config.Config, cluster string, ro RenderOptions) (*Cluster, error) {
	cl := cfg.Clusters[cluster]
	if cl == nil {
		return nil, fmt.Errorf("cluster %q does not exist (clusters: %v)", cluster, cfg.ClusterNames())
	}
	prefix := fmt.Sprintf("cluster %q", cluster)
	minor, err := config.ParseMinor(cl.Spec.KubernetesVersion)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", prefix, cl.File, err)
	}
	base, warning, err := builtinAPISet(minor)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", prefix, cl.File, err)
	}
	addons, err := cfg.AddonsFor(cluster)
	if err != nil {
		return nil, err
	}
	jobs, err := selectJobs(cluster, addons, ro.Addons)
	if err != nil {
		return nil, err
	}
	lock, err := LoadLock(cfg.FS)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prefix, err)
	}
	prepErr := r.forEach(ctx, prefix, jobs, func(ctx context.Context, j *addonJob) error {
		return r.prepare(ctx, cfg, lock, cluster, j)
	})
	if prepErr == nil && ro.Discovery != nil { // every input read and checked: now ask the cluster
		lists, err := ro.Discovery(ctx)
		if err != nil {
			return nil, &DiscoveryError{Cluster: cluster, Err: err}
		}
		base = base.withDiscovery(lists)
	}
	// Render what could be prepared anyway, so one run reports every add-on's errors.
	apis, err := r.renderSources(ctx, prefix, prepared(jobs), base)
	if err := errors.Join(prepErr, err); err != nil {
		return nil, err
	}
	var selected []*addonJob
	for _, j := range jobs {
		if j.selected {
			selected = append(selected, j)
		}
	}
	if err := r.forEach(ctx, prefix, selected, func(_ context.Context, j *addonJob) error {
		return r.finish(j, apis)
	}); err != nil {
		return nil, err
	}
	if err := check(prefix, selected, apis); err != nil {
		return nil, err
	}
	inferred, err := inferDependsOn(prefix, prepared(jobs), selected)
	if err != nil {
		return nil, err
	}
	out := &Cluster{
		Name: cluster, KubernetesVersion: cl.Spec.KubernetesVersion, Revision: cfg.Revision,
		Addons: make([]Addon, len(selected)),
	}
	if warning != "" {
		out.Warnings = []string{fmt.Sprintf("%s: %s", prefix, warning)}
	}
	for i, j := range selected {
		out.Addons[i] = j.result.deepCopy()
		if inf := inferred[j.addon.Metadata.Name]; len(inf) > 0 {
			deps := append(slices.Clone(out.Addons[i].Spec.DependsOn), inf...)
			slices.Sort(deps)
			out.Addons[i].Spec.DependsOn = slices.Compact(deps)
			out.Addons[i].InferredDependsOn = inf
		}
	}
	out.Addons = orderAddons(out.Addons)
	return out, nil
}

// RenderAll renders every cluster of the config, concurrently.
func (r *Renderer) RenderAll(ctx context.Context, cfg *config.Config, ro RenderOptions) ([]*Cluster, error) {
	names := cfg.ClusterNames()
	out := make([]*Cluster, len(names))
	errs := make([]error, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.o.Concurrency)
	for i, name := range names {
		g.Go(func() error {
			out[i], errs[i] = r.RenderCluster(gctx, cfg, name, ro)
			return nil
		})
	}
	_ = g.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// RenderAddon renders one add-on of a cluster (with the rest of the cluster's add-ons known,
// for their custom resource kinds).
func (r *Renderer) RenderAddon(ctx context.Context, cfg *config.Config, cluster, addon string) (*Addon, error) {
	c, err := r.RenderCluster(ctx, cfg, cluster, RenderOptions{Addons: []string{addon}})
	if err != nil {
		return nil, err
	}
	return &c.Addons[0], nil
}

// prepared returns the jobs whose inputs were all read.
func prepared(jobs []*addonJob) []*addonJob {
	var out []*addonJob
	for _, j := range jobs {
		if j.ready {
			out = append(out, j)
		}
	}
	return out
}

func selectJobs(cluster string, addons []*config.Addon, only []string) ([]*addonJob, error) {
	jobs := make([]*addonJob, len(addons))
	for i, a := range addons {
		jobs[i] = &addonJob{addon: a, selected: len(only) == 0 || slices.Contains(only, a.Metadata.Name)}
	}
	for _, name := range only {
		if !slices.ContainsFunc(addons, func(a *config.Addon) bool { return a.Metadata.Name == name }) {
			return nil, fmt.Errorf("cluster %q does not run add-on %q (check clusters/%s/%s)", cluster, name, cluster, config.ClusterFile)
		}
	}
	return jobs, nil
}

// forEach runs fn for every job, bounded by Options.Concurrency; the errors of all jobs are
// joined, each prefixed with the cluster and add-on.
func (r *Renderer) forEach(ctx context.Context, prefix string, jobs []*addonJob, fn func(context.Context, *addonJob) error) error {
	errs := make([]error, len(jobs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.o.Concurrency)
	for i, j := range jobs {
		g.Go(func() error {
			if err := fn(gctx, j); err != nil {
				errs[i] = fmt.Errorf("%s: add-on %q: %w", prefix, j.addon.Metadata.Name, err)
			}
			return nil
		})
	}
	_ = g.Wait()
	return errors.Join(errs...)
}

// prepare fetches the chart and reads values and overlays of one add-on.
func (r *Renderer) prepare(ctx context.Context, cfg *config.Config, lock *config.Lock, cluster string, j *addonJob) error {
	a := j.addon
	name := a.Metadata.Name
	j.dependsOn = cfg.DependsOn(cluster, name)
	_, j.maxRender = cfg.Repository.Spec.Limits.Bytes()
	j.release = a.Spec.ReleaseName
	if j.release == "" {
		j.release = name
	}
	var err error
	if j.clusterOv, err = readOverlay(cfg.FS, config.ClusterKustomizeDir(cluster, name)); err != nil {
		return err
	}
	ov, err := readOverlay(cfg.FS, config.AddonKustomizeDir(name))
	if err != nil {
		return err
	}
	if a.Spec.Chart == nil {
		if ov == nil {
			return fmt.Errorf("%s has no chart and %s does not exist (add a chart, or the manifests in a kustomization there)", a.File, config.AddonKustomizeDir(name))
		}
		j.source = ov
		j.sourceKey = hashKey("kustomize", ov.dir, ov.digest)
		j.ready = true
		return nil
	}
	j.addonOv = ov
	if j.chart, j.info, err = r.chartFor(ctx, cfg, lock, a.Spec.Chart, r.o.RequireLocked); err != nil {
		return err
	}
	_, addonVals, err := readValuesFile(cfg.FS, config.AddonValuesFile(name))
	if err != nil {
		return err
	}
	_, clusterVals, err := readValuesFile(cfg.FS, config.ClusterValuesFile(cluster, name))
	if err != nil {
		return err
	}
	j.vals = mergeValues(addonVals, clusterVals)
	j.ready = true
	return nil
}

// renderSources runs stage A (Helm, or the kustomize source of chart-less add-ons) for every
// add-on of the cluster, and returns what the cluster serves: the minor's built-in APIs plus
// every CRD the add-ons render. Charts are rendered with the CRDs of their crds/ directories
// known; a chart probing Capabilities.APIVersions is rendered again when templated CRDs add
// kinds.
func (r *Renderer) renderSources(ctx context.Context, prefix string, jobs []*addonJob, base *apiSet) (*apiSet, error) {
	var static []crdKind
	for _, j := range jobs {
		if j.chart != nil {
			static = append(static, j.chart.crdKinds...)
		}
	}
	first := base.withCRDs(static)
	if err := r.forEach(ctx, prefix, jobs, func(ctx context.Context, j *addonJob) error {
		return r.renderSource(ctx, j, first)
	}); err != nil {
		return nil, err
	}
	var all []crdKind
	for _, j := range jobs {
		for _, o := range j.sourceOut.objects {
			all = append(all, crdKindsOf(o)...)
		}
	}
	full := base.withCRDs(append(static, all...))
	if len(full.served) == len(first.served) {
		return full, nil
	}
	var again []*addonJob
	for _, j := range jobs {
		if j.chart != nil && j.chart.probesAPIs {
			again = append(again, j)
		}
	}
	if err := r.forEach(ctx, prefix, again, func(ctx context.Context, j *addonJob) error {
		return r.renderSource(ctx, j, full)
	}); err != nil {
		return nil, err
	}
	return full, nil
}

// renderSource runs stage A for one add-on, through the memo.
func (r *Renderer) renderSource(ctx context.Context, j *addonJob, apis *apiSet) error {
	if j.source != nil {
		if v, ok := r.renders.get(j.sourceKey); ok {
			j.sourceOut = v.(*helmOutput)
			return nil
		}
		objs, err := j.source.build(nil)
		if err != nil {
			return err
		}
		j.sourceOut = &helmOutput{objects: objs}
		r.renders.put(j.sourceKey, j.sourceOut)
		return nil
	}
	vs := apis.versionSet()
	valsJSON, err := json.Marshal(j.vals)
	if err != nil {
		return fmt.Errorf("values: %w", err)
	}
	key := hashKey("helm", j.chart.digest, j.release, j.addon.Spec.Namespace, string(valsJSON), fmt.Sprint(apis.minor), fmt.Sprint(vs))
	j.sourceKey = key
	if v, ok := r.renders.get(key); ok {
		j.sourceOut = v.(*helmOutput)
		return nil
	}
	out, err := helmTemplate(ctx, j.chart, j.release, j.addon.Spec.Namespace, j.vals, apis.minor, vs, j.maxRender)
	if err != nil {
		return err
	}
	j.sourceOut = out
	r.renders.put(key, out)
	return nil
}

// finish decorates the stage A output, runs the overlays and orders the result.
func (r *Renderer) finish(j *addonJob, apis *apiSet) error {
	name, ns := j.addon.Metadata.Name, j.addon.Spec.Namespace
	key := hashKey("addon", j.sourceKey, name, ns, apis.digest(), ovDigest(j.addonOv), ovDigest(j.clusterOv))
	if v, ok := r.renders.get(key); ok {
		j.result = v.(*Addon)
		return nil
	}
	src := j.sourceOut.deepCopy()
	objs := src.objects
	for _, o := range objs {
		decorate(o, ns, apis)
	}
	var err error
	for _, ov := range []*overlay{j.addonOv, j.clusterOv} {
		if ov == nil {
			continue
		}
		if objs, err = ov.build(objs); err != nil {
			return err
		}
		for _, o := range objs {
			decorate(o, ns, apis)
		}
	}
	for i := range src.hooks {
		decorate(src.hooks[i].Object, ns, apis)
	}
	sortObjects(objs)
	sortHooks(src.hooks)
	spec := j.addon.Spec
	spec.DependsOn = j.dependsOn
	res := &Addon{Name: name, Namespace: ns, Spec: spec, Objects: objs, Hooks: src.hooks}
	if j.info != nil {
		info := *j.info
		res.Chart = &info
	}
	r.renders.put(key, res)
	j.result = res
	return nil
}

// check rejects objects the cluster's minor does not serve and objects rendered twice.
func check(prefix string, jobs []*addonJob, apis *apiSet) error {
	var final []crdKind
	for _, j := range jobs {
		for _, o := range j.result.Objects {
			final = append(final, crdKindsOf(o)...)
		}
	}
	apis = apis.withCRDs(final)
	var errs []error
	owner := map[string]string{}
	for _, j := range jobs {
		name := j.addon.Metadata.Name
		objs := slices.Clone(j.result.Objects)
		for _, h := range j.result.Hooks {
			objs = append(objs, h.Object)
		}
		for _, o := range objs {
			if !apis.serves(o.GetAPIVersion(), o.GetKind()) {
				errs = append(errs, fmt.Errorf("%s: add-on %q: %s: %s %s is not served by Kubernetes 1.%d: %s",
					prefix, name, Subject(o), o.GetAPIVersion(), o.GetKind(), apis.minor, apis.notServedHint(o.GetAPIVersion(), o.GetKind())))
			}
		}
		for _, o := range j.result.Objects {
			k := objectKey(o)
			if first, dup := owner[k]; dup {
				if first == name {
					errs = append(errs, fmt.Errorf("%s: add-on %q: %s is rendered twice (remove one, e.g. from an overlay)", prefix, name, Subject(o)))
				} else {
					errs = append(errs, fmt.Errorf("%s: add-on %q: %s is also rendered by add-on %q (an object must belong to one add-on: disable it in one of them)", prefix, name, Subject(o), first))
				}
				continue
			}
			owner[k] = name
		}
	}
	return errors.Join(errs...)
}

func hashKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func ovDigest(ov *overlay) string {
	if ov == nil {
		return "-"
	}
	return ov.dir + "@" + ov.digest
}

// digest identifies the served set and scopes.
func (s *apiSet) digest() string {
	keys := make([]string, 0, len(s.namespaced))
	for k, ns := range s.namespaced {
		keys = append(keys, fmt.Sprintf("%s=%t", k, ns))
	}
	sort.Strings(keys)
	return hashKey(fmt.Sprint(s.minor), fmt.Sprint(s.versionSet()), fmt.Sprint(keys))
}

func (a *Addon) deepCopy() Addon {
	c := *a
	if a.Chart != nil {
		info := *a.Chart
		c.Chart = &info
	}
	c.Objects = make([]*unstructured.Unstructured, len(a.Objects))
	for i, o := range a.Objects {
		c.Objects[i] = o.DeepCopy()
	}
	c.Hooks = (&helmOutput{hooks: a.Hooks}).deepCopy().hooks
	return c
}
