package helmrelease

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/addonsync/addonsync/pkg/objref"
)

// ReaderOptions tune a Reader.
type ReaderOptions struct {
	// Drivers are the storage drivers to look in (default: secret and configmap).
	Drivers []Driver
	// Logger receives records that cannot be decoded (default: discard).
	Logger *slog.Logger
}

// DefaultReaderOptions looks in Secrets and ConfigMaps and logs nothing.
func DefaultReaderOptions() ReaderOptions {
	return ReaderOptions{Drivers: []Driver{DriverSecret, DriverConfigMap}}
}

// Reader finds Helm releases in a cluster. It only reads: one LIST per driver and call,
// never a write (the records are decoded by Helm's storage drivers from what was listed).
type Reader struct {
	client kubernetes.Interface
	mapper meta.RESTMapper
	o      ReaderOptions
}

// NewReader returns a Reader listing records with client and resolving the scope of the
// manifests' objects with mapper (a meta.ResettableRESTMapper is reset once on a kind it
// does not know).
func NewReader(client kubernetes.Interface, mapper meta.RESTMapper, o ReaderOptions) *Reader {
	if len(o.Drivers) == 0 {
		o.Drivers = DefaultReaderOptions().Drivers
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Reader{client: client, mapper: mapper, o: o}
}

// Key names a release.
type Key struct {
	Namespace, Name string
}

// Releases are the releases of a cluster by namespace and name.
type Releases map[Key]*Release

// Find returns the release name in namespace, or nil.
func (rs Releases) Find(name, namespace string) *Release { return rs[Key{namespace, name}] }

// Find returns the release name in namespace, or nil (and no error) when there is none:
// one LIST per driver, selecting the release's records by label.
func (r *Reader) Find(ctx context.Context, name, namespace string) (*Release, error) {
	sel := labels.Set{LabelOwner: OwnerHelm, LabelName: name}.String()
	rs, err := r.read(ctx, namespace, sel)
	if err != nil {
		return nil, err
	}
	return rs.Find(name, namespace), nil
}

// List returns every Helm release of the cluster: one LIST (label owner=helm, all
// namespaces) per driver, whatever the number of add-ons.
func (r *Reader) List(ctx context.Context) (Releases, error) {
	return r.read(ctx, metav1.NamespaceAll, labels.Set{LabelOwner: OwnerHelm}.String())
}

func (r *Reader) read(ctx context.Context, namespace, selector string) (Releases, error) {
	out := Releases{}
	for _, d := range r.o.Drivers {
		recs, err := r.listRecords(ctx, d, namespace, selector)
		if err != nil {
			return nil, err
		}
		for key, group := range groupRecords(recs) {
			if prev := out[key]; prev != nil {
				r.o.Logger.Warn("Helm release has records under two drivers; using the first",
					"release", key.Namespace+"/"+key.Name, "used", prev.Driver, "ignored", d)
				continue
			}
			rel, err := r.decode(d, group)
			if err != nil {
				return nil, err
			}
			out[key] = rel
		}
	}
	return out, nil
}

// rawRecord is a listed release record, before decoding.
type rawRecord struct {
	namespace, objName string
	release            string
	revision           int
	status             release.Status
	secret             *corev1.Secret
	configMap          *corev1.ConfigMap
}

func (r *Reader) listRecords(ctx context.Context, d Driver, namespace, selector string) ([]rawRecord, error) {
	opts := metav1.ListOptions{LabelSelector: selector}
	var recs []rawRecord
	switch d {
	case DriverSecret:
		list, err := r.client.CoreV1().Secrets(namespace).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("helm release records: list secrets (%s): %w", selector, err)
		}
		for i := range list.Items {
			s := &list.Items[i]
			recs = append(recs, r.newRecord(s.ObjectMeta, rawRecord{secret: s}))
		}
	case DriverConfigMap:
		list, err := r.client.CoreV1().ConfigMaps(namespace).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("helm release records: list configmaps (%s): %w", selector, err)
		}
		for i := range list.Items {
			c := &list.Items[i]
			recs = append(recs, r.newRecord(c.ObjectMeta, rawRecord{configMap: c}))
		}
	default:
		return nil, fmt.Errorf("helm storage driver %q: not supported; use %q or %q", d, DriverSecret, DriverConfigMap)
	}
	out := recs[:0]
	for _, rec := range recs {
		if rec.release == "" || rec.revision == 0 {
			r.o.Logger.Warn("skipping a Helm release record without name or version labels", "record", rec.namespace+"/"+rec.objName)
			continue
		}
		out = append(out, rec)
	}
	return out, nil
}

func (r *Reader) newRecord(m metav1.ObjectMeta, rec rawRecord) rawRecord {
	rec.namespace, rec.objName = m.Namespace, m.Name
	rec.release = m.Labels[LabelName]
	rec.status = release.Status(m.Labels[LabelStatus])
	rec.revision, _ = strconv.Atoi(m.Labels[LabelVersion])
	if rec.revision == 0 {
		if i := strings.LastIndex(m.Name, ".v"); i >= 0 {
			rec.revision, _ = strconv.Atoi(m.Name[i+2:])
		}
	}
	return rec
}

// groupRecords groups records by release, each group sorted by revision.
func groupRecords(recs []rawRecord) map[Key][]rawRecord {
	groups := map[Key][]rawRecord{}
	for _, rec := range recs {
		k := Key{rec.namespace, rec.release}
		groups[k] = append(groups[k], rec)
	}
	for _, g := range groups {
		sort.Slice(g, func(i, j int) bool { return g[i].revision < g[j].revision })
	}
	return groups
}

// decode decodes the latest record of a release with Helm's storage driver, served from
// the listed records (so decoding makes no request at all).
func (r *Reader) decode(d Driver, group []rawRecord) (*Release, error) {
	latest := group[len(group)-1]
	var drv driver.Driver
	if d == DriverConfigMap {
		drv = driver.NewConfigMaps(listedConfigMaps{byName: map[string]*corev1.ConfigMap{latest.objName: latest.configMap}})
	} else {
		drv = driver.NewSecrets(listedSecrets{byName: map[string]*corev1.Secret{latest.objName: latest.secret}})
	}
	rls, err := drv.Get(latest.objName)
	if err != nil {
		return nil, fmt.Errorf("%s %s/%s: decode Helm release record: %w; check it with `helm history %s -n %s`",
			d.kind(), latest.namespace, latest.objName, err, latest.release, latest.namespace)
	}
	rel, err := r.convert(rls, d)
	if err != nil {
		return nil, err
	}
	for _, rec := range group {
		rel.Records = append(rel.Records, Record{Name: rec.objName, Revision: rec.revision, Status: rec.status})
	}
	// The decoded status is the truth; the label can lag behind on records Helm 3.0 wrote.
	rel.Records[len(rel.Records)-1].Status = rel.Status
	return rel, nil
}

func (r *Reader) convert(rls *release.Release, d Driver) (*Release, error) {
	rel := &Release{Name: rls.Name, Namespace: rls.Namespace, Revision: rls.Version, Driver: d}
	if rls.Info != nil {
		rel.Status = rls.Info.Status
		rel.LastDeployed = rls.Info.LastDeployed.Time
	}
	if rls.Chart != nil && rls.Chart.Metadata != nil {
		rel.Chart, rel.ChartVersion, rel.AppVersion = rls.Chart.Metadata.Name, rls.Chart.Metadata.Version, rls.Chart.Metadata.AppVersion
	}
	objs, err := parseManifest(r.mapper, rls.Manifest, rls.Namespace)
	if err != nil {
		return nil, fmt.Errorf("helm release %s/%s rev %d: manifest: %w", rls.Namespace, rls.Name, rls.Version, err)
	}
	rel.manifest = objs
	for _, o := range objs {
		id := IDOf(o)
		rel.Objects = append(rel.Objects, id)
		if o.GetAnnotations()[annotationResourcePolicy] == "keep" {
			rel.Keep = append(rel.Keep, id)
		}
	}
	sort.Slice(rel.Objects, func(i, j int) bool { return objref.Less(rel.Objects[i], rel.Objects[j]) })
	sort.Slice(rel.Keep, func(i, j int) bool { return objref.Less(rel.Keep[i], rel.Keep[j]) })
	for _, h := range rls.Hooks {
		hook, err := convertHook(r.mapper, h, rls.Namespace)
		if err != nil {
			return nil, fmt.Errorf("helm release %s/%s rev %d: hook %s: %w", rls.Namespace, rls.Name, rls.Version, h.Path, err)
		}
		rel.Hooks = append(rel.Hooks, hook)
	}
	return rel, nil
}

func convertHook(mapper meta.RESTMapper, h *release.Hook, namespace string) (Hook, error) {
	hook := Hook{Weight: h.Weight, LastRun: string(h.LastRun.Phase)}
	if hook.LastRun == string(release.HookPhaseUnknown) {
		hook.LastRun = ""
	}
	for _, e := range h.Events {
		hook.Events = append(hook.Events, e.String())
	}
	for _, p := range h.DeletePolicies {
		hook.DeletePolicies = append(hook.DeletePolicies, p.String())
	}
	objs, err := parseManifest(mapper, h.Manifest, namespace)
	if err != nil {
		return Hook{}, err
	}
	if len(objs) > 0 {
		hook.ID = IDOf(objs[0])
	} else {
		hook.ID = ObjectID{Kind: h.Kind, Namespace: namespace, Name: h.Name}
	}
	return hook, nil
}

// listedSecrets serves Helm's Secrets driver the records a LIST returned. The driver's Get
// calls only Get; the embedded interface stays nil so no request can leave from here.
type listedSecrets struct {
	typedcorev1.SecretInterface
	byName map[string]*corev1.Secret
}

func (l listedSecrets) Get(_ context.Context, name string, _ metav1.GetOptions) (*corev1.Secret, error) {
	if s := l.byName[name]; s != nil {
		return s, nil
	}
	return nil, apierrors.NewNotFound(corev1.Resource("secrets"), name)
}

// listedConfigMaps is listedSecrets for the ConfigMaps driver.
type listedConfigMaps struct {
	typedcorev1.ConfigMapInterface
	byName map[string]*corev1.ConfigMap
}

func (l listedConfigMaps) Get(_ context.Context, name string, _ metav1.GetOptions) (*corev1.ConfigMap, error) {
	if c := l.byName[name]; c != nil {
		return c, nil
	}
	return nil, apierrors.NewNotFound(corev1.Resource("configmaps"), name)
}
