package render

import (
	"errors"
	"fmt"
	"slices"
	"sort"
)

// crdProviders maps "group/Kind" of every custom resource kind to the add-on whose render
// holds its CustomResourceDefinition.
func crdProviders(jobs []*addonJob) map[string]string {
	out := map[string]string{}
	for _, j := range jobs {
		objs := j.sourceOut.objects
		if j.result != nil {
			objs = j.result.Objects
		}
		for _, o := range objs {
			for _, k := range crdKindsOf(o) {
				if _, taken := out[groupOf(k.groupVersion)+"/"+k.kind]; !taken {
					out[groupOf(k.groupVersion)+"/"+k.kind] = j.addon.Metadata.Name
				}
			}
		}
	}
	return out
}

// inferDependsOn returns, per selected add-on, the add-ons it must sync after because they
// render the CRDs of kinds it uses. An add-on that dependsOn (directly or not) an add-on
// using its CRDs' kinds contradicts that order: an error naming both and the kind.
func inferDependsOn(prefix string, all, selected []*addonJob) (map[string][]string, error) {
	providers := crdProviders(all)
	explicit := map[string][]string{}
	for _, j := range all {
		explicit[j.addon.Metadata.Name] = j.dependsOn
	}
	inferred := map[string][]string{}
	var errs []error
	for _, j := range selected {
		name := j.addon.Metadata.Name
		objs := slices.Clone(j.result.Objects)
		for _, h := range j.result.Hooks {
			objs = append(objs, h.Object)
		}
		seen := map[string]bool{}
		for _, o := range objs {
			gk := groupOf(o.GetAPIVersion()) + "/" + o.GetKind()
			p, ok := providers[gk]
			if !ok || p == name || seen[p] {
				continue
			}
			seen[p] = true
			if dependsOn(explicit, p, name) {
				errs = append(errs, fmt.Errorf("%s: add-on %q: %s uses kind %s, whose CustomResourceDefinition add-on %q renders, so it must sync after %q; "+
					"but %q depends on %q: remove that dependsOn", prefix, name, Subject(o), gk, p, p, p, name))
				continue
			}
			if !slices.Contains(j.dependsOn, p) {
				inferred[name] = append(inferred[name], p)
			}
		}
		sort.Strings(inferred[name])
	}
	return inferred, errors.Join(errs...)
}

// dependsOn reports whether from depends on to, directly or through other add-ons.
func dependsOn(deps map[string][]string, from, to string) bool {
	seen := map[string]bool{}
	stack := []string{from}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, d := range deps[n] {
			if d == to {
				return true
			}
			if !seen[d] {
				seen[d] = true
				stack = append(stack, d)
			}
		}
	}
	return false
}

// orderAddons orders add-ons so each comes after what it depends on among them, keeping
// the given order otherwise (it is already the dependsOn order, ties by name).
func orderAddons(addons []Addon) []Addon {
	placed := map[string]bool{}
	in := map[string]bool{}
	for _, a := range addons {
		in[a.Name] = true
	}
	out := make([]Addon, 0, len(addons))
	rest := slices.Clone(addons)
	for len(rest) > 0 {
		i := slices.IndexFunc(rest, func(a Addon) bool {
			return !slices.ContainsFunc(a.Spec.DependsOn, func(d string) bool { return in[d] && !placed[d] })
		})
		if i < 0 { // a cycle: inferDependsOn refuses those, keep the order as it is
			return append(out, rest...)
		}
		placed[rest[i].Name] = true
		out = append(out, rest[i])
		rest = slices.Delete(rest, i, i+1)
	}
	return out
}
