package schemagen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/addonsync/addonsync/pkg/config"
)

// BaseURL prefixes the $id of every schema.
const BaseURL = "https://addonsync.io/schema/v1alpha1/"

// Schema is a JSON Schema document, as a JSON object.
type Schema = map[string]any

// kindFile is one generated file and the type it describes.
type kindFile struct {
	file, kind string
	typ        reflect.Type
}

// kinds are the generated files.
func kinds() []kindFile {
	return []kindFile{
		{"repository.schema.json", config.KindRepository, reflect.TypeFor[config.Repository]()},
		{"addon.schema.json", config.KindAddon, reflect.TypeFor[config.Addon]()},
		{"cluster.schema.json", config.KindCluster, reflect.TypeFor[config.Cluster]()},
	}
}

// Generate returns the schema files, by file name, for the config types whose Go source is in
// srcDir (pkg/config); the source supplies the descriptions.
func Generate(srcDir string) (map[string][]byte, error) {
	docs, err := parseDocs(srcDir)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, k := range kinds() {
		g := &generator{docs: docs, defs: Schema{}}
		s := g.object(k.typ)
		s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
		s["$id"] = BaseURL + k.file
		s["title"] = k.kind
		props := s["properties"].(Schema)
		props["apiVersion"] = Schema{"const": config.APIVersion, "description": docs.field("TypeMeta", "APIVersion")}
		props["kind"] = Schema{"const": k.kind, "description": docs.field("TypeMeta", "Kind")}
		s["$defs"] = g.defs
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			return nil, fmt.Errorf("%s: %w", k.file, err)
		}
		out[k.file] = buf.Bytes()
	}
	return out, nil
}

type generator struct {
	docs docs
	defs Schema
}

// object describes a struct type inline: properties, required, no other properties.
func (g *generator) object(t reflect.Type) Schema {
	props, required := Schema{}, []string{}
	g.fields(t, props, &required)
	s := Schema{"type": "object", "properties": props, "additionalProperties": false}
	if d := g.docs.types[t.Name()]; d != "" {
		s["description"] = d
	}
	if len(required) > 0 {
		s["required"] = required
	}
	for k, v := range constraints(t.Name()) {
		s[k] = v
	}
	return s
}

func (g *generator) fields(t reflect.Type, props Schema, required *[]string) {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("json")
		if !ok || tag == "-" || !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			g.fields(sf.Type, props, required)
			continue
		}
		s := g.schema(sf.Type)
		for k, v := range constraints(t.Name() + "." + sf.Name) {
			s[k] = v
		}
		if d := g.docs.field(t.Name(), sf.Name); d != "" {
			s["description"] = d
		}
		props[name] = s
		if !strings.Contains(opts, "omitempty") {
			*required = append(*required, name)
		}
	}
}

// schema describes a field's type; named structs go to $defs.
func (g *generator) schema(t reflect.Type) Schema {
	switch t.Kind() {
	case reflect.Pointer:
		return g.schema(t.Elem())
	case reflect.String:
		return Schema{"type": "string"}
	case reflect.Bool:
		return Schema{"type": "boolean"}
	case reflect.Int:
		return Schema{"type": "integer"}
	case reflect.Slice:
		return Schema{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Struct:
		if _, ok := g.defs[t.Name()]; !ok {
			g.defs[t.Name()] = Schema{} // placeholder against recursion
			g.defs[t.Name()] = g.object(t)
		}
		return Schema{"$ref": "#/$defs/" + t.Name()}
	}
	panic(fmt.Sprintf("schemagen: unsupported type %s", t))
}

// constraints are the checks config.Load makes that a schema can express, by type or
// Type.Field.
func constraints(key string) Schema {
	dnsLabel := "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
	chartURL := "^(https?|oci)://[^/]+"
	switch key {
	case "ObjectMeta.Name", "AddonSpec.Namespace", "AddonSpec.ReleaseName", "RepositorySpec.InventoryNamespace":
		return Schema{"pattern": dnsLabel, "maxLength": 63}
	case "ClusterSpec.KubernetesVersion":
		return Schema{"pattern": `^1\.(0|[1-9][0-9]{0,2})$`, "examples": []string{"1.34"}}
	case "ChartSpec.Repository", "ChartRepository.URL", "ChartRepository.Mirror":
		return Schema{"pattern": chartURL}
	case "GitHubSpec.URL":
		return Schema{"pattern": "^https?://"}
	case "PruneLimits.MaxObjects":
		return Schema{"minimum": 0}
	case "PruneLimits.MaxPercent":
		return Schema{"minimum": 0, "maximum": 100}
	case "SyncPolicy.Timeout":
		return Schema{"pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`, "examples": []string{"5m"}}
	case "ChartSpec":
		return Schema{"oneOf": []Schema{
			{"required": []string{"repository", "name", "version"}, "not": Schema{"required": []string{"path"}}},
			{"required": []string{"path"}, "not": Schema{"required": []string{"repository"}}},
		}}
	case "KubeconfigRef":
		return Schema{"not": Schema{"required": []string{"path", "secret"}}}
	}
	return nil
}

// docs are the doc comments of the config types and their fields.
type docs struct {
	types  map[string]string // type name -> doc
	fields map[string]string // Type.Field -> doc
}

func (d docs) field(typ, field string) string { return d.fields[typ+"."+field] }

// parseDocs reads the doc comments from the Go files in dir.
func parseDocs(dir string) (docs, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return docs{}, err
	}
	fset := token.NewFileSet()
	d := docs{types: map[string]string{}, fields: map[string]string{}}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return docs{}, err
		}
		for _, decl := range f.Decls {
			if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
				d.addTypes(gd)
			}
		}
	}
	return d, nil
}

func (d docs) addTypes(gd *ast.GenDecl) {
	for _, spec := range gd.Specs {
		ts := spec.(*ast.TypeSpec)
		d.types[ts.Name.Name] = text(ts.Doc, gd.Doc)
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			continue
		}
		for _, fl := range st.Fields.List {
			for _, n := range fl.Names {
				d.fields[ts.Name.Name+"."+n.Name] = text(fl.Doc, fl.Comment)
			}
		}
	}
}

// text returns the first non-empty comment as one paragraph.
func text(groups ...*ast.CommentGroup) string {
	for _, g := range groups {
		if t := strings.TrimSpace(g.Text()); t != "" {
			return strings.Join(strings.Fields(t), " ")
		}
	}
	return ""
}
