package render

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/pkg/config"
)

// helmOutput is what Helm rendered for one add-on, before addonsync decorates it. It is
// kept in the memo and shared: nothing may change it (finish works on a deep copy).
type helmOutput struct {
	objects []*unstructured.Unstructured
	hooks   []Hook
}

// helmTemplate renders a chart as `helm template --include-crds` does, with exact
// capabilities (ClientOnly off: in client-only mode Helm adds every group/version it knows
// to Capabilities.APIVersions, and charts probing for an API would render for an API
// server that does not exist).
//
// It takes the steps of Helm's install action in dry-run mode (action.Install.RunWithContext
// and action.Configuration.renderResources) with Helm's own functions: the release name
// check, sub-chart conditions and imports, values with the chart's schema, kubeVersion, the
// template engine. Only the last step is addonsync's: Helm splits the rendered files into
// documents, parses each for its head to tell hooks from manifests, prints them into one
// stream, and the stream was parsed again; here each document is split as Helm splits it
// (splitManifests) and parsed once, and the hook annotations are read from the parsed object
// (sortDocuments). TestSortDocumentsMatchesHelm holds that step to releaseutil.SortManifests
// and TestHelmParity the whole render to the helm CLI.
func helmTemplate(ctx context.Context, cf *chartFiles, release, namespace string, vals map[string]any, minor int, apis []string, maxSize int64) (*helmOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch, err := cf.load()
	if err != nil {
		return nil, err
	}
	fail := func(err error) error {
		return fmt.Errorf("chart %s %s: helm template: %w", ch.Name(), ch.Metadata.Version, err)
	}
	if err := chartutil.ValidateReleaseName(release); err != nil {
		return nil, fail(fmt.Errorf("release name %q: %w", release, err))
	}
	if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
		return nil, fail(err)
	}
	caps := &chartutil.Capabilities{
		KubeVersion: chartutil.KubeVersion{
			Version: fmt.Sprintf("v1.%d.0", minor),
			Major:   "1",
			Minor:   strconv.Itoa(minor),
		},
		APIVersions: chartutil.VersionSet(apis),
		HelmVersion: chartutil.DefaultCapabilities.HelmVersion,
	}
	opts := chartutil.ReleaseOptions{Name: release, Namespace: namespace, Revision: 1, IsInstall: true}
	values, err := chartutil.ToRenderValuesWithSchemaValidation(ch, vals, opts, caps, false)
	if err != nil {
		return nil, fail(err)
	}
	if ch.Metadata.KubeVersion != "" && !chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, caps.KubeVersion.String()) {
		return nil, fail(fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", ch.Metadata.KubeVersion, caps.KubeVersion.String()))
	}
	var e engine.Engine
	files, err := e.Render(ch, values)
	if err != nil {
		return nil, fail(err)
	}
	crds := ch.CRDObjects()
	// The size of the stream `helm template` prints, counted before anything is parsed.
	printed := func(source string, n int) int64 { return int64(len("---\n# Source: \n\n") + len(source) + n) }
	size := int64(0)
	for _, crd := range crds {
		size += printed(crd.Filename, len(crd.File.Data))
	}
	split := map[string][]string{}
	for name, content := range files {
		if strings.HasSuffix(name, "NOTES.txt") || strings.HasPrefix(path.Base(name), "_") || strings.TrimSpace(content) == "" {
			continue
		}
		split[name] = splitManifests(content)
		for _, d := range split[name] {
			size += printed(name, len(d))
		}
	}
	if size > maxSize {
		return nil, fmt.Errorf("chart %s %s: rendered %s, over the limit of %s per add-on (check the values for a runaway list, or raise spec.limits.maxRenderSize in %s)",
			ch.Name(), ch.Metadata.Version, config.FormatBytes(size), config.FormatBytes(maxSize), config.RepositoryFile)
	}
	out := &helmOutput{}
	for _, crd := range crds {
		objs, err := cf.crdObjects(crd.File.Data)
		if err != nil {
			return nil, fmt.Errorf("chart %s %s: %s: %w", ch.Name(), ch.Metadata.Version, crd.Filename, err)
		}
		out.objects = append(out.objects, objs...)
	}
	docs, err := sortDocuments(split)
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", ch.Name(), ch.Metadata.Version, err)
	}
	var errs []error
	for _, d := range docs {
		if d.hook == nil {
			out.objects = append(out.objects, d.objects...)
			for _, o := range d.objects {
				if o.GetName() == "" && o.GetGenerateName() == "" {
					errs = append(errs, fmt.Errorf("template %s: %s %s has no metadata.name (set one in the template)", d.path, o.GetAPIVersion(), o.GetKind()))
				}
			}
			continue
		}
		if len(d.objects) != 1 {
			errs = append(errs, fmt.Errorf("hook %s: %d objects in one hook document", d.path, len(d.objects)))
			continue
		}
		if hook, ok := hookFrom(d.hook, d.objects[0]); ok {
			out.hooks = append(out.hooks, hook)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", ch.Name(), ch.Metadata.Version, err)
	}
	return out, nil
}

// splitManifests splits a rendered template into documents exactly as Helm's
// releaseutil.SplitManifests does, without its regular expression (`(?:^|\s*\n)---\s*` on
// the trimmed text, documents trimmed, empty pieces dropped), which took a fifth of a cold
// render: a separator is "---" at the start of the text or right after a newline, with the
// white space around it, and the search for the next one starts after that white space.
func splitManifests(s string) []string {
	s = strings.TrimSpace(s)
	var docs []string
	add := func(d string) {
		if d != "" {
			docs = append(docs, strings.TrimSpace(d))
		}
	}
	start, from := 0, 0
	if strings.HasPrefix(s, "---") {
		start = skipRegexpSpace(s, 3)
		from = start
	}
	for {
		i := strings.Index(s[from:], "\n---")
		if i < 0 {
			add(s[start:])
			return docs
		}
		i += from
		// The separator's leading white space belongs to it, not to the document.
		j := i
		for j > start && isRegexpSpace(s[j-1]) {
			j--
		}
		add(s[start:j])
		start = skipRegexpSpace(s, i+4)
		from = start
	}
}

// isRegexpSpace is \s of Go's regexp: [\t\n\f\r ].
func isRegexpSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

func skipRegexpSpace(s string, i int) int {
	for i < len(s) && isRegexpSpace(s[i]) {
		i++
	}
	return i
}

// helmHook is what Helm reads from a hook document's annotations.
type helmHook struct {
	events         []string
	weight         int
	deletePolicies []string
}

// document is one rendered document, parsed.
type document struct {
	path    string
	text    string                       // as Helm split it
	objects []*unstructured.Unstructured // a v1 List expanded
	hook    *helmHook                    // nil for a manifest
}

// helmHookEvents are the events releaseutil.SortManifests knows ("test-success" is
// Helm 2's name of "test"); a document naming any other is dropped, as Helm drops it.
var helmHookEvents = map[string]string{
	"pre-install": "pre-install", "post-install": "post-install",
	"pre-delete": "pre-delete", "post-delete": "post-delete",
	"pre-upgrade": "pre-upgrade", "post-upgrade": "post-upgrade",
	"pre-rollback": "pre-rollback", "post-rollback": "post-rollback",
	"test": "test", "test-success": "test",
}

// sortDocuments parses the documents of the rendered templates (path -> documents), in
// the order of Helm's SortManifests before it sorts by kind: templates by path, documents
// in file order. A document is a hook when it has a helm.sh/hook annotation, read as Helm
// reads the head of a document (releaseutil.SimpleHead): scalars are strings, a map or a
// list where a string belongs is an error.
func sortDocuments(files map[string][]string) ([]document, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var out []document
	for _, p := range paths {
		for _, text := range files[p] {
			// Parsed as `helm template` prints it, with a newline after the trimmed
			// document: a block scalar at its end keeps its line break.
			m, err := decodeYAMLObject([]byte(text + "\n"))
			if err != nil {
				return nil, fmt.Errorf("YAML parse error on %s: %w", p, err)
			}
			annotations, err := helmHead(m)
			if err != nil {
				return nil, fmt.Errorf("YAML parse error on %s: %w", p, err)
			}
			hook, known := hookOf(annotations)
			if !known {
				continue // Helm skips a hook of unknown type ("info: skipping unknown hook")
			}
			d := document{path: p, text: text, hook: hook}
			if m != nil {
				if d.objects, err = objectsOf(m); err != nil {
					return nil, fmt.Errorf("template %s: %w", p, err)
				}
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// hookOf reads a document's hook annotations as releaseutil.SortManifests does: nil for a
// manifest (no helm.sh/hook); known is false when an event is not one Helm knows.
func hookOf(annotations map[string]string) (h *helmHook, known bool) {
	hookTypes, ok := annotations[AnnotationHook]
	if !ok {
		return nil, true
	}
	h = &helmHook{weight: atoiOrZero(annotations[AnnotationHookWeight])}
	for _, t := range strings.Split(hookTypes, ",") {
		e, ok := helmHookEvents[strings.ToLower(strings.TrimSpace(t))]
		if !ok {
			return nil, false
		}
		h.events = append(h.events, e)
	}
	if dps, ok := annotations[AnnotationHookDeletePolicy]; ok {
		for _, dp := range strings.Split(dps, ",") {
			h.deletePolicies = append(h.deletePolicies, strings.ToLower(strings.TrimSpace(dp)))
		}
	}
	return h, true
}

func atoiOrZero(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}

// helmHead returns metadata.annotations as Helm's SimpleHead reads them, or the error its
// decoding gives where apiVersion, kind, metadata, metadata.name or an annotation holds
// what cannot become its type. (SimpleHead's decoding also matches keys regardless of
// case, so "Metadata" would count for it; no object the API server accepts has such a key.)
func helmHead(m map[string]any) (map[string]string, error) {
	for _, f := range []string{"apiVersion", "kind"} {
		if _, ok := headString(m[f]); !ok {
			return nil, fmt.Errorf("%s is not a string", f)
		}
	}
	if m["metadata"] == nil {
		return nil, nil
	}
	meta, ok := m["metadata"].(map[string]any)
	if !ok {
		return nil, errors.New("metadata is not a mapping")
	}
	if _, ok := headString(meta["name"]); !ok {
		return nil, errors.New("metadata.name is not a string")
	}
	if meta["annotations"] == nil {
		return nil, nil
	}
	raw, ok := meta["annotations"].(map[string]any)
	if !ok {
		return nil, errors.New("metadata.annotations is not a mapping")
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		s, ok := headString(v)
		if !ok {
			return nil, fmt.Errorf("annotation %q is not a string", k)
		}
		out[k] = s
	}
	return out, nil
}

// headString is a scalar as sigs.k8s.io/yaml decodes it into a string field: numbers and
// booleans written out, null the empty string.
func headString(v any) (string, bool) {
	switch t := v.(type) {
	case nil:
		return "", true
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	case int64:
		return strconv.FormatInt(t, 10), true
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 32), true
	}
	return "", false
}

// mergeValues merges override into base as `helm -f base -f override` does: maps merge
// recursively, anything else (a null included) replaces.
func mergeValues(base, override map[string]any) map[string]any {
	out := make(map[string]any, len(base))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range override {
		if vm, ok := v.(map[string]any); ok {
			if bv, ok := out[k].(map[string]any); ok {
				out[k] = mergeValues(bv, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func (o *helmOutput) deepCopy() *helmOutput {
	c := &helmOutput{objects: make([]*unstructured.Unstructured, len(o.objects)), hooks: make([]Hook, len(o.hooks))}
	for i, obj := range o.objects {
		c.objects[i] = obj.DeepCopy()
	}
	for i, h := range o.hooks {
		h.Object = h.Object.DeepCopy()
		h.Events = append([]HookEvent(nil), h.Events...)
		h.DeletePolicies = append([]string(nil), h.DeletePolicies...)
		c.hooks[i] = h
	}
	return c
}
