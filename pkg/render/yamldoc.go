package render

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"unicode/utf8"

	yamlv2 "go.yaml.in/yaml/v2"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// decodeYAMLDocument parses one YAML document into the value sigs.k8s.io/yaml.YAMLToJSON
// followed by k8s.io/apimachinery/pkg/util/json.Unmarshal gives (the path kubectl and the
// API machinery take: string keys, integers as int64, other numbers as float64), without
// the JSON text in between. Parsing the rendered objects is most of a cold render, and
// half of that was the JSON round trip.
//
// The fast path converts what YAML decodes to directly; anything it cannot convert
// exactly as the round trip would (a string that is not UTF-8, NaN or an infinity, a map
// key of another type, two keys that become the same string) takes the round trip itself,
// so the result and the error are always the round trip's. TestDecodeDocumentMatchesRoundTrip
// checks both on every document of the test charts and on YAML's corner cases.
func decodeYAMLDocument(doc []byte) (any, error) {
	var raw any
	if err := yamlv2.Unmarshal(doc, &raw); err != nil {
		return nil, err
	}
	if v, ok := jsonValue(raw); ok {
		return v, nil
	}
	return decodeRoundTrip(doc)
}

// decodeRoundTrip is the reference: YAML to JSON text, JSON text to Go values.
func decodeRoundTrip(doc []byte) (any, error) {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	var v any
	if err := utiljson.Unmarshal(js, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// errNotObject is returned by decodeYAMLObject for a document that is a list or a scalar.
var errNotObject = errors.New("not an object")

// decodeYAMLObject is decodeYAMLDocument for a document that must be a mapping: nil for an empty
// document, and for a list or a scalar the error json.Unmarshal into a map gives.
func decodeYAMLObject(doc []byte) (map[string]any, error) {
	v, err := decodeYAMLDocument(doc)
	if err != nil {
		return nil, err
	}
	switch m := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return m, nil
	}
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := utiljson.Unmarshal(js, &m); err != nil {
		return nil, err
	}
	return nil, errNotObject
}

// jsonValue converts a value go-yaml decoded into what the JSON round trip gives; ok is
// false where only the round trip itself can say.
func jsonValue(v any) (any, bool) {
	switch t := v.(type) {
	case nil, bool:
		return t, true
	case string:
		return t, utf8.ValidString(t)
	case int:
		return int64(t), true
	case int64:
		return t, true
	case uint64:
		if t <= math.MaxInt64 {
			return int64(t), true
		}
		return jsonNumber(t)
	case float64:
		return jsonNumber(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			c, ok := jsonValue(e)
			if !ok {
				return nil, false
			}
			out[i] = c
		}
		return out, true
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			key, ok := jsonKey(k)
			if !ok {
				return nil, false
			}
			if _, dup := out[key]; dup {
				return nil, false
			}
			c, ok := jsonValue(e)
			if !ok {
				return nil, false
			}
			out[key] = c
		}
		return out, true
	}
	return nil, false
}

// jsonNumber writes a number as encoding/json does and reads it back as util/json does:
// an integer literal that fits is an int64, anything else a float64.
func jsonNumber(v any) (any, bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	if i, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}

// jsonKey turns a YAML map key into the JSON key sigs.k8s.io/yaml makes of it.
func jsonKey(k any) (string, bool) {
	switch t := k.(type) {
	case string:
		return t, utf8.ValidString(t)
	case int:
		return strconv.Itoa(t), true
	case int64:
		return strconv.FormatInt(t, 10), true
	case bool:
		return strconv.FormatBool(t), true
	}
	return "", false // floats, nulls and others: the round trip decides
}
