package config

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// document is one config file as read: where each field was found, for errors that are
// only noticed after decoding.
type document struct {
	file string
	kind string // the kind the file must have
	root *yaml.Node
	// pos maps a field path ("spec.addons[2].name") to the node an error about it points at:
	// the value for scalars, the key for mappings and lists, the item for list items.
	pos map[string]*yaml.Node
	// seen is true for every field path present (and not null) in the file.
	seen map[string]bool
	// failed is true for every field path that could not be decoded.
	failed map[string]bool
}

// at returns an Error about field, located at the field or, when the field is absent,
// at its nearest present parent.
func (d *document) at(field, hint, format string, args ...any) *Error {
	e := &Error{File: d.file, Field: field, Message: fmt.Sprintf(format, args...), Hint: hint}
	for p := field; ; p = parentPath(p) {
		if n, ok := d.pos[p]; ok {
			e.Line, e.Column = n.Line, n.Column
			return e
		}
		if p == "" {
			break
		}
	}
	if d.root != nil {
		e.Line, e.Column = d.root.Line, d.root.Column
	}
	return e
}

// parentPath strips the last ".name" or "[n]" from a field path.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// parseYAML parses data as a single YAML document. It returns nil for an empty file.
func parseYAML(file string, data []byte) (*yaml.Node, *Error) {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlSyntaxError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{
			File: file, Line: extra.Line, Message: "file holds more than one YAML document",
			Hint: "remove the \"---\" and everything after it",
		}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlSyntaxError(file, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

func yamlSyntaxError(file string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		num, text, _ := strings.Cut(rest, ": ")
		if line, err := strconv.Atoi(num); err == nil {
			return &Error{File: file, Line: line, Message: "invalid YAML: " + text}
		}
	}
	return &Error{File: file, Message: "invalid YAML: " + msg}
}

// decoder decodes a YAML node tree into the config types strictly, using their JSON field
// names, and records every problem rather than stopping at the first.
type decoder struct {
	doc  *document
	errs *problems
}

// decodeFile decodes root (a mapping) into out, recording positions in a new document.
func decodeFile(file, kind string, root *yaml.Node, out any, errs *problems) *document {
	doc := &document{file: file, kind: kind, root: root, pos: map[string]*yaml.Node{}, seen: map[string]bool{}, failed: map[string]bool{}}
	d := &decoder{doc: doc, errs: errs}
	d.decode(root, reflect.ValueOf(out).Elem(), "")
	return doc
}

func (d *decoder) fail(n *yaml.Node, field, hint, format string, args ...any) {
	d.doc.failed[field] = true
	d.errs.add(&Error{
		File: d.doc.file, Line: n.Line, Column: n.Column, Field: field,
		Message: fmt.Sprintf(format, args...), Hint: hint,
	})
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, field string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if isNull(n) {
		return // leave the zero value; required fields are checked by the parent
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		d.decode(n, v.Elem(), field)
	case reflect.Struct:
		d.decodeStruct(n, v, field)
	case reflect.Slice:
		d.decodeSlice(n, v, field)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			d.fail(n, field, quoteHint(n), "expected a string, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.fail(n, field, "", "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int:
		var i int
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			d.fail(n, field, "", "expected an integer, got %s", describe(n))
			return
		}
		v.SetInt(int64(i))
	default:
		panic(fmt.Sprintf("config: decoder does not handle %s (field %s)", v.Type(), field))
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, field string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, field, "", "expected a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		itemField := fmt.Sprintf("%s[%d]", field, i)
		d.doc.pos[itemField] = item
		d.doc.seen[itemField] = true
		d.decode(item, s.Index(i), itemField)
	}
	v.Set(s)
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, field string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, field, "", "expected a mapping, got %s", describe(n))
		return
	}
	fields := structFields(v.Type())
	keyLine := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name := k.Value
		f, ok := fields.byName[name]
		sub := joinField(field, name)
		switch {
		case k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge":
			d.fail(k, field, "", "unsupported key %s (YAML merge keys and complex keys are not allowed)", describe(k))
			continue
		case keyLine[name] > 0:
			d.fail(k, sub, "remove one of them", "field is set twice (first on line %d)", keyLine[name])
			continue
		case !ok:
			d.fail(k, sub, fields.suggest(name), "unknown field")
			continue
		}
		keyLine[name] = k.Line
		if val.Kind == yaml.ScalarNode || val.Kind == yaml.AliasNode {
			d.doc.pos[sub] = val
		} else {
			d.doc.pos[sub] = k
		}
		d.doc.seen[sub] = !isNull(val)
		d.decode(val, v.FieldByIndex(f.index), sub)
	}
	for _, f := range fields.list {
		if !f.required {
			continue
		}
		sub := joinField(field, f.name)
		fv := v.FieldByIndex(f.index)
		switch {
		case d.doc.failed[sub]:
		case !d.doc.seen[sub]:
			d.errs.add(d.doc.at(sub, requiredHint(sub, d.doc.kind), "required field is missing"))
		case fv.Kind() == reflect.String && fv.String() == "":
			d.errs.add(d.doc.at(sub, requiredHint(sub, d.doc.kind), "must not be empty"))
		}
	}
}

// requiredHint says how to fill in a missing required field.
func requiredHint(field, kind string) string {
	switch field {
	case "apiVersion":
		return "add apiVersion: " + APIVersion
	case "kind":
		return "add kind: " + kind
	case "metadata.name":
		return "set it to the directory name"
	case "spec.namespace":
		return "the namespace the add-on is installed into"
	case "spec.kubernetesVersion":
		return `the cluster's Kubernetes minor, e.g. "1.34"`
	case "spec.addons":
		return "list the add-ons the cluster runs, e.g. addons: [{name: coredns}]"
	}
	return ""
}

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// describe names what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!str":
		return fmt.Sprintf("the string %q", n.Value)
	case "!!int", "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	case "!!null":
		return "null"
	}
	return fmt.Sprintf("%s %q", n.ShortTag(), n.Value)
}

// quoteHint suggests quoting a scalar that YAML read as a number or boolean.
func quoteHint(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!str" {
		return fmt.Sprintf("quote it: %q", n.Value)
	}
	return ""
}

// fieldInfo is a field of a config type as named in JSON.
type fieldInfo struct {
	name     string
	index    []int
	required bool // no omitempty in the JSON tag
}

type fieldSet struct {
	list   []fieldInfo
	byName map[string]fieldInfo
}

// structFields lists the JSON fields of t, flattening inline embedded structs.
func structFields(t reflect.Type) fieldSet {
	fs := fieldSet{byName: map[string]fieldInfo{}}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag, ok := sf.Tag.Lookup("json")
			if !ok || tag == "-" || !sf.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), index...), i)
			if sf.Anonymous && name == "" && strings.Contains(opts, "inline") {
				walk(sf.Type, idx)
				continue
			}
			f := fieldInfo{name: name, index: idx, required: !strings.Contains(opts, "omitempty")}
			fs.list = append(fs.list, f)
			fs.byName[name] = f
		}
	}
	walk(t, nil)
	return fs
}

// suggest returns a "did you mean" hint for an unknown field name.
func (fs fieldSet) suggest(name string) string {
	best, bestDist := "", 0
	for _, f := range fs.list {
		d := editDistance(strings.ToLower(name), strings.ToLower(f.name))
		if best == "" || d < bestDist {
			best, bestDist = f.name, d
		}
	}
	if best != "" && bestDist <= max(2, len(best)/3) {
		return fmt.Sprintf("did you mean %q?", best)
	}
	names := make([]string, len(fs.list))
	for i, f := range fs.list {
		names[i] = f.name
	}
	return "known fields: " + strings.Join(names, ", ")
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
