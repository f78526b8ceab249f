package output

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

// Format is the value of --output: how a command prints its result.
type Format string

// The output formats. Every command offers table (or text, for diffs), json and yaml;
// markdown and wide where they apply.
const (
	// Table is aligned columns for a terminal.
	Table Format = "table"
	// Wide is Table with more columns.
	Wide Format = "wide"
	// Text is prose for a terminal, e.g. a diff report.
	Text Format = "text"
	// JSON is indented JSON, for machines.
	JSON Format = "json"
	// YAML is the JSON document as YAML (field names from the json tags).
	YAML Format = "yaml"
	// Markdown is for pull request comments.
	Markdown Format = "markdown"
)

// String returns the format's name as -o spells it.
func (f Format) String() string { return string(f) }

// Structured reports whether f is a machine format (json or yaml) that WriteStructured prints.
func (f Format) Structured() bool { return f == JSON || f == YAML }

// flagValue is --output restricted to the formats a command offers; a value outside them
// is a flag error (exit 2) naming the choices.
type flagValue struct {
	p       *Format
	allowed []Format
}

func (f *flagValue) String() string { return string(*f.p) }
func (f *flagValue) Type() string   { return "format" }

func (f *flagValue) Set(v string) error {
	if !slices.Contains(f.allowed, Format(v)) {
		return fmt.Errorf("must be %s", orList(f.allowed))
	}
	*f.p = Format(v)
	return nil
}

// AddFlag declares -o/--output on cmd, restricted to allowed and defaulting to the first of
// them, with shell completion of the names.
func AddFlag(cmd *cobra.Command, p *Format, allowed ...Format) {
	*p = allowed[0]
	cmd.Flags().VarP(&flagValue{p: p, allowed: allowed}, "output", "o", "output format: "+orList(allowed))
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
}

// orList reads "table, json or yaml".
func orList(fs []Format) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// WriteStructured prints v as YAML when f is YAML, otherwise as indented JSON; field names
// come from the json tags in both.
func WriteStructured(w io.Writer, f Format, v any) error {
	if f == YAML {
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
