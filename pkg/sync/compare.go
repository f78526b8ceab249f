package sync

import (
	"encoding/base64"
	"math"
	"reflect"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// UpToDate reports whether applying desired would leave live as it is: live carries desired's
// applied hash (so the render dropped no field since the last apply) and every value desired
// sets is equal in live (so nobody changed one of them). It errs towards false; a false
// only costs an apply the server may find to be a no-op.
//
// Values compare semantically where the API server normalises: numbers by value, resource
// quantities ("1000m" = "1") under resource keys, Secret stringData against data, null and
// empty values as absent. The status stanza is ignored (apply does not write it).
func UpToDate(desired, live *unstructured.Unstructured) bool {
	want := desired.GetAnnotations()[AnnotationAppliedHash]
	if want == "" || live.GetAnnotations()[AnnotationAppliedHash] != want {
		return false
	}
	d := desired.Object
	if desired.GetKind() == "Secret" && desired.GetAPIVersion() == "v1" {
		d = secretDataOnly(d)
	}
	for k, v := range d {
		if k == "status" {
			continue
		}
		if !subset(k, v, live.Object[k]) {
			return false
		}
	}
	return true
}

// secretDataOnly moves stringData into data, base64-encoded, as the API server stores it.
func secretDataOnly(obj map[string]any) map[string]any {
	sd, ok := obj["stringData"].(map[string]any)
	if !ok {
		return obj
	}
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[k] = v
	}
	delete(out, "stringData")
	data := map[string]any{}
	if d, ok := obj["data"].(map[string]any); ok {
		for k, v := range d {
			data[k] = v
		}
	}
	for k, v := range sd {
		if s, ok := v.(string); ok {
			data[k] = base64.StdEncoding.EncodeToString([]byte(s))
		}
	}
	out["data"] = data
	return out
}

// subset reports whether every value set in want is equal in got; key is want's field name.
func subset(key string, want, got any) bool {
	switch w := want.(type) {
	case nil:
		return true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return len(w) == 0 && got == nil
		}
		for k, v := range w {
			if !subset(k, v, g[k]) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok {
			return len(w) == 0 && got == nil
		}
		if len(w) != len(g) {
			return false
		}
		for i := range w {
			if !subset(key, w[i], g[i]) {
				return false
			}
		}
		return true
	case string:
		g, ok := got.(string)
		if !ok {
			return w == "" && got == nil
		}
		return w == g || (quantityKeys[key] && equalQuantity(w, g))
	case bool:
		if got == nil {
			return !w
		}
		return reflect.DeepEqual(want, got)
	case int64, float64, int, int32:
		gf, ok := toFloat(got)
		if !ok {
			wf, _ := toFloat(want)
			return wf == 0 && got == nil
		}
		wf, _ := toFloat(want)
		return wf == gf || math.Abs(wf-gf) < 1e-9*math.Max(1, math.Abs(wf))
	default:
		return reflect.DeepEqual(want, got)
	}
}

// quantityKeys are the field names whose string values are resource quantities.
var quantityKeys = map[string]bool{
	"cpu": true, "memory": true, "storage": true, "ephemeral-storage": true, "sizeLimit": true,
	"hugepages-1Gi": true, "hugepages-2Mi": true, "pods": true,
}

func equalQuantity(a, b string) bool {
	qa, err := resource.ParseQuantity(a)
	if err != nil {
		return false
	}
	qb, err := resource.ParseQuantity(b)
	if err != nil {
		return false
	}
	return qa.Cmp(qb) == 0
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}
