package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/addonsync/addonsync/internal/output"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

type validateOptions struct {
	g *GlobalOptions
	// Output is table, json or yaml.
	Output output.Format
	// Render also renders every cluster, so removed APIs, template failures and unnamed
	// objects are found before a sync.
	Render bool
	// CacheDir overrides the chart cache directory.
	CacheDir string
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
  addonsync validate -o json

  # in CI: also render every cluster (charts from the cache or their repositories)
  addonsync validate --render`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(cmd.Context()) },
	}
	output.AddFlag(cmd, &o.Output, output.Table, output.JSON, output.YAML)
	cmd.Flags().BoolVar(&o.Render, "render", false, "also render every cluster: removed APIs, template failures and unnamed objects are problems too")
	addCacheDirFlag(cmd.Flags(), &o.CacheDir)
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
	// RenderErrors are the render's errors, one per line, with --render.
	RenderErrors []string `json:"renderErrors,omitempty"`
	// Rendered is true when --render rendered every cluster.
	Rendered bool `json:"rendered,omitempty"`
}

// Run loads the config and reports the result.
func (o *validateOptions) Run(ctx context.Context) error {
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
	var renderErr error
	if o.Render && res.Valid {
		if renderErr = o.renderAll(ctx, cfg); renderErr != nil {
			res.Valid = false
			res.RenderErrors = strings.Split(ErrorMessage(renderErr), "\n")
		} else {
			res.Rendered = true
		}
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
	if renderErr != nil {
		return fmt.Errorf("%s: %s cannot render: %w", repoWhere(res.Dir, res.Ref), countNoun(len(res.RenderErrors), "error"), renderErr)
	}
	noun := "problems"
	if len(problems) == 1 {
		noun = "problem"
	}
	return Usage(fmt.Errorf("%d %s in %s", len(problems), noun, repoWhere(res.Dir, res.Ref)))
}

// renderAll renders every cluster, printing the render's warnings.
func (o *validateOptions) renderAll(ctx context.Context, cfg *config.Config) error {
	ro := render.DefaultOptions()
	ro.Logger = o.g.Logger
	if o.CacheDir != "" {
		ro.CacheDir = o.CacheDir
	}
	clusters, err := render.New(ro).RenderAll(ctx, cfg, render.RenderOptions{})
	for _, c := range clusters {
		printWarnings(o.g, c)
	}
	return err
}

func printValidate(w io.Writer, res validateResult) error {
	for _, e := range res.RenderErrors {
		if _, err := fmt.Fprintln(w, e); err != nil {
			return err
		}
	}
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
	rendered := ""
	if res.Rendered {
		rendered = ", every cluster renders"
	}
	_, err := fmt.Fprintf(w, "config OK%s: %s, %s%s\n", at, countNoun(res.Addons, "add-on"), countNoun(res.Clusters, "cluster"), rendered)
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
