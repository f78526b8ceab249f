package render

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	yamlv2 "go.yaml.in/yaml/v2"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/internal/testutil/workload"
)

// The shortcuts of a cold render (yamldoc.go, splitManifests, sortDocuments) are held here
// to what they replace: sigs.k8s.io/yaml's YAML-to-JSON round trip and Helm's
// releaseutil.SplitManifests and SortManifests, on every document the six-add-on workload
// renders and on YAML's and Helm's corner cases.

// yamlCorners are documents whose decoding differs between YAML and JSON, or between the
// fast path and the round trip, if anything is converted wrongly.
var yamlCorners = []string{
	"a: 1\nb: -7\nc: 9223372036854775807\nd: 9223372036854775808\ne: 18446744073709551616\n",
	"f: 1.0\ng: 1.5\nh: 1e3\ni: 1e21\nj: -0.0\nk: 0.1\nl: 123456789012345678901234567890\n",
	"inf: .inf\n", "nan: .nan\n", "neg: -.inf\n",
	"t: true\nf: false\ny: yes\nn: no\non: on\noff: off\n",
	"n1: null\nn2: ~\nn3:\n",
	"1: a\n2: b\ntrue: c\n", "1.5: a\n", "~: a\n", "[1, 2]: a\n", "{a: b}: c\n",
	"ts: 2001-12-14t21:59:43.10-05:00\nd: 2002-12-14\n",
	"bin: !!binary aGVsbG8=\n", "bad: !!binary /w==\n",
	"s: !!str 123\ni: !!int \"42\"\nf: !!float 3\n",
	"anchor: &x {a: 1, b: [1, 2]}\nref: *x\nmerge:\n  <<: *x\n  c: 3\n",
	"lit: |\n  line\n  two\nfold: >\n  one\n  two\nkeep: |+\n  x\n\nstrip: |-\n  y\n",
	"octal: 0o17\nold: 017\nhex: 0x1F\nsep: 1_000\n",
	"- a\n- b\n", "just a string\n", "42\n", "", "# only a comment\n", "---\n", "null\n",
	"a: [1, {b: [2, {c: 3}]}]\n", "e: \"\\u00e9\\t\\n\"\nq: 'it''s'\n",
	"a: b: c\n", "a:\n\t- tab\n", "[unclosed\n",
	// Not here: two keys that become one ("1: a" and "\"1\": b"); the round trip keeps
	// either, as Go's map order falls, and the fast path leaves the choice to it.
}

// decodeRoundTripObject is the reference for decodeYAMLObject: YAML to JSON text, JSON
// text into a map.
func decodeRoundTripObject(doc []byte) (map[string]any, error) {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	err = utiljson.Unmarshal(js, &m)
	return m, err
}

func TestDecodeYAMLMatchesRoundTrip(t *testing.T) {
	var rendered []string
	for _, files := range workloadFiles(t) {
		for _, content := range files {
			rendered = append(rendered, releaseutilDocs(content)...)
		}
	}
	if len(rendered) < 350 {
		t.Fatalf("only %d documents", len(rendered))
	}
	// What charts render takes the fast path: the round trip is the exception.
	for i, doc := range rendered {
		var raw any
		if err := yamlv2.Unmarshal([]byte(doc), &raw); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		if _, ok := jsonValue(raw); !ok {
			t.Errorf("document %d %.200q needed the round trip", i, doc)
		}
	}
	docs := append(slices.Clone(yamlCorners), rendered...)
	for i, doc := range docs {
		want, wantErr := decodeRoundTrip([]byte(doc))
		got, err := decodeYAMLDocument([]byte(doc))
		if (err != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("document %d %.200q:\ngot  %#v, %v\nwant %#v, %v", i, doc, got, err, want, wantErr)
		}
		wantObj, wantErr := decodeRoundTripObject([]byte(doc))
		gotObj, err := decodeYAMLObject([]byte(doc))
		if (err != nil) != (wantErr != nil) || !reflect.DeepEqual(gotObj, wantObj) {
			t.Errorf("object of document %d %.200q:\ngot  %#v, %v\nwant %#v, %v", i, doc, gotObj, err, wantObj, wantErr)
		}
	}
}

// splitCorners are rendered templates where Helm's separator expression can surprise.
var splitCorners = []string{
	"", "   \n\t ", "---", "---\n", "a", "a\n---\nb", "---\na\n---\nb\n---\n",
	"a\n---\n---\nb", "a\n---\n\n---\nb", "a  \n \n---  \n  b", "a\n---b\n---\tc",
	"a\n  ---\nb", "a\n--- # comment\nb", "a\n----\nb", "a\r\n---\r\nb", "\n---\n---\n",
	"a---b\n---", "x: |\n  ---\n  y\n---\nz", "a\n---\f\vb", " ---\na", "a\n---",
}

func TestSplitManifestsMatchesHelm(t *testing.T) {
	inputs := splitCorners
	for _, files := range workloadFiles(t) {
		for _, content := range files {
			inputs = append(inputs, content)
		}
	}
	for _, in := range inputs {
		if got, want := splitManifests(in), releaseutilDocs(in); !reflect.DeepEqual(got, want) {
			t.Errorf("splitManifests(%.200q)\ngot  %q\nwant %q", in, got, want)
		}
	}
}

func FuzzSplitManifests(f *testing.F) {
	for _, s := range splitCorners {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if got, want := splitManifests(in), releaseutilDocs(in); !reflect.DeepEqual(got, want) {
			t.Errorf("splitManifests(%q)\ngot  %q\nwant %q", in, got, want)
		}
	})
}

// releaseutilDocs is releaseutil.SplitManifests in document order (it returns a map).
func releaseutilDocs(s string) []string {
	m := releaseutil.SplitManifests(s)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, m[k])
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// hookCorners are templates whose hook annotations Helm reads in its own way.
var hookCorners = map[string]string{
	"a/templates/hooks.yaml": `apiVersion: batch/v1
kind: Job
metadata:
  name: upper
  annotations:
    helm.sh/hook: " Pre-Install , POST-UPGRADE"
    helm.sh/hook-weight: "-5"
    helm.sh/hook-delete-policy: "Hook-Succeeded, before-hook-creation"
---
apiVersion: batch/v1
kind: Job
metadata:
  name: numeric-weight
  annotations:
    helm.sh/hook: post-install
    helm.sh/hook-weight: 3
---
apiVersion: batch/v1
kind: Job
metadata:
  name: bad-weight
  annotations:
    helm.sh/hook: pre-delete
    helm.sh/hook-weight: heavy
---
apiVersion: v1
kind: Pod
metadata:
  name: unknown
  annotations:
    helm.sh/hook: pre-install,on-a-whim
---
apiVersion: v1
kind: Pod
metadata:
  name: test
  annotations:
    helm.sh/hook: test-success
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: empty-hook
  annotations:
    helm.sh/hook: ""
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: null-hook
  annotations:
    helm.sh/hook: ~
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: other-annotations
  annotations:
    example.com/a: "1"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: 42
  annotations: {}
`,
	"a/templates/z-list.yaml":   "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: in-list\n",
	"a/templates/comments.yaml": "# nothing rendered\n---\n\n---\n# Source: fake\n",
}

// badHeads are documents Helm refuses while it reads their head.
var badHeads = []string{
	"apiVersion: v1\nkind: [ConfigMap]\nmetadata:\n  name: a\n",
	"apiVersion: {v: 1}\nkind: ConfigMap\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: just-a-name\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [a]\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations: [a]\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    helm.sh/hook: [pre-install]\n",
	"- a\n- b\n",
	"a: b: c\n",
}

func TestSortDocumentsMatchesHelm(t *testing.T) {
	cases := workloadFiles(t)
	cases["hook corners"] = hookCorners
	for name, files := range cases {
		t.Run(name, func(t *testing.T) { compareWithSortManifests(t, files) })
	}
	for i, doc := range badHeads {
		files := map[string]string{"a/templates/bad.yaml": doc}
		_, _, helmErr := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
		_, err := sortDocuments(map[string][]string{"a/templates/bad.yaml": splitManifests(doc)})
		if helmErr == nil || err == nil || !strings.Contains(err.Error(), "YAML parse error on a/templates/bad.yaml") {
			t.Errorf("bad head %d %q: helm %v, addonsync %v", i, doc, helmErr, err)
		}
	}
}

// compareWithSortManifests checks that sortDocuments finds the manifests and hooks Helm
// finds, each with Helm's events, weight and delete policies, and that each object is the
// one the old path (Helm's printed stream, parsed by the round trip) gave.
func compareWithSortManifests(t *testing.T, files map[string]string) {
	t.Helper()
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		t.Fatal(err)
	}
	split := map[string][]string{}
	for p, content := range files {
		if !strings.HasPrefix(p[strings.LastIndex(p, "/")+1:], "_") && strings.TrimSpace(content) != "" {
			split[p] = splitManifests(content)
		}
	}
	docs, err := sortDocuments(split)
	if err != nil {
		t.Fatal(err)
	}
	var wantGeneric, gotGeneric, wantHooks, gotHooks []string
	for _, m := range manifests {
		wantGeneric = append(wantGeneric, m.Name+"\n"+m.Content)
	}
	for _, h := range hooks {
		var policies []string
		for _, p := range h.DeletePolicies {
			policies = append(policies, string(p))
		}
		wantHooks = append(wantHooks, fmt.Sprintf("%s\n%s\n%v %d %v", h.Path, h.Manifest, h.Events, h.Weight, policies))
	}
	for _, d := range docs {
		if d.hook == nil {
			gotGeneric = append(gotGeneric, d.path+"\n"+d.text)
		} else {
			gotHooks = append(gotHooks, fmt.Sprintf("%s\n%s\n%v %d %v", d.path, d.text, d.hook.events, d.hook.weight, d.hook.deletePolicies))
		}
		want, err := parseRoundTrip("---\n# Source: " + d.path + "\n" + d.text + "\n")
		if err != nil {
			t.Fatalf("%s: %v", d.path, err)
		}
		var got []map[string]any
		for _, o := range d.objects {
			got = append(got, o.Object)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: objects of %.100q differ from the round trip", d.path, d.text)
		}
	}
	sort.Strings(wantGeneric)
	sort.Strings(gotGeneric)
	sort.Strings(wantHooks)
	sort.Strings(gotHooks)
	if !reflect.DeepEqual(gotGeneric, wantGeneric) {
		t.Errorf("manifests: got %d, Helm %d\ngot  %.2000q\nwant %.2000q", len(gotGeneric), len(wantGeneric), gotGeneric, wantGeneric)
	}
	if !reflect.DeepEqual(gotHooks, wantHooks) {
		t.Errorf("hooks:\ngot  %q\nwant %q", gotHooks, wantHooks)
	}
	if len(wantHooks)+len(wantGeneric) == 0 {
		t.Error("nothing rendered")
	}
}

// parseRoundTrip is the old parse of a printed stream: util/yaml's reader, the YAML-to-JSON
// round trip, v1 Lists expanded.
func parseRoundTrip(stream string) ([]map[string]any, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(stream)))
	var out []map[string]any
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		m, err := decodeRoundTripObject(doc)
		if err != nil {
			return nil, err
		}
		if m == nil {
			continue
		}
		if items, ok := m["items"].([]any); ok && strings.HasSuffix(m["kind"].(string), "List") {
			for _, it := range items {
				out = append(out, it.(map[string]any))
			}
			continue
		}
		out = append(out, m)
	}
}

// workloadFiles renders the templates of the six-add-on workload's charts with Helm's
// engine: add-on name -> template path -> rendered text.
func workloadFiles(t *testing.T) map[string]map[string]string {
	t.Helper()
	w := workload.New(workload.Options{})
	charts := map[string]chartrepo.Chart{}
	for _, c := range w.Charts {
		charts[c.Name] = c
	}
	out := map[string]map[string]string{}
	for _, a := range w.Addons {
		c, ok := charts[a.Chart]
		if !ok {
			continue
		}
		ch, err := loader.LoadArchive(bytes.NewReader(chartrepo.BuildChart(t, c)))
		if err != nil {
			t.Fatal(err)
		}
		vals, err := chartutil.ReadValues([]byte(a.Values))
		if err != nil {
			t.Fatal(err)
		}
		if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
			t.Fatal(err)
		}
		caps := chartutil.DefaultCapabilities.Copy()
		rv, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: a.Name, Namespace: a.Namespace, IsInstall: true}, caps)
		if err != nil {
			t.Fatal(err)
		}
		files, err := engine.Render(ch, rv)
		if err != nil {
			t.Fatal(err)
		}
		for k := range files {
			if strings.HasSuffix(k, "NOTES.txt") {
				delete(files, k)
			}
		}
		for _, crd := range ch.CRDObjects() {
			files[crd.Filename] = string(crd.File.Data)
		}
		out[a.Name] = files
	}
	if len(out) < 5 {
		t.Fatalf("workload has %d charts", len(out))
	}
	return out
}
