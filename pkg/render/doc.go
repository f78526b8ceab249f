// Package render turns a config repo into the exact Kubernetes objects addonsync applies to a
// cluster: Helm charts rendered with the Helm v3 SDK for the cluster's Kubernetes minor,
// values layered per add-on and per cluster, then kustomize overlays.
//
// # Pipeline
//
// For each add-on of a cluster (concurrently, bounded by Options.Concurrency):
//
//  1. The chart is fetched from an HTTP chart repository, an OCI registry or a directory in
//     the config repo, through a content-addressed cache (Options.CacheDir), and its digest
//     is checked against addonsync.lock.
//  2. Values: chart defaults < addons/<a>/values.yaml < clusters/<c>/values/<a>.yaml, merged as
//     `helm template -f a -f b` merges them (a null deletes a key).
//  3. Helm renders with Capabilities.KubeVersion = v1.NN.0 and Capabilities.APIVersions = what
//     that minor serves plus the custom resource kinds of the cluster's own add-ons (and, with
//     RenderOptions.ClusterAPIs, what the live cluster's discovery lists). What a minor serves
//     is derived from k8s.io/api (the version in go.mod): the generated APILifecycleIntroduced
//     and APILifecycleRemoved methods of every registered type, alpha APIs and betas
//     introduced since 1.24 left out as a stock API server leaves them out. A minor newer
//     than k8s.io/api knows renders with the newest knowledge and one warning
//     (Cluster.Warnings); a minor older than 1.25 is an error. Unlike `helm template`, the API version set is exact: it is not the union with
//     every group/version the Helm client knows, so a chart that probes for an API renders as
//     it would against a real cluster of that minor. The steps of Helm's install action run
//     with Helm's own functions (sub-chart conditions and imports, the values schema,
//     kubeVersion, the template engine); the rendered documents are split as Helm splits
//     them and parsed once, and hooks told from manifests by the annotations of the parsed
//     object (helm.go; held to releaseutil and the helm CLI by TestSortDocumentsMatchesHelm
//     and TestHelmParity). The files of crds/ directories are parsed once per chart.
//  4. Objects get their namespace (namespaced kinds only), then the overlays
//     addons/<a>/kustomize and clusters/<c>/kustomize/<a> run with kustomize. Labels are left
//     as the chart renders them (app.kubernetes.io/managed-by included): which objects
//     addonsync owns is the field manager's and the ApplySet's business, not a label's.
//
// Then, for the whole cluster: an object whose API the minor does not serve is an error, as is
// the same object rendered twice. Any error means no output for the cluster.
//
// # Overlays
//
// An overlay directory is a kustomization that lists rendered.yaml in its resources; render
// writes the objects rendered so far to rendered.yaml in an in-memory copy of the directory
// and runs kustomize there. The directories its kustomizations list in resources, components
// or bases are copied along (anywhere in the config repo); remote references are not
// supported (render never uses the network for overlays). For an add-on without a chart, addons/<a>/kustomize is the source
// itself (it does not list rendered.yaml). Hooks are not passed through overlays.
//
// # Namespaces
//
// A namespaced object without a namespace gets the add-on's namespace. Scope comes from a
// the typed clients of client-go (namespaced exactly when the client takes a namespace) and from the CRDs rendered for the cluster; a kind in neither is
// treated as namespaced, as Helm does for resources it cannot map (such an object is also
// rejected as not served, unless its CRD is installed by an add-on).
//
// # Chart cache and lock
//
// Options.CacheDir holds archives by digest (blobs/sha256/<hex>.tgz) and, per (source,
// name, version), the digest last downloaded (refs/). A Renderer also keeps decompressed
// charts and render results in memory, keyed by everything a render depends on (chart
// digest, values, minor, served APIs, overlay files), so rendering an unchanged cluster
// again costs a few percent of the first render. A chart version addonsync.lock pins is
// taken from the cache by its pinned digest, or downloaded and refused when its digest
// differs; one the lock does not pin is rendered with its digest in ChartInfo.Digest, or
// refused with Options.RequireLocked. Mirrors from addonsync.yaml replace the upstream URL
// for downloads only: the lock and ChartInfo.Source keep the upstream URL.
//
// # Render cache
//
// The rendered objects of every add-on are also stored on disk, under
// <CacheDir>/renders/, content-addressed by a key of everything that determines them:
// addonsync's version (Options.Version, by default from the binary's build info), the
// cluster, its Kubernetes minor and the API set computed for it, and for every add-on of the
// cluster its name, release name, namespace, chart digest, merged values and overlay files.
// A process with unchanged inputs (the CronJob's next run) reads the add-ons from there:
// no chart download or decompression, no Helm, no kustomize. An entry carries the SHA-256 of
// its payload and its schema version, is written through a temporary file and a rename, and
// is ignored (rendered again and overwritten) when anything about it does not match. Entries
// hold rendered Secrets: they are created 0600 in 0700 directories. The cache keeps at most
// Options.RenderCacheMaxBytes (1 GiB by default), dropping the least recently used entries;
// deleting <CacheDir>/renders at any time is safe.
//
// # Example
//
//	r := render.New(render.DefaultOptions())
//	c, err := r.RenderCluster(ctx, cfg, "prod", render.RenderOptions{})
//	if err != nil {
//		return err
//	}
//	return render.WriteYAML(os.Stdout, c)
package render
