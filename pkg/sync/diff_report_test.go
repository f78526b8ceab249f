package sync

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addonsync/addonsync/internal/testutil/golden"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// checkGolden compares got with testdata/<name>, rewriting it under -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

// sampleDiff is a report with every kind of entry, built from compareObject as Diff does.
func sampleDiff(t *testing.T) *DiffResult {
	t.Helper()
	dep := mustObject(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system, labels: {app: coredns}}
spec:
  replicas: 2
  selector: {matchLabels: {app: coredns}}
  template:
    metadata: {labels: {app: coredns}}
    spec:
      containers:
      - name: coredns
        image: registry.k8s.io/coredns/coredns:v1.12.0
        args: [-conf, /etc/coredns/Corefile]
`)
	liveDep := dep.DeepCopy()
	_ = setNested(liveDep, int64(1), "spec", "replicas")
	change, _ := compareObjectT(t, dep, liveDep, dep)
	secret := mustObject(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: kube-system}\ndata: {token: bmV3}\n")
	liveSecret := mustObject(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: kube-system}\ndata: {token: b2xk}\n")
	secretChange, _ := compareObjectT(t, secret, liveSecret, secret)
	cm := mustObject(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: coredns-extra, namespace: kube-system}\ndata:\n  README.md: |\n    ```\n    zone example.org\n    ```\n")
	create, _ := compareObjectT(t, cm, nil, nil)
	crd := mustObject(t, "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: coredns, namespace: kube-system}\nspec: {endpoints: [{port: metrics}]}\n")
	crdCreate, _ := compareObjectT(t, crd, nil, nil)
	crdCreate.Note = "CRD not installed yet"
	r := &DiffResult{
		Cluster: "prod",
		Addons: []AddonDiff{
			{
				Name: "coredns", Namespace: "kube-system",
				Create:    []ObjectDiff{create, crdCreate},
				Change:    []ObjectDiff{change, secretChange},
				Unchanged: 3,
				Prune:     []ObjectDiff{{Subject: "ServiceAccount/kube-system/old", APIVersion: "v1", Kind: "ServiceAccount", Namespace: "kube-system", Name: "old"}},
			},
			{Name: "metallb", Namespace: "metallb-system", Create: []ObjectDiff{}, Change: []ObjectDiff{}, Unchanged: 12, Prune: []ObjectDiff{}},
		},
	}
	r.summarize()
	return r
}

func compareObjectT(t *testing.T, rendered, live, merged *unstructured.Unstructured) (ObjectDiff, diffAction) {
	t.Helper()
	od, action, err := compareObject(rendered, live, merged, 3)
	if err != nil {
		t.Fatal(err)
	}
	return od, action
}

func setNested(u *unstructured.Unstructured, v any, fields ...string) error {
	return unstructured.SetNestedField(u.Object, v, fields...)
}

func TestWriteDiff(t *testing.T) {
	r := sampleDiff(t)
	write := func(t *testing.T, o DiffReportOptions) string {
		t.Helper()
		var buf bytes.Buffer
		if err := WriteDiff(&buf, r, o); err != nil {
			t.Fatalf("WriteDiff: %v", err)
		}
		return buf.String()
	}
	t.Run("summarises the counts", func(t *testing.T) {
		want := DiffSummary{Create: 2, Change: 2, Unchanged: 15, Prune: 1}
		if diff := cmp.Diff(want, r.Summary); diff != "" {
			t.Errorf("Summary (-want +got):\n%s", diff)
		}
		if got := r.Summary.String(); got != "2 to create, 2 to change, 15 unchanged, 1 to prune" {
			t.Errorf("Summary.String() = %q", got)
		}
		if !r.HasChanges() {
			t.Errorf("HasChanges() = false, want true")
		}
	})
	t.Run("text matches the golden file", func(t *testing.T) {
		checkGolden(t, "diff/report.txt", write(t, DiffReportOptions{Format: DiffFormatText}))
	})
	t.Run("markdown matches the golden file", func(t *testing.T) {
		checkGolden(t, "diff/report.md", write(t, DiffReportOptions{Format: DiffFormatMarkdown}))
	})
	t.Run("text is coloured on request only", func(t *testing.T) {
		plain := write(t, DiffReportOptions{Format: DiffFormatText})
		if strings.Contains(plain, "\x1b[") {
			t.Errorf("uncoloured text has escape codes")
		}
		coloured := write(t, DiffReportOptions{Format: DiffFormatText, Color: true})
		for _, want := range []string{ansiGreen + "+  replicas: 2" + ansiReset, ansiRed + "-  replicas: 1" + ansiReset, ansiCyan + "@@ "} {
			if !strings.Contains(coloured, want) {
				t.Errorf("coloured text lacks %q", want)
			}
		}
	})
	t.Run("json has the documented schema", func(t *testing.T) {
		var got map[string]any
		if err := json.Unmarshal([]byte(write(t, DiffReportOptions{Format: DiffFormatJSON})), &got); err != nil {
			t.Fatal(err)
		}
		if got["cluster"] != "prod" {
			t.Errorf("cluster = %v", got["cluster"])
		}
		addon := got["addons"].([]any)[0].(map[string]any)
		for _, k := range []string{"name", "create", "change", "unchanged", "prune"} {
			if _, ok := addon[k]; !ok {
				t.Errorf("addons[0] lacks %q: %v", k, addon)
			}
		}
		change := addon["change"].([]any)[0].(map[string]any)
		if change["subject"] != "Deployment/kube-system/coredns" || !strings.Contains(change["diff"].(string), "+  replicas: 2") {
			t.Errorf("change[0] = %v", change)
		}
		summary := got["summary"].(map[string]any)
		if summary["create"] != 2.0 || summary["change"] != 2.0 || summary["unchanged"] != 15.0 || summary["prune"] != 1.0 {
			t.Errorf("summary = %v", summary)
		}
		empty := got["addons"].([]any)[1].(map[string]any)
		if _, ok := empty["create"].([]any); !ok {
			t.Errorf("an add-on without creates has create = %v, want []", empty["create"])
		}
	})
	t.Run("secret values appear in no format", func(t *testing.T) {
		for _, f := range []DiffFormat{DiffFormatText, DiffFormatJSON, DiffFormatMarkdown} {
			out := write(t, DiffReportOptions{Format: f})
			for _, v := range []string{"bmV3", "b2xk"} {
				if strings.Contains(out, v) {
					t.Errorf("%s output shows the secret value %q", f, v)
				}
			}
			if !strings.Contains(out, "token: (masked, changed)") {
				t.Errorf("%s output does not say the token changed", f)
			}
		}
	})
	t.Run("no changes reads so", func(t *testing.T) {
		none := &DiffResult{Cluster: "dev", Addons: []AddonDiff{{Name: "coredns", Unchanged: 4}}}
		none.summarize()
		if none.HasChanges() {
			t.Errorf("HasChanges() = true for an unchanged cluster")
		}
		var buf bytes.Buffer
		if err := WriteDiff(&buf, none, DiffReportOptions{Format: DiffFormatMarkdown}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "No changes.") || strings.Contains(buf.String(), "<details>") {
			t.Errorf("markdown for no changes:\n%s", buf.String())
		}
	})
}

func TestParseDiffFormat(t *testing.T) {
	for _, s := range []string{"text", "json", "markdown"} {
		if f, err := ParseDiffFormat(s); err != nil || f.String() != s {
			t.Errorf("ParseDiffFormat(%q) = %q, %v", s, f, err)
		}
	}
	if _, err := ParseDiffFormat("yaml"); err == nil {
		t.Errorf("ParseDiffFormat(yaml) = nil error, want one")
	}
}

func TestWriteDiffShowsThePlan(t *testing.T) {
	r := &DiffResult{Cluster: "prod", Addons: []AddonDiff{{
		Name: "ingress", Namespace: "ingress", Hooks: "upgrade",
		Adopt:        []ObjectDiff{{Subject: "ConfigMap/ingress/cm", Note: `exists, not in the add-on's inventory (held by field manager "kubectl")`, Diff: "@@ -1 +1 @@\n-a\n+b\n"}},
		PruneRefused: []ObjectDiff{{Subject: "ConfigMap/ingress/old"}},
		Keep:         []ObjectDiff{{Subject: "Namespace/legacy", Note: "Namespaces are not pruned unless prune.allowNamespaces is set"}},
		Error:        `add-on "ingress": prune of 1 of 2 objects refused: more than 30 %`,
		Create:       []ObjectDiff{}, Change: []ObjectDiff{}, Prune: []ObjectDiff{},
	}}}
	r.summarize()
	var buf bytes.Buffer
	if err := WriteDiff(&buf, r, DefaultDiffReportOptions()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"addon ingress (namespace ingress): 0 to create, 1 to adopt, 0 to change, 0 unchanged, 0 to prune, 1 to keep, hooks in 1 add-on(s)\n",
		"  ! upgrade hooks run\n",
		"  ! add-on \"ingress\": prune of 1 of 2 objects refused",
		"  ~ ConfigMap/ingress/cm (adopt: exists, not in the add-on's inventory (held by field manager \"kubectl\"))\n      @@ -1 +1 @@\n      -a\n      +b\n",
		"    ConfigMap/ingress/old (prune refused)\n",
		"  = Namespace/legacy (keep: Namespaces are not pruned",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, buf.String())
		}
	}
	if !r.HasChanges() {
		t.Errorf("HasChanges = false with an adoption, a keep and hooks to run")
	}
}
