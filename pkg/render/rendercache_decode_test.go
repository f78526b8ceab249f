package render

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/addonsync/addonsync/internal/jsonvalue"
	"github.com/addonsync/addonsync/internal/testutil/workload"
)

// TestDecodeObject checks internal/jsonvalue, the render cache's JSON decoder, against
// utiljson.Unmarshal (what the rest of addonsync decodes with) on every object of the workload.
func TestDecodeObject(t *testing.T) {
	var docs []string
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
		got, err := jsonvalue.DecodeObject([]byte(doc))
		if err != nil {
			t.Errorf("%.80s: %v", doc, err)
			continue
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%.200s:\nutiljson: %#v\ndecoded:  %#v", doc, want, got)
		}
	}
	if len(docs) < 350 {
		t.Errorf("only %d objects", len(docs))
	}
}
