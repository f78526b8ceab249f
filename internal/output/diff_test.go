package output

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/addonsync/addonsync/internal/testutil/golden"
	"github.com/addonsync/addonsync/pkg/secretmask"
	"github.com/addonsync/addonsync/pkg/sync"
)

// checkGolden compares got with testdata/<name>, rewriting it under -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

// sampleDiff is a report with every kind of entry, as sync.Manager.Diff returns it: objects
// to create carry their YAML, objects to change a unified diff, Secret values masked.
func sampleDiff() *sync.DiffResult {
	create := sync.ObjectDiff{
		Subject: "ConfigMap/kube-system/coredns-extra", APIVersion: "v1", Kind: "ConfigMap", Namespace: "kube-system", Name: "coredns-extra",
		YAML: "apiVersion: v1\ndata:\n  README.md: |\n    ```\n    zone example.org\n    ```\nkind: ConfigMap\nmetadata:\n  name: coredns-extra\n  namespace: kube-system\n",
	}
	crdCreate := sync.ObjectDiff{
		Subject: "ServiceMonitor/kube-system/coredns", APIVersion: "monitoring.coreos.com/v1", Kind: "ServiceMonitor", Namespace: "kube-system", Name: "coredns",
		YAML: "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: coredns\n  namespace: kube-system\nspec:\n  endpoints:\n  - port: metrics\n",
		Note: "CRD not installed yet",
	}
	change := sync.ObjectDiff{
		Subject: "Deployment/kube-system/coredns", APIVersion: "apps/v1", Kind: "Deployment", Namespace: "kube-system", Name: "coredns",
		Diff: "@@ -6,7 +6,7 @@\n   name: coredns\n   namespace: kube-system\n spec:\n-  replicas: 1\n+  replicas: 2\n   selector:\n     matchLabels:\n       app: coredns\n",
	}
	secretChange := sync.ObjectDiff{
		Subject: "Secret/kube-system/creds", APIVersion: "v1", Kind: "Secret", Namespace: "kube-system", Name: "creds",
		Diff: "@@ -1,6 +1,6 @@\n apiVersion: v1\n data:\n-  token: " + secretmask.Masked + "\n+  token: " + secretmask.Changed + "\n kind: Secret\n metadata:\n   name: creds\n",
	}
	return &sync.DiffResult{
		Cluster:  "prod",
		Revision: "0123abc",
		Addons: []sync.AddonDiff{
			{
				Name: "coredns", Namespace: "kube-system",
				Create:    []sync.ObjectDiff{create, crdCreate},
				Adopt:     []sync.ObjectDiff{},
				Change:    []sync.ObjectDiff{change, secretChange},
				Unchanged: 3,
				Prune:     []sync.ObjectDiff{{Subject: "ServiceAccount/kube-system/old", APIVersion: "v1", Kind: "ServiceAccount", Namespace: "kube-system", Name: "old"}},
			},
			{Name: "metallb", Namespace: "metallb-system", Create: []sync.ObjectDiff{}, Adopt: []sync.ObjectDiff{}, Change: []sync.ObjectDiff{}, Unchanged: 12, Prune: []sync.ObjectDiff{}},
		},
		Summary: sync.DiffSummary{Create: 2, Change: 2, Unchanged: 15, Prune: 1},
	}
}

func writeDiff(t *testing.T, r *sync.DiffResult, o DiffOptions) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteDiff(&buf, r, o); err != nil {
		t.Fatalf("WriteDiff: %v", err)
	}
	return buf.String()
}

func TestWriteDiff(t *testing.T) {
	r := sampleDiff()
	t.Run("text matches the golden file", func(t *testing.T) {
		checkGolden(t, "diff/report.txt", writeDiff(t, r, DiffOptions{Format: Text}))
	})
	t.Run("coloured text matches the golden file", func(t *testing.T) {
		checkGolden(t, "diff/report.color.txt", writeDiff(t, r, DiffOptions{Format: Text, Color: true}))
	})
	t.Run("markdown matches the golden file", func(t *testing.T) {
		checkGolden(t, "diff/report.md", writeDiff(t, r, DiffOptions{Format: Markdown}))
	})
	t.Run("json matches the golden file", func(t *testing.T) {
		checkGolden(t, "diff/report.json", writeDiff(t, r, DiffOptions{Format: JSON}))
	})
	t.Run("text is coloured on request only", func(t *testing.T) {
		if strings.Contains(writeDiff(t, r, DefaultDiffOptions()), "\x1b[") {
			t.Errorf("uncoloured text has escape codes")
		}
		coloured := writeDiff(t, r, DiffOptions{Format: Text, Color: true})
		for _, want := range []string{ansiGreen + "+  replicas: 2" + ansiReset, ansiRed + "-  replicas: 1" + ansiReset, ansiCyan + "@@ "} {
			if !strings.Contains(coloured, want) {
				t.Errorf("coloured text lacks %q", want)
			}
		}
	})
	t.Run("json has the documented schema", func(t *testing.T) {
		checkSchema(t, writeDiff(t, r, DiffOptions{Format: JSON}), json.Unmarshal)
	})
	t.Run("yaml is the json document", func(t *testing.T) {
		checkSchema(t, writeDiff(t, r, DiffOptions{Format: YAML}), func(b []byte, v any) error { return yaml.Unmarshal(b, v) })
	})
	t.Run("every format says the token changed", func(t *testing.T) {
		for _, f := range DiffFormats() {
			if out := writeDiff(t, r, DiffOptions{Format: f}); !strings.Contains(out, "token: "+secretmask.Changed) {
				t.Errorf("%s output does not say the token changed:\n%s", f, out)
			}
		}
	})
	t.Run("no changes reads so", func(t *testing.T) {
		none := &sync.DiffResult{Cluster: "dev", Addons: []sync.AddonDiff{{Name: "coredns", Unchanged: 4}}, Summary: sync.DiffSummary{Unchanged: 4}}
		out := writeDiff(t, none, DiffOptions{Format: Markdown})
		if !strings.Contains(out, "No changes.") || strings.Contains(out, "<details>") {
			t.Errorf("markdown for no changes:\n%s", out)
		}
	})
	t.Run("refuses a format that is not a diff format", func(t *testing.T) {
		var buf bytes.Buffer
		err := WriteDiff(&buf, r, DiffOptions{Format: Table})
		if err == nil || !strings.Contains(err.Error(), `output format "table": unknown, use text, json, yaml or markdown`) {
			t.Errorf("WriteDiff(table) = %v", err)
		}
	})
}

// checkSchema decodes a structured diff report and checks the fields scripts read.
func checkSchema(t *testing.T, out string, unmarshal func([]byte, any) error) {
	t.Helper()
	var got struct {
		Cluster string `json:"cluster"`
		Addons  []struct {
			Name      string           `json:"name"`
			Create    []map[string]any `json:"create"`
			Change    []map[string]any `json:"change"`
			Unchanged *int             `json:"unchanged"`
			Prune     []map[string]any `json:"prune"`
		} `json:"addons"`
		Summary map[string]int `json:"summary"`
	}
	if err := unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not the DiffResult: %v\n%s", err, out)
	}
	if got.Cluster != "prod" || len(got.Addons) != 2 {
		t.Fatalf("cluster %q, %d add-ons; want prod, 2", got.Cluster, len(got.Addons))
	}
	a := got.Addons[0]
	if a.Name != "coredns" || a.Unchanged == nil || *a.Unchanged != 3 || len(a.Create) != 2 || len(a.Prune) != 1 {
		t.Errorf("addons[0] = %+v", a)
	}
	if a.Change[0]["subject"] != "Deployment/kube-system/coredns" || !strings.Contains(a.Change[0]["diff"].(string), "+  replicas: 2") {
		t.Errorf("change[0] = %v", a.Change[0])
	}
	if s := got.Summary; s["create"] != 2 || s["change"] != 2 || s["unchanged"] != 15 || s["prune"] != 1 {
		t.Errorf("summary = %v", s)
	}
	if got.Addons[1].Create == nil {
		t.Errorf("an add-on without creates has create = null, want []")
	}
}

func TestWriteDiffShowsThePlan(t *testing.T) {
	r := &sync.DiffResult{Cluster: "prod", Addons: []sync.AddonDiff{{
		Name: "ingress", Namespace: "ingress", Hooks: "upgrade",
		Adopt:        []sync.ObjectDiff{{Subject: "ConfigMap/ingress/cm", Note: `exists, not in the add-on's inventory (held by field manager "kubectl")`, Diff: "@@ -1 +1 @@\n-a\n+b\n"}},
		PruneRefused: []sync.ObjectDiff{{Subject: "ConfigMap/ingress/old"}},
		Keep:         []sync.ObjectDiff{{Subject: "Namespace/legacy", Note: "Namespaces are not pruned unless prune.allowNamespaces is set"}},
		Error:        `add-on "ingress": prune of 1 of 2 objects refused: more than 30 %`,
		Create:       []sync.ObjectDiff{}, Change: []sync.ObjectDiff{}, Prune: []sync.ObjectDiff{},
	}}, Summary: sync.DiffSummary{Adopt: 1, Keep: 1, Hooks: 1}}
	out := writeDiff(t, r, DefaultDiffOptions())
	for _, want := range []string{
		"addon ingress (namespace ingress): 0 to create, 1 to adopt, 0 to change, 0 unchanged, 0 to prune, 1 to keep, hooks in 1 add-on(s)\n",
		"  ! upgrade hooks run\n",
		"  ! add-on \"ingress\": prune of 1 of 2 objects refused",
		"  ~ ConfigMap/ingress/cm (adopt: exists, not in the add-on's inventory (held by field manager \"kubectl\"))\n      @@ -1 +1 @@\n      -a\n      +b\n",
		"    ConfigMap/ingress/old (prune refused)\n",
		"  = Namespace/legacy (keep: Namespaces are not pruned",
		"cluster prod: 0 to create, 1 to adopt, 0 to change, 0 unchanged, 0 to prune, 1 to keep, hooks in 1 add-on(s)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	md := writeDiff(t, r, DiffOptions{Format: Markdown})
	for _, want := range []string{"- adopt `ConfigMap/ingress/cm` (exists", "- keep `Namespace/legacy`", "- upgrade hooks run\n", "- **add-on \"ingress\": prune of 1 of 2"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestWriteDiffShowsTheHelmAdoption(t *testing.T) {
	r := &sync.DiffResult{Cluster: "prod", Addons: []sync.AddonDiff{{
		Name: "ingress-nginx", Namespace: "ingress-nginx",
		HelmRelease: "Helm release ingress-nginx rev 7, chart 4.14.5: to adopt", AdoptedAsIs: 1,
		Adopt: []sync.ObjectDiff{
			{Subject: "ServiceAccount/ingress-nginx/ingress-nginx", Note: "adopted from Helm release ingress-nginx"},
			{Subject: "ConfigMap/ingress-nginx/controller", Note: "adopted from Helm release ingress-nginx", Diff: "@@ -1 +1 @@\n-a: 1\n+a: 2\n"},
		},
		HelmLeftovers: []sync.ObjectDiff{{Subject: "ConfigMap/ingress-nginx/old", Note: "left by Helm release ingress-nginx, kept: pass --prune-helm-leftovers to delete it"}},
		Create:        []sync.ObjectDiff{}, Change: []sync.ObjectDiff{}, Prune: []sync.ObjectDiff{},
	}}, Summary: sync.DiffSummary{Adopt: 2}}
	out := writeDiff(t, r, DefaultDiffOptions())
	for _, want := range []string{
		"  ! Helm release ingress-nginx rev 7, chart 4.14.5: to adopt (1 as they are, 1 with changes)\n",
		"  ~ ConfigMap/ingress-nginx/controller (adopt: adopted from Helm release ingress-nginx)\n      @@ -1 +1 @@\n      -a: 1\n      +a: 2\n",
		"  = ConfigMap/ingress-nginx/old (left by Helm release ingress-nginx, kept: pass --prune-helm-leftovers to delete it)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	md := writeDiff(t, r, DiffOptions{Format: Markdown})
	for _, want := range []string{
		"- Helm release ingress-nginx rev 7, chart 4.14.5: to adopt (1 as they are, 1 with changes)\n",
		"- keep `ConfigMap/ingress-nginx/old` (left by Helm release ingress-nginx, kept",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
