package sync

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUnifiedDiff(t *testing.T) {
	lines := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "line" + string(rune('a'+i))
		}
		return out
	}
	join := func(l []string) string { return strings.Join(l, "\n") + "\n" }
	base := lines(12)

	t.Run("equal text has no diff", func(t *testing.T) {
		if got := unifiedDiff(join(base), join(base), 3); got != "" {
			t.Errorf("unifiedDiff(equal) = %q, want empty", got)
		}
	})
	t.Run("one changed line has three lines of context", func(t *testing.T) {
		after := append([]string(nil), base...)
		after[5] = "changed"
		want := "@@ -3,7 +3,7 @@\n linec\n lined\n linee\n-linef\n+changed\n lineg\n lineh\n linei\n"
		if diff := cmp.Diff(want, unifiedDiff(join(base), join(after), 3)); diff != "" {
			t.Errorf("unifiedDiff (-want +got):\n%s", diff)
		}
	})
	t.Run("distant changes make separate hunks", func(t *testing.T) {
		after := append([]string(nil), base...)
		after[0] = "first"
		after[11] = "last"
		want := "@@ -1,4 +1,4 @@\n-linea\n+first\n lineb\n linec\n lined\n@@ -9,4 +9,4 @@\n linei\n linej\n linek\n-linel\n+last\n"
		if diff := cmp.Diff(want, unifiedDiff(join(base), join(after), 3)); diff != "" {
			t.Errorf("unifiedDiff (-want +got):\n%s", diff)
		}
	})
	t.Run("insertion at the end names the lines around it", func(t *testing.T) {
		before := join(base[:2])
		after := join(append(append([]string(nil), base[:2]...), "new"))
		want := "@@ -1,2 +1,3 @@\n linea\n lineb\n+new\n"
		if diff := cmp.Diff(want, unifiedDiff(before, after, 3)); diff != "" {
			t.Errorf("unifiedDiff (-want +got):\n%s", diff)
		}
	})
	t.Run("everything added from nothing", func(t *testing.T) {
		want := "@@ -0,0 +1,2 @@\n+linea\n+lineb\n"
		if diff := cmp.Diff(want, unifiedDiff("", join(base[:2]), 3)); diff != "" {
			t.Errorf("unifiedDiff (-want +got):\n%s", diff)
		}
	})
}

// BenchmarkUnifiedDiffLargeCRD diffs the YAML of a 1 MB CRD in which one field changed.
func BenchmarkUnifiedDiffLargeCRD(b *testing.B) {
	crd := bigCRD("example.org", "widgets", "Widget", 1<<20)
	before, err := diffYAML(crd.Object)
	if err != nil {
		b.Fatal(err)
	}
	changed := crd.DeepCopy()
	props := changed.Object["spec"].(map[string]any)["versions"].([]any)[0].(map[string]any)["schema"].(map[string]any)["openAPIV3Schema"].(map[string]any)["properties"].(map[string]any)["spec"].(map[string]any)["properties"].(map[string]any)
	props["field00042"].(map[string]any)["description"] = "changed"
	after, err := diffYAML(changed.Object)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		d := unifiedDiff(before, after, 3)
		// The long description is folded over 7 lines; the new one takes one.
		if !strings.Contains(d, "\n+                description: changed\n") || strings.Count(d, "\n+") != 1 || strings.Count(d, "\n-") != 7 {
			b.Fatalf("diff is not just field00042's description:\n%.3000s", d)
		}
	}
}
