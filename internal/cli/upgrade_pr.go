package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/addonsync/addonsync/internal/output"
	"github.com/addonsync/addonsync/internal/redact"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/git"
	"github.com/addonsync/addonsync/pkg/upgrade"
)

// Environment variables upgrade pr reads.
const (
	envGitHubToken = "GITHUB_TOKEN"
	envRemote      = "ADDONSYNC_REMOTE"
)

type upgradePROptions struct {
	g *GlobalOptions
	// Remote is the config repo's HTTPS URL (default $ADDONSYNC_REMOTE, then origin of --repo).
	Remote string
	// TokenFile holds the GitHub token (default: $GITHUB_TOKEN).
	TokenFile string
	// WorkDir keeps the bare clone between runs.
	WorkDir string
	// CacheDir is the chart cache.
	CacheDir string
	// Addons limits the run to these add-ons.
	Addons []string
	// DryRun prints what would be pushed and opened.
	DryRun bool
	// Output is table, json or yaml.
	Output output.Format
	// Timeout bounds the whole run, retries included.
	Timeout time.Duration

	token string
}

func newUpgradePRCmd(g *GlobalOptions) *cobra.Command {
	o := &upgradePROptions{g: g, Timeout: 30 * time.Minute}
	cmd := &cobra.Command{
		Use:   "pr",
		Short: "Open or update one upgrade pull request per add-on",
		Long: `pr clones (or fetches) the config repo, and for every add-on with a newer allowed version
whose schedule is due: commits the version change on addonsync/upgrade/<addon> (only the
version in addon.yaml changes, comments and layout kept; addonsync.lock pins the new
digest), pushes it, and opens a pull request against main with the rendered diff per
cluster, or updates the one already open. Running it again changes nothing until a newer
version appears. A branch someone else committed to is left alone.

The token (a GitHub token with contents and pull-request write access) is read from
--github-token-file or $GITHUB_TOKEN, never from a flag value.`,
		Example: `  # what would change, without pushing or opening anything
  addonsync upgrade pr --dry-run

  # in the CronJob
  addonsync upgrade pr --remote https://github.com/example-org/platform-addons.git \
    --github-token-file /var/run/secrets/github/token`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Remote, "remote", "", "config repo HTTPS URL (default $ADDONSYNC_REMOTE, then the origin of --repo)")
	f.StringVar(&o.TokenFile, "github-token-file", "", "file holding the GitHub token (default: $GITHUB_TOKEN)")
	f.StringVar(&o.WorkDir, "work-dir", "", "directory for the bare clone kept between runs (default: in the user cache)")
	f.StringVar(&o.CacheDir, "cache-dir", "", "chart and render cache directory (default $XDG_CACHE_HOME/addonsync/charts)")
	f.StringArrayVar(&o.Addons, "addon", nil, "only this add-on (repeatable)")
	f.BoolVar(&o.DryRun, "dry-run", false, "print the addon.yaml diff and the pull request, push and open nothing")
	output.AddFlag(cmd, &o.Output, output.Table, output.JSON, output.YAML)
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "give up after this long, retries included")
	return cmd
}

// Complete fills the remote and reads the token.
func (o *upgradePROptions) Complete() error {
	if o.Remote == "" {
		o.Remote = configRemote(o.g.Dir)
	}
	token, err := readGitHubToken(o.TokenFile)
	if err != nil {
		return err
	}
	o.token = token
	if o.WorkDir == "" {
		o.WorkDir = defaultWorkDir("repos", o.Remote)
	}
	return nil
}

// Validate checks the flags.
func (o *upgradePROptions) Validate() error {
	if o.Remote == "" {
		return Usage(errors.New("no config repo remote: give --remote, set $ADDONSYNC_REMOTE, or run in a clone with an origin"))
	}
	u, err := url.Parse(o.Remote)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return Usage(fmt.Errorf("--remote: %s is not an HTTPS URL (SSH remotes are not supported; use the https:// clone URL)", redactURL(o.Remote)))
	}
	if u.User != nil {
		return Usage(errors.New("--remote: the URL holds credentials; remove them and give the token with --github-token-file"))
	}
	if o.token == "" && !o.DryRun {
		return Usage(errors.New("no GitHub token: give --github-token-file or set $GITHUB_TOKEN"))
	}
	return nil
}

// redactURL is redact.URL, the one redaction helper.
func redactURL(s string) string { return redact.URL(s) }

// Run proposes the upgrades and prints the outcome.
func (o *upgradePROptions) Run(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	ex := upgrade.NewExecutor(upgrade.ExecutorOptions{
		Remote:          git.RemoteOptions{URL: o.Remote, Token: o.token, Dir: o.WorkDir},
		Renderer:        newRenderer(o.g, o.CacheDir),
		DryRun:          o.DryRun,
		Logger:          o.g.Logger,
		NewPullRequests: gitHubPullRequests(o.token),
	})
	_, results, err := ex.Run(ctx, upgrade.DiscoverOptions{Logger: o.g.Logger}, o.Addons)
	if errors.Is(err, git.ErrGitAuth) {
		return fmt.Errorf("%s: git token rejected: check --github-token-file (the token needs contents write access): %w", o.Remote, err)
	}
	if results == nil && err != nil {
		return err
	}
	if perr := o.print(results); perr != nil {
		return perr
	}
	errs := []error{err}
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, explainPRError(r))
		}
	}
	return errors.Join(errs...)
}

func explainPRError(r upgrade.Result) error {
	if errors.Is(r.Err, upgrade.ErrTokenRejected) {
		return fmt.Errorf("add-on %q: GitHub token rejected (401): check --github-token-file", r.Addon)
	}
	return fmt.Errorf("add-on %q: %w", r.Addon, r.Err)
}

// prRow is one result as -o json prints it.
type prRow struct {
	Addon       string `json:"addon"`
	From        string `json:"from"`
	To          string `json:"to"`
	Branch      string `json:"branch"`
	Action      string `json:"action"`
	Pushed      bool   `json:"pushed"`
	Commit      string `json:"commit,omitempty"`
	PullRequest int    `json:"pullRequest,omitempty"`
	URL         string `json:"url,omitempty"`
	Title       string `json:"title,omitempty"`
	Body        string `json:"body,omitempty"`
	FileDiff    string `json:"fileDiff,omitempty"`
	Error       string `json:"error,omitempty"`
}

func (o *upgradePROptions) print(results []upgrade.Result) error {
	rows := make([]prRow, len(results))
	for i, r := range results {
		rows[i] = prRow{
			Addon: r.Addon, From: r.From, To: r.To, Branch: r.Branch, Action: r.Action.String(), Pushed: r.Pushed,
			Commit: r.Commit, PullRequest: r.PullRequest.Number, URL: r.PullRequest.URL,
		}
		if o.DryRun {
			rows[i].Title, rows[i].Body, rows[i].FileDiff = r.PullRequest.Title, r.PullRequest.Body, r.FileDiff
		}
		if r.Err != nil {
			rows[i].Error = explainPRError(r).Error()
		}
	}
	if o.Output.Structured() {
		return output.WriteStructured(o.g.Out, o.Output, map[string]any{"results": rows})
	}
	if o.DryRun {
		for _, r := range rows {
			if r.Error != "" {
				continue
			}
			fmt.Fprintf(o.g.Out, "=== %s: would push %s\n%s\n--- pull request: %s\n%s\n\n", r.Addon, r.Branch, r.FileDiff, r.Title, r.Body)
		}
	}
	tw := tabwriter.NewWriter(o.g.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADD-ON\tFROM\tTO\tACTION\tPULL REQUEST\tBRANCH")
	for _, r := range rows {
		pr := "-"
		if r.URL != "" {
			pr = r.URL
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Addon, r.From, r.To, r.Action, pr, r.Branch)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rows) == 0 {
		fmt.Fprintln(o.g.Out, "no upgrades due")
	}
	return nil
}

// gitHubPullRequests opens pull requests on the repo addonsync.yaml names, with token.
func gitHubPullRequests(token string) func(config.GitHubSpec) (upgrade.PullRequests, error) {
	return func(spec config.GitHubSpec) (upgrade.PullRequests, error) {
		if spec.Owner == "" || spec.Repo == "" {
			return nil, Usage(fmt.Errorf("%s: spec.github.owner and spec.github.repo must be set to open pull requests", config.RepositoryFile))
		}
		client, err := upgrade.NewGitHubClient(spec.URL, token)
		if err != nil {
			return nil, err
		}
		return upgrade.NewGitHubPullRequests(client, spec.Owner, spec.Repo, upgrade.DefaultGitHubOptions()), nil
	}
}

// readGitHubToken reads the GitHub token from --github-token-file, else $GITHUB_TOKEN; never
// from a flag value, which ps would show.
func readGitHubToken(file string) (string, error) {
	if file == "" {
		return strings.TrimSpace(os.Getenv(envGitHubToken)), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", Usage(fmt.Errorf("--github-token-file: %w", err))
	}
	return strings.TrimSpace(string(data)), nil
}

// defaultWorkDir is a per-remote directory under the user cache: <cache>/addonsync/<kind>/<hash>.
func defaultWorkDir(kind, remote string) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	sum := sha256.Sum256([]byte(remote))
	return filepath.Join(dir, "addonsync", kind, hex.EncodeToString(sum[:8]))
}
