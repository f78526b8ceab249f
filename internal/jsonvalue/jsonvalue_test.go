package jsonvalue

import (
	"reflect"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// TestDecodeObject holds DecodeObject to utiljson.Unmarshal (what the API machinery decodes
// with) on tricky documents, and checks that malformed ones are errors. pkg/render's
// TestDecodeObject and pkg/sync's ListSelectedMatchesDynamic compare it on every object of
// the six-add-on workload and on the API server's list responses.
func TestDecodeObject(t *testing.T) {
	docs := []string{
		`{}`, `{"a":[]}`, `{"a":{},"b":null,"c":true,"d":false}`,
		`{"n":0,"neg":-12,"big":9223372036854775807,"huge":92233720368547758070,"f":1.5,"e":1e3,"E":-2.5E-3,"z":0.0}`,
		`{"s":"plain","esc":"q\"b\\s\/n\nr\rt\tb\bf\f","u":"\u003cdiv\u003e \u0026 \u2028 \u00e9 é","pair":"\ud83d\ude00","lone":"\ud83d x"}`,
		`{"nested":{"list":[1,"two",{"three":[3.0]}],"empty":""}, "sp" : [ 1 , 2 ] }`,
		`{"dup":1,"dup":2}`,
		`{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"42"},"items":[{"metadata":{"name":"a","managedFields":[{"fieldsV1":{"f:data":{".":{},"f:k":{}}}}]},"data":{"k":"v"}}]}`,
	}
	for _, doc := range docs {
		want := map[string]any{}
		if err := utiljson.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatalf("%.80s: utiljson: %v", doc, err)
		}
		got, err := DecodeObject([]byte(doc))
		if err != nil {
			t.Errorf("%.80s: %v", doc, err)
			continue
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%.200s:\nutiljson: %#v\ndecoded:  %#v", doc, want, got)
		}
	}
	for _, bad := range []string{``, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1]`, `{"a":01}`, `{"a":1.}`, `{"a":tru}`, `{"a":"\x"}`, `{"a":"` + "\x01" + `"}`, `{"a":1} x`, `{"a":"\u12"}`, `{"a":-}`} {
		if _, err := DecodeObject([]byte(bad)); err == nil {
			t.Errorf("%q: decoded, want an error", bad)
		}
	}
}
