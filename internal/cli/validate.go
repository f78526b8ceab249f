package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/addonsync/addonsync/internal/output"
	"github.com/addonsync/addonsync/pkg/config"
)

type validateOptions struct {
	g *GlobalOptions
	// Output is table, json or yaml.
	Output output.Format
}

func newValidateCmd(g *GlobalOptions) *cobra.Command {
	o := &validateOptions{g: g}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check every file of the config repo and report all problems",
		Long: `validate loads addonsync.yaml, every addons/*/addon.yaml and clusters/*/cluster.yaml,
and the values files, and reports every problem with its file, line and field.
It exits 0 when the config is valid and 2 when it has problems.`,
		Example: `  # check the working tree
  addonsync validate

  # check a branch without checking it out
  addonsync validate --ref release-1.34

  # problems as JSON, e.g. for an editor or a CI annotation step
  addonsync validate -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(cmd.Context()) },
	}
	output.AddFlag(cmd, &o.Output, output.Table, output.JSON, output.YAML)
	return cmd
}

// validateResult is validate's JSON output.
type validateResult struct {
	Dir      string          `json:"dir"`
	Ref      string          `json:"ref,omitempty"`
	Revision string          `json:"revision,omitempty"`
	Valid    bool            `json:"valid"`
	Addons   int             `json:"addons"`
	Clusters int             `json:"clusters"`
	Problems []*config.Error `json:"problems"`
}

// Run loads the config and reports the result.
func (o *validateOptions) Run(_ context.Context) error {
	cfg, err := openConfig(o.g)
	var problems config.Errors
	if err != nil && !errors.As(err, &problems) {
		return Usage(err)
	}
	res := validateResult{Dir: o.g.Dir, Ref: o.g.Ref, Valid: err == nil, Problems: problems}
	if cfg != nil {
		res.Ref, res.Revision = cfg.Ref, cfg.Revision // --ref auto names the branch it read
		res.Addons, res.Clusters = len(cfg.Addons), len(cfg.Clusters)
	}
	if res.Problems == nil {
		res.Problems = []*config.Error{}
	}
	if o.Output.Structured() {
		if err := output.WriteStructured(o.g.Out, o.Output, res); err != nil {
			return err
		}
	} else if err := printValidate(o.g.Out, res); err != nil {
		return err
	}
	if res.Valid {
		return nil
	}
	noun := "problems"
	if len(problems) == 1 {
		noun = "problem"
	}
	return Usage(fmt.Errorf("%d %s in %s", len(problems), noun, repoWhere(res.Dir, res.Ref)))
}

func printValidate(w io.Writer, res validateResult) error {
	if !res.Valid {
		for _, p := range res.Problems {
			if _, err := fmt.Fprintln(w, p); err != nil {
				return err
			}
		}
		return nil
	}
	at := ""
	if res.Ref != "" {
		at = " at " + res.Ref + " (" + shortRevision(res.Revision) + ")"
	}
	_, err := fmt.Fprintf(w, "config OK%s: %s, %s\n", at, countNoun(res.Addons, "add-on"), countNoun(res.Clusters, "cluster"))
	return err
}

// repoWhere names the config repo and ref for messages: ". at release-1.34".
func repoWhere(dir, ref string) string {
	if ref == "" {
		return dir
	}
	return dir + " at " + ref
}

func countNoun(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func shortRevision(sha string) string { return sha[:min(len(sha), 12)] }

func encodeJSONIndent(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
