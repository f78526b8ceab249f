package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/addonsync/addonsync/internal/output"
	"github.com/addonsync/addonsync/pkg/backport"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/git"
	"github.com/addonsync/addonsync/pkg/render"
	"github.com/addonsync/addonsync/pkg/upgrade"
)

// remoteOptions are the flags of the commands that work on the config repo's remote:
// backport, branches and branch cut. They complete and validate like upgrade pr.
type remoteOptions struct {
	upgradePROptions
	// needToken is false for read-only commands (branches).
	needToken bool
}

func (o *remoteOptions) flags(cmd *cobra.Command, dryRunHelp string) {
	f := cmd.Flags()
	f.StringVar(&o.Remote, "remote", "", "config repo HTTPS URL (default $ADDONSYNC_REMOTE, then the origin of --repo)")
	f.StringVar(&o.TokenFile, "github-token-file", "", "file holding the GitHub token (default: $GITHUB_TOKEN)")
	f.StringVar(&o.WorkDir, "work-dir", "", "directory for the bare clone kept between runs (default: in the user cache)")
	addCacheDirFlag(f, &o.CacheDir)
	if dryRunHelp != "" {
		f.BoolVar(&o.DryRun, "dry-run", false, dryRunHelp)
	}
	output.AddFlag(cmd, &o.Output, output.Table, output.JSON, output.YAML)
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "give up after this long, retries included")
}

func (o *remoteOptions) complete() error {
	if err := o.Complete(); err != nil {
		return err
	}
	if !o.needToken && o.token == "" {
		o.DryRun = true // reading needs no GitHub token; nothing is written
	}
	return o.Validate()
}

func (o *remoteOptions) executor() *backport.Executor {
	return newBackportExecutor(o.g, o.Remote, o.token, o.WorkDir, o.CacheDir, o.DryRun)
}

func newBackportExecutor(g *GlobalOptions, remote, token, workDir, cacheDir string, dryRun bool) *backport.Executor {
	ro := render.DefaultOptions()
	ro.Logger = g.Logger
	if cacheDir != "" {
		ro.CacheDir = cacheDir
	}
	return backport.NewExecutor(backport.ExecutorOptions{
		Remote:          git.RemoteOptions{URL: remote, Token: token, Dir: workDir},
		Renderer:        render.New(ro),
		Discover:        upgrade.DiscoverOptions{Logger: g.Logger},
		DryRun:          dryRun,
		Logger:          g.Logger,
		NewPullRequests: gitHubLifecycle(token),
		Progress: func(r backport.Result) {
			if r.Outcome != backport.OutcomeSkipped {
				fmt.Fprintf(g.ErrOut, "%s: %s %s: %s\n", r.Branch, r.Change.Commit.Short(), r.Change.Commit.Subject(), r.Outcome)
			}
		},
	})
}

// gitHubLifecycle is gitHubPullRequests with the closing and commenting backports need.
func gitHubLifecycle(token string) func(config.GitHubSpec) (backport.PullRequests, error) {
	open := gitHubPullRequests(token)
	return func(spec config.GitHubSpec) (backport.PullRequests, error) {
		p, err := open(spec)
		if err != nil {
			return nil, err
		}
		lc, ok := p.(backport.PullRequests)
		if !ok {
			return nil, fmt.Errorf("github %s/%s: client cannot close or comment on pull requests", spec.Owner, spec.Repo)
		}
		return lc, nil
	}
}

func gitAuthHint(remote string, err error) error {
	if errors.Is(err, git.ErrGitAuth) {
		return fmt.Errorf("%s: git token rejected: check --github-token-file (the token needs contents write access): %w", redactURL(remote), err)
	}
	return err
}

func newBackportCmd(g *GlobalOptions) *cobra.Command {
	o := &remoteOptions{upgradePROptions: upgradePROptions{g: g, Timeout: 30 * time.Minute}, needToken: true}
	cmd := &cobra.Command{
		Use:   "backport",
		Short: "Carry changes merged to main to the release branches they suit, as pull requests",
		Long: `backport clones (or fetches) the config repo and, for every release branch (release-1.NN),
finds the commits of main it lacks that ask to be carried:

  - upgrade commits (trailer "Addonsync-Upgrade: <addon> <from> -> <to>", written by
    "upgrade pr") are replayed: the version is set in the branch's own addon.yaml and lock.
    A branch whose Kubernetes minor the new chart's kubeVersion excludes, or that already
    has the version or a newer one, is skipped with the reason;
  - commits with "Addonsync-Backport: release-1.33, release-1.34" (or "all") are merged
    three-way, as git cherry-pick does.

Each becomes a branch addonsync/backport/<release-branch>/<short-sha> and a pull request
against the release branch with that branch's rendered diff per cluster. A conflict gives
a draft pull request with the conflict markers committed and the conflicting files listed.
What a branch carries is recorded ("Addonsync-Backport-Of: <sha>", also in the pull
request body, so squash merges keep it), so running again opens nothing new. A pull
request no longer needed (superseded, or already on the branch) is closed with a comment
and its branch deleted; a branch someone else pushed to is left alone.`,
		Example: `  # what would be carried, without pushing or opening anything
  addonsync backport --dry-run

  # in the CronJob (reconcile runs it after the upgrade pull requests)
  addonsync backport --remote https://github.com/example-org/platform-addons.git \
    --github-token-file /var/run/secrets/github/token -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.complete(); err != nil {
				return err
			}
			return o.runBackport(cmd.Context())
		},
	}
	o.flags(cmd, "print what would be carried, push and open nothing")
	return cmd
}

func (o *remoteOptions) runBackport(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	_, results, err := o.executor().Run(ctx)
	if results == nil && err != nil {
		return gitAuthHint(o.Remote, err)
	}
	if perr := writeBackports(o.g.Out, o.Output, results); perr != nil {
		return perr
	}
	return errors.Join(gitAuthHint(o.Remote, err), backportErrors(results))
}

func backportErrors(results []backport.Result) error {
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			if errors.Is(r.Err, upgrade.ErrTokenRejected) {
				errs = append(errs, fmt.Errorf("backport of %s to %s: GitHub token rejected (401): check --github-token-file", r.Change.Commit.Short(), r.Branch))
				continue
			}
			errs = append(errs, fmt.Errorf("backport of %s to %s: %w", r.Change.Commit.Short(), r.Branch, r.Err))
		}
	}
	return errors.Join(errs...)
}

// backportRow is one result as -o json prints it.
type backportRow struct {
	Branch      string   `json:"branch"`
	Commit      string   `json:"commit"`
	Subject     string   `json:"subject"`
	Kind        string   `json:"kind"`
	Action      string   `json:"action"`
	Reason      string   `json:"reason,omitempty"`
	Outcome     string   `json:"outcome"`
	Head        string   `json:"head,omitempty"`
	PullRequest int      `json:"pullRequest,omitempty"`
	URL         string   `json:"url,omitempty"`
	Draft       bool     `json:"draft,omitempty"`
	Conflicts   []string `json:"conflicts,omitempty"`
	Error       string   `json:"error,omitempty"`
}

func backportRows(results []backport.Result) []backportRow {
	rows := make([]backportRow, len(results))
	for i, r := range results {
		rows[i] = backportRow{
			Branch: r.Branch, Commit: r.Change.Commit.SHA, Subject: r.Change.Commit.Subject(), Kind: r.Change.Kind.String(),
			Action: r.Action.String(), Reason: r.Reason, Outcome: r.Outcome.String(), Head: r.Head,
			PullRequest: r.PullRequest.Number, URL: r.PullRequest.URL, Draft: r.PullRequest.Draft, Error: r.Error,
		}
		for _, c := range r.Conflicts {
			rows[i].Conflicts = append(rows[i].Conflicts, fmt.Sprintf("%s (%s)", c.Path, c.Kind))
		}
	}
	return rows
}

func writeBackports(w io.Writer, f output.Format, results []backport.Result) error {
	rows := backportRows(results)
	if f.Structured() {
		return output.WriteStructured(w, f, map[string]any{"results": rows})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BRANCH\tCOMMIT\tCHANGE\tOUTCOME\tPULL REQUEST\tREASON")
	counts := map[string]int{}
	for _, r := range rows {
		pr, why := "-", r.Reason
		if r.URL != "" {
			pr = r.URL
		}
		if r.Draft {
			pr += " (draft: " + strings.Join(r.Conflicts, ", ") + ")"
		}
		if r.Error != "" {
			why = r.Error
		}
		fmt.Fprintf(tw, "%s\t%.12s\t%s\t%s\t%s\t%s\n", r.Branch, r.Commit, r.Subject, r.Outcome, pr, why)
		counts[r.Outcome]++
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "nothing to backport")
		return err
	}
	var parts []string
	for _, k := range []backport.Outcome{
		backport.OutcomeOpened, backport.OutcomeUpdated, backport.OutcomeUnchanged, backport.OutcomeClosed,
		backport.OutcomeEditedByPerson, backport.OutcomeSkipped, backport.OutcomeDryRun, backport.OutcomeFailed,
	} {
		if n := counts[k.String()]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	_, err := fmt.Fprintln(w, strings.Join(parts, ", "))
	return err
}

// backportStep is reconcile's backport step: it runs after the upgrade pull requests on
// shard 0, on the upgrade clone (fetched again).
func backportStep(g *GlobalOptions, remote, token, dir string, r upgrade.Renderer) *backport.Step {
	return &backport.Step{Options: backport.ExecutorOptions{
		Remote: git.RemoteOptions{URL: remote, Token: token, Dir: dir}, Renderer: r,
		Discover: upgrade.DiscoverOptions{Logger: g.Logger}, Logger: g.Logger, NewPullRequests: gitHubLifecycle(token),
	}}
}
