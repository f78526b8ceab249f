package output

import (
	"bytes"
	"testing"

	"github.com/spf13/cobra"
)

func TestAddFlag(t *testing.T) {
	newCmd := func() (*cobra.Command, *Format) {
		var f Format
		cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		AddFlag(cmd, &f, Table, JSON, YAML)
		return cmd, &f
	}
	t.Run("defaults to the first format", func(t *testing.T) {
		cmd, f := newCmd()
		cmd.SetArgs(nil)
		if err := cmd.Execute(); err != nil || *f != Table {
			t.Errorf("Execute() = %v, format %q; want nil, table", err, *f)
		}
	})
	t.Run("takes an offered format", func(t *testing.T) {
		cmd, f := newCmd()
		cmd.SetArgs([]string{"-o", "yaml"})
		if err := cmd.Execute(); err != nil || *f != YAML || !f.Structured() {
			t.Errorf("Execute() = %v, format %q; want nil, yaml", err, *f)
		}
	})
	t.Run("refuses another naming the choices", func(t *testing.T) {
		cmd, _ := newCmd()
		cmd.SetArgs([]string{"--output", "markdown"})
		err := cmd.Execute()
		if want := `invalid argument "markdown" for "-o, --output" flag: must be table, json or yaml`; err == nil || err.Error() != want {
			t.Errorf("Execute() = %v, want %q", err, want)
		}
	})
}

func TestWriteStructured(t *testing.T) {
	v := struct {
		Name  string   `json:"name"`
		Items []string `json:"items"`
	}{Name: "prod", Items: []string{"a"}}
	for f, want := range map[Format]string{
		JSON: "{\n  \"name\": \"prod\",\n  \"items\": [\n    \"a\"\n  ]\n}\n",
		YAML: "items:\n- a\nname: prod\n",
	} {
		var buf bytes.Buffer
		if err := WriteStructured(&buf, f, v); err != nil {
			t.Fatal(err)
		}
		if buf.String() != want {
			t.Errorf("%s: got %q, want %q", f, buf.String(), want)
		}
	}
}
