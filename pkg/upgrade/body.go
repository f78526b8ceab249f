package upgrade

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/addonsync/addonsync/pkg/render"
	"github.com/addonsync/addonsync/pkg/secretmask"
)

// MaxBodyLength is GitHub's limit on a pull request body, in characters.
const MaxBodyLength = 65536

// ClusterDiff is how one cluster's render of an add-on changes with a bump.
type ClusterDiff struct {
	// Cluster name.
	Cluster string
	// KubernetesVersion is the cluster's minor.
	KubernetesVersion string
	// Added, Changed and Removed are object subjects "Kind/namespace/name", sorted.
	Added, Changed, Removed []string
	// CRDs are the CustomResourceDefinitions among Added, Changed and Removed.
	CRDs []string
	// APIChanges are objects whose apiVersion changed ("Kind/ns/name: old -> new").
	APIChanges []string
	// Diff is the unified diff of every changed object, Secret data masked.
	Diff string
	// Err is a render failure of the new version (e.g. an API the minor no longer serves).
	Err string
}

type objKey struct{ group, kind, namespace, name string }

func keyOf(o *unstructured.Unstructured) objKey {
	gvk := o.GroupVersionKind()
	return objKey{gvk.Group, gvk.Kind, o.GetNamespace(), o.GetName()}
}

func (k objKey) subject() string {
	if k.namespace == "" {
		return k.kind + "/" + k.name
	}
	return k.kind + "/" + k.namespace + "/" + k.name
}

// DiffAddon compares two renders of one add-on for a cluster. Hooks are compared as objects.
func DiffAddon(cluster, minor string, old, cur *render.Addon) ClusterDiff {
	d := ClusterDiff{Cluster: cluster, KubernetesVersion: minor}
	oldObjs, newObjs := objectsOf(old), objectsOf(cur)
	keys := map[objKey]bool{}
	for k := range oldObjs {
		keys[k] = true
	}
	for k := range newObjs {
		keys[k] = true
	}
	sorted := make([]objKey, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].subject()+sorted[i].group < sorted[j].subject()+sorted[j].group })
	var diff strings.Builder
	for _, k := range sorted {
		o, n := oldObjs[k], newObjs[k]
		oy, ny := maskedYAML(k, o, n)
		switch {
		case o == nil:
			d.Added = append(d.Added, k.subject())
		case n == nil:
			d.Removed = append(d.Removed, k.subject())
		case reflect.DeepEqual(o.Object, n.Object):
			continue
		default:
			d.Changed = append(d.Changed, k.subject())
			if o.GetAPIVersion() != n.GetAPIVersion() {
				d.APIChanges = append(d.APIChanges, fmt.Sprintf("%s: %s -> %s", k.subject(), o.GetAPIVersion(), n.GetAPIVersion()))
			}
		}
		if k.kind == "CustomResourceDefinition" {
			d.CRDs = append(d.CRDs, k.subject())
		}
		diff.WriteString(unifiedDiff(k.subject(), oy, ny))
	}
	d.Diff = diff.String()
	return d
}

func objectsOf(a *render.Addon) map[objKey]*unstructured.Unstructured {
	out := map[objKey]*unstructured.Unstructured{}
	if a == nil {
		return out
	}
	for _, o := range a.Objects {
		out[keyOf(o)] = o
	}
	for _, h := range a.Hooks {
		out[keyOf(h.Object)] = h.Object
	}
	return out
}

// maskedYAML renders the old and new side of one object as YAML with Secret values masked
// (secretmask.MaskPair: the new side says which keys changed, so a change shows in the diff).
// A nil side renders as "".
func maskedYAML(k objKey, o, n *unstructured.Unstructured) (string, string) {
	var before, after map[string]any
	if o != nil {
		before = o.DeepCopy().Object
	}
	if n != nil {
		after = n.DeepCopy().Object
	}
	secretmask.MaskPair(before, after)
	return yamlOf(k, before), yamlOf(k, after)
}

func yamlOf(k objKey, obj map[string]any) string {
	if obj == nil {
		return ""
	}
	data, err := yaml.Marshal(obj)
	if err != nil {
		return fmt.Sprintf("# %s: cannot encode: %v\n", k.subject(), err)
	}
	return string(data)
}

func unifiedDiff(subject, a, b string) string {
	from, to := "a/"+subject, "b/"+subject
	if a == "" {
		from = "/dev/null"
	}
	if b == "" {
		to = "/dev/null"
	}
	s, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: splitLines(a), B: splitLines(b), FromFile: from, ToFile: to, Context: 3,
	})
	if err != nil {
		return fmt.Sprintf("# %s: diff failed: %v\n", subject, err)
	}
	return s
}

// Title is the pull request title of a bump.
func Title(addon, from, to string) string { return fmt.Sprintf("%s: %s -> %s", addon, from, to) }

// Body builds the pull request body: summary per cluster, changelog, release branches and the
// rendered diff per cluster in <details> blocks. It is never longer than limit characters:
// diffs are cut per cluster, at a line end, with a note.
func Body(b Bump, diffs []ClusterDiff, limit int) string {
	var head strings.Builder
	fmt.Fprintf(&head, "Bumps add-on `%s` (chart `%s` from `%s`) from **%s** to **%s**.\n\n", b.Addon, b.Chart, b.Source, b.From, b.To)
	if b.Target.KubeVersion != "" {
		fmt.Fprintf(&head, "The new chart requires Kubernetes `%s`.\n\n", b.Target.KubeVersion)
	}
	head.WriteString(SummaryTable(diffs))
	if len(b.Branches) > 0 {
		head.WriteString("### Release branches\n\n")
		for _, f := range b.Branches {
			if f.Compatible {
				fmt.Fprintf(&head, "- `%s`: backported by `addonsync backport` once this is merged\n", f.Branch)
			} else {
				fmt.Fprintf(&head, "- `%s`: not backported, the chart's kubeVersion `%s` excludes Kubernetes %s\n", f.Branch, b.Target.KubeVersion, f.KubernetesVersion)
			}
		}
		head.WriteString("\n")
	}
	if c := strings.TrimSpace(b.Target.Changes); c != "" {
		fmt.Fprintf(&head, "### Changelog\n\n```yaml\n%s\n```\n\n", c)
	}
	// The trailer in the body survives a squash merge whose message is the body, so the
	// backport of the merged upgrade finds it.
	footer := fmt.Sprintf("\n<sub>Opened by addonsync. Edits to this branch by a person stop addonsync from updating it.</sub>\n\n%s: %s %s -> %s\n", TrailerKey, b.Addon, b.From, b.To)
	return head.String() + RenderedChanges(diffs, limit-head.Len()-len(footer)) + footer
}

// SummaryTable is the "### Summary" section: one row per cluster with the objects added,
// changed and removed, and notes (render failures, CRD and apiVersion changes).
func SummaryTable(diffs []ClusterDiff) string {
	var s strings.Builder
	s.WriteString("### Summary\n\n| cluster | Kubernetes | added | changed | removed | notes |\n|---|---|---|---|---|---|\n")
	for _, d := range diffs {
		fmt.Fprintf(&s, "| %s | %s | %d | %d | %d | %s |\n", d.Cluster, d.KubernetesVersion, len(d.Added), len(d.Changed), len(d.Removed), notes(d))
	}
	s.WriteString("\n")
	return s.String()
}

// RenderedChanges is the "### Rendered changes" section: the rendered diff per cluster in
// <details> blocks, cut per cluster at line ends to stay within budget characters.
func RenderedChanges(diffs []ClusterDiff, budget int) string {
	const title = "### Rendered changes\n\n"
	sections := make([]string, len(diffs))
	for i, d := range diffs {
		sections[i] = clusterSection(d)
	}
	fitSections(sections, diffs, budget-len(title))
	return title + strings.Join(sections, "")
}

func notes(d ClusterDiff) string {
	var n []string
	if d.Err != "" {
		n = append(n, "⚠️ render failed")
	}
	if len(d.CRDs) > 0 {
		n = append(n, fmt.Sprintf("⚠️ %d CRD change(s)", len(d.CRDs)))
	}
	if len(d.APIChanges) > 0 {
		n = append(n, fmt.Sprintf("⚠️ %d apiVersion change(s)", len(d.APIChanges)))
	}
	return strings.Join(n, ", ")
}

func clusterSection(d ClusterDiff) string {
	var s strings.Builder
	fmt.Fprintf(&s, "#### %s (Kubernetes %s)\n\n", d.Cluster, d.KubernetesVersion)
	if d.Err != "" {
		fmt.Fprintf(&s, "> [!WARNING]\n> Render of the new version failed: %s\n\n", strings.ReplaceAll(d.Err, "\n", " "))
	}
	for _, l := range []struct {
		name  string
		items []string
	}{{"CRDs changed", d.CRDs}, {"apiVersion changed", d.APIChanges}, {"Added", d.Added}, {"Removed", d.Removed}} {
		if len(l.items) > 0 {
			fmt.Fprintf(&s, "%s: `%s`\n\n", l.name, strings.Join(l.items, "`, `"))
		}
	}
	if d.Diff == "" {
		if d.Err == "" {
			s.WriteString("No changes to rendered objects.\n\n")
		}
		return s.String()
	}
	fmt.Fprintf(&s, "<details><summary>Diff for %s</summary>\n\n```diff\n%s```\n\n</details>\n\n", d.Cluster, d.Diff)
	return s.String()
}

// fitSections cuts the diffs of sections until their total fits budget: every section gets an
// equal share, and the share a short section leaves is given to the others.
func fitSections(sections []string, diffs []ClusterDiff, budget int) {
	total := 0
	for _, s := range sections {
		total += len(s)
	}
	if total <= budget {
		return
	}
	order := make([]int, len(sections))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return len(sections[order[a]]) < len(sections[order[b]]) })
	left := budget
	for n, i := range order {
		share := left / (len(order) - n)
		if len(sections[i]) > share {
			d := diffs[i]
			d.Diff = cutLines(d.Diff, share-(len(sections[i])-len(d.Diff))-200)
			sections[i] = clusterSection(d)
		}
		left -= len(sections[i])
	}
}

// cutLines returns whole lines of s totalling at most n bytes, and a note of what was left out.
func cutLines(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := 0
	if n > 0 {
		if i := strings.LastIndexByte(s[:n], '\n'); i >= 0 {
			cut = i + 1
		}
	}
	rest := strings.Count(s[cut:], "\n")
	return s[:cut] + fmt.Sprintf("... diff cut here: %d more lines exceed GitHub's body limit; run `addonsync render` on the branch to see all of it\n", rest)
}

// splitLines splits s into lines that keep their "\n"; "" has no lines.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if last := lines[len(lines)-1]; last == "" {
		lines = lines[:len(lines)-1]
	} else {
		lines[len(lines)-1] = last + "\n"
	}
	return lines
}
