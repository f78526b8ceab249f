package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/git"
	"github.com/addonsync/addonsync/pkg/upgrade"
)

// Step is a stage a run performs after its clusters: the upgrade pull requests, backports.
type Step interface {
	// Name names the step in reports and errors, e.g. "upgrade pull requests".
	Name() string
	// Run performs the step; rep holds the clusters' results so far. Items are what it did;
	// the error is the step's own failure or the join of its items' errors.
	Run(ctx context.Context, rep *Report) ([]StepItem, error)
}

// StepItem is one thing a step did: a pull request opened, a commit cherry-picked.
type StepItem struct {
	// Subject is what the item is about, e.g. the add-on "cert-manager".
	Subject string
	// Change is what it proposes, e.g. "v1.15.0 -> v1.16.1".
	Change string
	// Action is what happened, e.g. "opened", "unchanged".
	Action string
	// URL links the result (a pull request); may be empty.
	URL string
	// Err is why the item failed.
	Err error
	// Detail is the step's own result for this item, e.g. an upgrade.Result.
	Detail any
}

// StepReport is the outcome of one step in a run.
type StepReport struct {
	// Step is the step's name.
	Step string
	// Items are what it did.
	Items []StepItem
	// Err is why it failed.
	Err error
}

// UpgradeStepName is the name of the UpgradeStep.
const UpgradeStepName = "upgrade pull requests"

// UpgradeStep opens or updates one upgrade pull request per add-on with a newer chart, as
// "addonsync upgrade pr" does, with a fresh upgrade.Executor per run. Its items' Detail is
// the upgrade.Result.
type UpgradeStep struct {
	// Remote is the config repo to clone, branch and push.
	Remote git.RemoteOptions
	// Renderer renders the old and new version for the pull request bodies.
	Renderer upgrade.Renderer
	// PullRequests opens and updates pull requests; when nil, NewPullRequests builds it from
	// the main branch's addonsync.yaml github settings.
	PullRequests upgrade.PullRequests
	// NewPullRequests builds the GitHub client from the main branch's addonsync.yaml.
	NewPullRequests func(spec config.GitHubSpec) (upgrade.PullRequests, error)
	// Explain, when set, turns a failed result into the error reported for it (default
	// `add-on "x": <cause>`).
	Explain func(upgrade.Result) error
	// Logger receives discovery and executor logs (default: discard).
	Logger *slog.Logger
}

var _ Step = (*UpgradeStep)(nil)

// Name returns UpgradeStepName.
func (s *UpgradeStep) Name() string { return UpgradeStepName }

// Run discovers, plans and proposes every actionable bump.
func (s *UpgradeStep) Run(ctx context.Context, _ *Report) ([]StepItem, error) {
	ex := upgrade.NewExecutor(upgrade.ExecutorOptions{
		Remote: s.Remote, Renderer: s.Renderer, PullRequests: s.PullRequests, NewPullRequests: s.NewPullRequests, Logger: s.Logger,
	})
	_, results, err := ex.Run(ctx, upgrade.DiscoverOptions{Logger: s.Logger}, nil)
	if errors.Is(err, git.ErrGitAuth) {
		err = fmt.Errorf("%s: git token rejected: check the GitHub token (it needs contents write access): %w", redactURL(s.Remote.URL), err)
	}
	errs := []error{err}
	items := make([]StepItem, len(results))
	for i, r := range results {
		items[i] = StepItem{
			Subject: r.Addon, Change: r.From + " -> " + r.To, Action: r.Action.String(),
			URL: r.PullRequest.URL, Detail: r,
		}
		if r.Err != nil {
			items[i].Err = s.explain(r)
			errs = append(errs, items[i].Err)
		}
	}
	return items, errors.Join(errs...)
}

func (s *UpgradeStep) explain(r upgrade.Result) error {
	if s.Explain != nil {
		return s.Explain(r)
	}
	return fmt.Errorf("add-on %q: %w", r.Addon, r.Err)
}

// redactURL hides the user info of a URL.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = url.User("REDACTED")
		return u.String()
	}
	return s
}
