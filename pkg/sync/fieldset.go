package sync

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ownsDesired reports whether manager's Apply entry in live's managedFields covers every
// field desired sets, and otherwise the first field it does not cover (".spec.replicas").
//
// The API server keeps that entry exact: a field someone else removes, or changes (an
// Update, or an Apply with force), leaves it. So a live object whose applied hash is the
// desired one and whose entry still covers the desired fields holds every value addonsync
// set, including false, 0, "", [] and {}. Field paths follow fieldsV1: "f:<name>" for
// fields, "k:<keys>" for elements of associative lists, "v:<value>" for sets, "i:<index>";
// a list, map or struct the entry holds without children is atomic and owned whole.
func ownsDesired(desired, live *unstructured.Unstructured, manager string) (string, bool) {
	set := managedSet(live.GetManagedFields(), manager)
	if set == nil {
		return "managedFields entry of " + strconv.Quote(manager), false
	}
	for _, k := range sortedKeys(desired.Object) {
		v := desired.Object[k]
		switch k {
		case "apiVersion", "kind", "status":
			continue
		case "metadata":
			md, _ := v.(map[string]any)
			md = withoutKeys(md, "name", "namespace", "creationTimestamp", "generateName")
			if len(md) == 0 {
				continue
			}
			node, ok := set["f:metadata"].(map[string]any)
			if !ok {
				return ".metadata", false
			}
			if p, ok := coversMap(md, node, ".metadata"); !ok {
				return p, false
			}
			continue
		}
		if p, ok := coversValue(v, set, "f:"+k, "."+k); !ok {
			return p, false
		}
	}
	return "", true
}

// managedSet decodes manager's Apply entry; nil when there is none.
func managedSet(mfs []metav1.ManagedFieldsEntry, manager string) map[string]any {
	for _, mf := range mfs {
		if mf.Manager != manager || mf.Operation != metav1.ManagedFieldsOperationApply || mf.FieldsV1 == nil {
			continue
		}
		var set map[string]any
		if err := json.Unmarshal(mf.FieldsV1.GetRawBytes(), &set); err != nil {
			return nil
		}
		return set
	}
	return nil
}

// coversValue checks the field key of parent against the desired value v.
func coversValue(v any, parent map[string]any, key, path string) (string, bool) {
	if v == nil {
		return "", true // null is no value: nothing to own
	}
	node, ok := parent[key].(map[string]any)
	if !ok {
		return path, false
	}
	switch w := v.(type) {
	case map[string]any:
		return coversMap(w, node, path)
	case []any:
		return coversList(w, node, path)
	}
	return "", true
}

// coversMap checks a map or struct: one the entry holds without children is atomic (a
// label selector, a roleRef) and owned whole.
func coversMap(want, node map[string]any, path string) (string, bool) {
	if len(withoutKeys(node, ".")) == 0 {
		return "", true
	}
	for _, k := range sortedKeys(want) {
		if p, ok := coversValue(want[k], node, "f:"+k, path+"."+k); !ok {
			return p, false
		}
	}
	return "", true
}

// coversList checks a list: atomic (no children) lists are owned whole; otherwise every
// desired element needs its own entry.
func coversList(want []any, node map[string]any, path string) (string, bool) {
	if len(withoutKeys(node, ".")) == 0 {
		return "", true
	}
	for i, e := range want {
		p := fmt.Sprintf("%s[%d]", path, i)
		child, ok := listElement(e, i, node)
		if !ok {
			return p, false
		}
		switch w := e.(type) {
		case map[string]any:
			if q, ok := coversMap(w, child, p); !ok {
				return q, false
			}
		case []any:
			if q, ok := coversList(w, child, p); !ok {
				return q, false
			}
		}
	}
	return "", true
}

// listElement finds the entry of element e (at index i) among a list's children. A key
// field the element leaves out matches any value: the server defaults it (a port's protocol).
func listElement(e any, i int, node map[string]any) (map[string]any, bool) {
	for k, c := range node {
		child, _ := c.(map[string]any)
		switch {
		case strings.HasPrefix(k, "k:"):
			em, ok := e.(map[string]any)
			var keys map[string]any
			if !ok || json.Unmarshal([]byte(k[2:]), &keys) != nil {
				continue
			}
			if keyMatches(keys, em) {
				return child, true
			}
		case strings.HasPrefix(k, "v:"):
			var val any
			if json.Unmarshal([]byte(k[2:]), &val) == nil && sameScalar(val, e) {
				return child, true
			}
		case strings.HasPrefix(k, "i:"):
			if n, err := strconv.Atoi(k[2:]); err == nil && n == i {
				return child, true
			}
		}
	}
	return nil, false
}

func keyMatches(keys, elem map[string]any) bool {
	present := 0
	for k, kv := range keys {
		ev, ok := elem[k]
		if !ok {
			continue
		}
		present++
		if !sameScalar(kv, ev) {
			return false
		}
	}
	return present > 0
}

// sameScalar compares a value decoded from JSON with a rendered one (numbers by value).
func sameScalar(a, b any) bool {
	af, aok := toFloat(a)
	bf, bok := toFloat(b)
	if aok && bok {
		return af == bf
	}
	return reflect.DeepEqual(a, b)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// withoutKeys returns m without the keys (a copy only when one is present).
func withoutKeys(m map[string]any, drop ...string) map[string]any {
	found := false
	for _, d := range drop {
		if _, ok := m[d]; ok {
			found = true
		}
	}
	if !found {
		return m
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, d := range drop {
		delete(out, d)
	}
	return out
}
