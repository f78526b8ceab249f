package render

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/addonsync/addonsync/internal/testutil/workload"
)

// TestDecodeObject checks the render cache's JSON decoder against utiljson.Unmarshal (what
// the rest of addonsync decodes with) on tricky documents and every object of the workload.
func TestDecodeObject(t *testing.T) {
	docs := []string{
		`{}`, `{"a":[]}`, `{"a":{},"b":null,"c":true,"d":false}`,
		`{"n":0,"neg":-12,"big":9223372036854775807,"huge":92233720368547758070,"f":1.5,"e":1e3,"E":-2.5E-3,"z":0.0}`,
		`{"s":"plain","esc":"q\"b\\s\/n\nr\rt\tb\bf\f","u":"\u003cdiv\u003e \u0026 \u2028 \u00e9 é","pair":"\ud83d\ude00","lone":"\ud83d x"}`,
		`{"nested":{"list":[1,"two",{"three":[3.0]}],"empty":""}, "sp" : [ 1 , 2 ] }`,
		`{"dup":1,"dup":2}`,
	}
	w := workload.New(workload.Options{})
	_, cfg := w.Serve(t)
	c, err := newTestRenderer(t).RenderCluster(context.Background(), cfg, workload.Cluster, RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range c.Addons {
		for _, o := range append(a.Objects, slicesConcat(nil, a.Hooks)...) {
			data, err := json.Marshal(o.Object)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, string(data))
		}
	}
	for _, doc := range docs {
		want := map[string]any{}
		if err := utiljson.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatalf("%.80s: utiljson: %v", doc, err)
		}
		got, err := decodeObject([]byte(doc))
		if err != nil {
			t.Errorf("%.80s: %v", doc, err)
			continue
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%.200s:\nutiljson: %#v\ndecoded:  %#v", doc, want, got)
		}
	}
	for _, bad := range []string{``, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1]`, `{"a":01}`, `{"a":1.}`, `{"a":tru}`, `{"a":"\x"}`, `{"a":"` + "\x01" + `"}`, `{"a":1} x`, `{"a":"\u12"}`, `{"a":-}`} {
		if _, err := decodeObject([]byte(bad)); err == nil {
			t.Errorf("%q: decoded, want an error", bad)
		}
	}
}
