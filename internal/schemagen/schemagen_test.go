package schemagen

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

const (
	srcDir    = "../../pkg/config"
	schemaDir = "../../schema"
	testdata  = "../../pkg/config/testdata"
)

// TestSchemasAreUpToDate fails when schema/*.json differ from what the Go types generate.
func TestSchemasAreUpToDate(t *testing.T) {
	files, err := Generate(srcDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Errorf("Generate returned %d files, want 3", len(files))
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(schemaDir, name))
		if err != nil {
			t.Errorf("%v (run: go run ./hack/schemagen)", err)
			continue
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("schema/%s is stale; run: go run ./hack/schemagen\n(-generated +committed):\n%s", name, diff)
		}
	}
}

func TestSchemaDescriptionsComeFromDocComments(t *testing.T) {
	files, err := Generate(srcDir)
	if err != nil {
		t.Fatal(err)
	}
	want := `"description": "KubernetesVersion is the cluster's Kubernetes minor, e.g. \"1.34\"."`
	if !bytes.Contains(files["cluster.schema.json"], []byte(want)) {
		t.Errorf("cluster.schema.json lacks %s", want)
	}
}

// TestSchemasAgreeWithLoader validates config files against the schemas: the valid fixture
// passes, and broken fixtures the schema can see fail.
func TestSchemasAgreeWithLoader(t *testing.T) {
	c := jsonschema.NewCompiler()
	schemas := map[string]*jsonschema.Schema{}
	for file, name := range map[string]string{"addon.yaml": "addon", "cluster.yaml": "cluster", "addonsync.yaml": "repository"} {
		sch, err := c.Compile(filepath.Join(schemaDir, name+".schema.json"))
		if err != nil {
			t.Fatal(err)
		}
		schemas[file] = sch
	}
	validate := func(t *testing.T, root string) []error {
		t.Helper()
		var errs []error
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || schemas[d.Name()] == nil || strings.Contains(p, "/values/") {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			js, err := yaml.YAMLToJSON(data)
			if err != nil {
				return err
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
			if err != nil {
				return err
			}
			if err := schemas[d.Name()].Validate(doc); err != nil {
				errs = append(errs, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return errs
	}
	t.Run("the valid fixture passes", func(t *testing.T) {
		for _, err := range validate(t, filepath.Join(testdata, "valid")) {
			t.Error(err)
		}
	})
	for _, name := range []string{
		"unknown-field", "wrong-type", "wrong-type-bool", "unquoted-number", "missing-namespace",
		"missing-kubernetes-version", "wrong-apiversion", "wrong-kind", "bad-minor", "chart-both", "chart-neither",
		"bad-repository-url", "bad-duration", "kubeconfig-both", "bad-repo-settings", "missing-chart-version",
	} {
		t.Run(name+" fails", func(t *testing.T) {
			if errs := validate(t, filepath.Join(testdata, "invalid", name)); len(errs) == 0 {
				t.Errorf("schema accepts testdata/invalid/%s", name)
			}
		})
	}
}
