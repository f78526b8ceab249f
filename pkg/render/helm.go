package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/pkg/config"
)

// helmOutput is what Helm rendered for one add-on, before addonsync decorates it.
type helmOutput struct {
	objects []*unstructured.Unstructured
	hooks   []Hook
}

// helmTemplate renders a chart as `helm template --include-crds` does, with exact
// capabilities. It uses the install action in dry-run mode against an in-memory release
// store and a fake client, so nothing leaves the process. ClientOnly is off on purpose: in
// client-only mode Helm adds every group/version it knows to Capabilities.APIVersions, and
// charts probing for an API would render for an API server that does not exist.
func helmTemplate(ctx context.Context, cf *chartFiles, release, namespace string, vals map[string]any, minor int, apis []string, maxSize int64) (*helmOutput, error) {
	ch, err := cf.load()
	if err != nil {
		return nil, err
	}
	cfg := &action.Configuration{
		KubeClient: &kubefake.PrintingKubeClient{Out: io.Discard},
		Releases:   storage.Init(driver.NewMemory()),
		Capabilities: &chartutil.Capabilities{
			KubeVersion: chartutil.KubeVersion{
				Version: fmt.Sprintf("v1.%d.0", minor),
				Major:   "1",
				Minor:   strconv.Itoa(minor),
			},
			APIVersions: chartutil.VersionSet(apis),
			HelmVersion: chartutil.DefaultCapabilities.HelmVersion,
		},
		Log: func(string, ...any) {},
	}
	inst := action.NewInstall(cfg)
	inst.DryRun = true
	inst.Replace = true
	inst.IncludeCRDs = true
	inst.DisableHooks = false
	inst.ReleaseName = release
	inst.Namespace = namespace
	inst.DisableOpenAPIValidation = true
	rel, err := inst.RunWithContext(ctx, ch, vals)
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: helm template: %w", ch.Name(), ch.Metadata.Version, err)
	}
	size := int64(len(rel.Manifest))
	for _, h := range rel.Hooks {
		size += int64(len(h.Manifest))
	}
	if size > maxSize {
		return nil, fmt.Errorf("chart %s %s: rendered %s, over the limit of %s per add-on (check the values for a runaway list, or raise spec.limits.maxRenderSize in %s)",
			ch.Name(), ch.Metadata.Version, config.FormatBytes(size), config.FormatBytes(maxSize), config.RepositoryFile)
	}
	objs, err := parseManifests(rel.Manifest)
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: rendered manifest: %w", ch.Name(), ch.Metadata.Version, err)
	}
	if err := checkNamed(rel.Manifest, objs); err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", ch.Name(), ch.Metadata.Version, err)
	}
	out := &helmOutput{objects: objs}
	for _, h := range rel.Hooks {
		hook, ok, err := hookFrom(h)
		if err != nil {
			return nil, fmt.Errorf("chart %s %s: %w", ch.Name(), ch.Metadata.Version, err)
		}
		if ok {
			out.hooks = append(out.hooks, hook)
		}
	}
	return out, nil
}

// checkNamed refuses objects without metadata.name (or generateName), naming the template
// that rendered them from Helm's "# Source:" comments.
func checkNamed(manifest string, objs []*unstructured.Unstructured) error {
	var errs []error
	for _, o := range objs {
		if o.GetName() != "" || o.GetGenerateName() != "" {
			continue
		}
		errs = append(errs, fmt.Errorf("template %s: %s %s has no metadata.name (set one in the template)",
			sourceOf(manifest, o.GetKind()), o.GetAPIVersion(), o.GetKind()))
	}
	return errors.Join(errs...)
}

// sourceOf finds the template of the first document of kind without a name.
func sourceOf(manifest, kind string) string {
	for _, doc := range strings.Split(manifest, "\n---") {
		doc = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(doc), "---"))
		src, _, ok := strings.Cut(strings.TrimPrefix(doc, "# Source: "), "\n")
		if ok && strings.Contains(doc, "kind: "+kind) && !strings.Contains(doc, "\n  name:") {
			return src
		}
	}
	return "(unknown)"
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
