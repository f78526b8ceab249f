package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"
)

// OutputFormat is the value of --output: how a command prints its result.
type OutputFormat string

// The output formats. Every command offers table (or text, for diffs), json and yaml;
// markdown and wide where they apply.
const (
	OutputTable    OutputFormat = "table"
	OutputWide     OutputFormat = "wide"
	OutputText     OutputFormat = "text"
	OutputJSON     OutputFormat = "json"
	OutputYAML     OutputFormat = "yaml"
	OutputMarkdown OutputFormat = "markdown"
)

func (f OutputFormat) String() string { return string(f) }

// Structured reports whether f is a machine format (json or yaml) that writeStructured prints.
func (f OutputFormat) Structured() bool { return f == OutputJSON || f == OutputYAML }

// outputFlag is --output restricted to the formats a command offers; a value outside them
// is a flag error (exit 2) naming the choices.
type outputFlag struct {
	p       *OutputFormat
	allowed []OutputFormat
}

func (f *outputFlag) String() string { return string(*f.p) }
func (f *outputFlag) Type() string   { return "format" }

func (f *outputFlag) Set(v string) error {
	if !slices.Contains(f.allowed, OutputFormat(v)) {
		return fmt.Errorf("must be %s", orList(f.allowed))
	}
	*f.p = OutputFormat(v)
	return nil
}

// addOutputFlag declares -o/--output on f, defaulting to the first allowed format.
func addOutputFlag(cmd *cobra.Command, p *OutputFormat, allowed ...OutputFormat) {
	*p = allowed[0]
	cmd.Flags().VarP(&outputFlag{p: p, allowed: allowed}, "output", "o", "output format: "+orList(allowed))
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
}

// orList reads "table, json or yaml".
func orList(fs []OutputFormat) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// writeStructured prints v as indented JSON or as YAML (field names from the json tags).
func writeStructured(w io.Writer, f OutputFormat, v any) error {
	if f == OutputYAML {
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

// addAddonsFlag declares the repeatable --addon filter; verb says what is limited ("diff").
func addAddonsFlag(f *pflag.FlagSet, p *[]string, help string) {
	f.StringArrayVar(p, "addon", nil, help)
}

// addCacheDirFlag declares --cache-dir, the chart and render cache directory.
func addCacheDirFlag(f *pflag.FlagSet, p *string) {
	f.StringVar(p, "cache-dir", "", "chart cache directory (default $XDG_CACHE_HOME/addonsync/charts)")
}
