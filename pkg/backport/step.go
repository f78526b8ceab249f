package backport

import (
	"context"
	"errors"
	"fmt"

	"github.com/addonsync/addonsync/pkg/git"
	"github.com/addonsync/addonsync/pkg/reconcile"
)

// StepName is the name of the Step in reconcile reports.
const StepName = "backports"

// Step carries main's merged changes to the release branches as a reconcile step, after
// the upgrade pull requests; a fresh Executor runs per reconcile. Its items' Detail is the
// Result. Items that were skipped (nothing to do) are left out.
type Step struct {
	// Options configure the executor of each run.
	Options ExecutorOptions
}

var _ reconcile.Step = (*Step)(nil)

// Name returns StepName.
func (s *Step) Name() string { return StepName }

// Run plans and carries out the backports.
func (s *Step) Run(ctx context.Context, _ *reconcile.Report) ([]reconcile.StepItem, error) {
	_, results, err := NewExecutor(s.Options).Run(ctx)
	if errors.Is(err, git.ErrGitAuth) {
		err = fmt.Errorf("git token rejected: check the GitHub token (it needs contents write access): %w", err)
	}
	errs := []error{err}
	var items []reconcile.StepItem
	for _, r := range results {
		if r.Outcome == OutcomeSkipped {
			continue
		}
		it := reconcile.StepItem{
			Subject: r.Branch, Change: fmt.Sprintf("%s %s", r.Change.Commit.Short(), r.Change.Commit.Subject()),
			Action: r.Outcome.String(), URL: r.PullRequest.URL, Detail: r,
		}
		if r.Err != nil {
			it.Err = fmt.Errorf("backport of %s to %s: %w", r.Change.Commit.Short(), r.Branch, r.Err)
			errs = append(errs, it.Err)
		}
		items = append(items, it)
	}
	return items, errors.Join(errs...)
}
