package upgrade

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

// body renders the add-on on every cluster that runs it, old and new, each cluster from its
// own branch: release-<minor> when it exists (with the bump applied to that branch's files,
// as the backport will replay it), else main. Then it builds the pull request body.
func (e *Executor) body(ctx context.Context, b Bump, st *branchState) (string, error) {
	newCfg, err := e.o.Load(st.newFS)
	if err != nil {
		return "", fmt.Errorf("add-on %q: config on %s: %w", b.Addon, st.branch, err)
	}
	clusters := clustersWith(st.mainCfg, b.Addon)
	diffs := make([]ClusterDiff, len(clusters))
	branchCfgs := map[string][2]*config.Config{}
	for i, cluster := range clusters {
		minor := st.mainCfg.Clusters[cluster].Spec.KubernetesVersion
		oldCfg, curCfg := st.mainCfg, newCfg
		if pair, ok := branchCfgs[minor]; ok {
			oldCfg, curCfg = pair[0], pair[1]
		} else if o, n, err := e.branchConfigs(b, st, minor); err != nil {
			diffs[i] = ClusterDiff{Cluster: cluster, KubernetesVersion: minor, Err: err.Error()}
			continue
		} else if o != nil {
			oldCfg, curCfg = o, n
			branchCfgs[minor] = [2]*config.Config{o, n}
		}
		if _, ok := curCfg.Clusters[cluster]; !ok {
			oldCfg, curCfg = st.mainCfg, newCfg // the cluster is not on its branch yet
		}
		oldA, oldErr := e.renderAddon(ctx, oldCfg, cluster, b.Addon)
		newA, newErr := e.renderAddon(ctx, curCfg, cluster, b.Addon)
		if newErr != nil {
			diffs[i] = ClusterDiff{Cluster: cluster, KubernetesVersion: minor, Err: newErr.Error()}
			continue
		}
		if oldErr != nil {
			e.log.Info("render of the current version failed; diffing against nothing", "addon", b.Addon, "cluster", cluster, "err", oldErr)
		}
		diffs[i] = DiffAddon(cluster, minor, oldA, newA)
	}
	return Body(b, diffs, e.o.BodyLimit), nil
}

// branchConfigs returns the config of release branch <prefix><minor> and that config with
// the bump applied (version and lock entry); nil, nil when the branch does not exist.
func (e *Executor) branchConfigs(b Bump, st *branchState, minor string) (*config.Config, *config.Config, error) {
	name := st.mainCfg.Repository.Spec.Branches.ReleasePrefix + minor
	head := e.repo.RemoteBranch(name)
	if head.IsZero() {
		return nil, nil, nil
	}
	fsys, err := e.repo.FS(head)
	if err != nil {
		return nil, nil, err
	}
	oldCfg, err := e.o.Load(fsys)
	if err != nil {
		return nil, nil, fmt.Errorf("branch %s: %w", name, err)
	}
	oldCfg.Ref, oldCfg.Revision = name, head.String()
	a, ok := oldCfg.Addons[b.Addon]
	if !ok || a.Spec.Chart == nil {
		return oldCfg, oldCfg, nil
	}
	data, err := fs.ReadFile(fsys, a.File)
	if err != nil {
		return nil, nil, fmt.Errorf("branch %s: %w", name, err)
	}
	edited, err := SetChartVersion(a.File, data, b.To)
	if err != nil {
		return nil, nil, fmt.Errorf("branch %s: %w", name, err)
	}
	files := map[string][]byte{a.File: edited}
	if lock, err := render.LoadLock(st.newFS); err == nil {
		for _, c := range lock.Charts {
			if c.Name == a.Spec.Chart.Name && c.Version == b.To && c.Source == a.Spec.Chart.Repository {
				branchLock, _ := fs.ReadFile(fsys, config.LockFile)
				if files[config.LockFile], err = AddLockEntry(branchLock, c); err != nil {
					return nil, nil, fmt.Errorf("branch %s: %w", name, err)
				}
			}
		}
	}
	newCfg, err := e.o.Load(overlay(fsys, files))
	if err != nil {
		return nil, nil, fmt.Errorf("branch %s with %s %s: %w", name, b.Addon, b.To, err)
	}
	newCfg.Ref = name
	return oldCfg, newCfg, nil
}

func (e *Executor) renderAddon(ctx context.Context, cfg *config.Config, cluster, addon string) (*render.Addon, error) {
	if e.o.Renderer == nil {
		return nil, errors.New("no renderer configured")
	}
	rc, err := e.o.Renderer.RenderCluster(ctx, cfg, cluster, render.RenderOptions{Addons: []string{addon}})
	if err != nil {
		return nil, err
	}
	for i := range rc.Addons {
		if rc.Addons[i].Name == addon {
			return &rc.Addons[i], nil
		}
	}
	return nil, fmt.Errorf("cluster %q: add-on %q not rendered", cluster, addon)
}

// upsertPR opens the pull request for want.Head, or updates the open one; labels are added
// where missing. It never opens a second pull request for a branch.
func (e *Executor) upsertPR(ctx context.Context, want PullRequest, labels []string) (PullRequest, Action, error) {
	gh := e.o.PullRequests
	if gh == nil {
		return PullRequest{}, ActionFailed, errors.New("no GitHub client configured")
	}
	open, err := gh.ListOpen(ctx, want.Head, want.Base)
	if err != nil {
		return PullRequest{}, ActionFailed, err
	}
	action := ActionUpdated
	var pr PullRequest
	if len(open) > 0 {
		pr = open[0]
	} else {
		pr, err = gh.Create(ctx, want)
		switch {
		case errors.Is(err, ErrPullRequestExists):
			// Opened by a concurrent run between our list and create: update that one.
			if open, err = gh.ListOpen(ctx, want.Head, want.Base); err != nil {
				return PullRequest{}, ActionFailed, err
			}
			if len(open) == 0 {
				return PullRequest{}, ActionFailed, fmt.Errorf("pull request %s -> %s: GitHub says one exists but lists none; run again", want.Head, want.Base)
			}
			pr = open[0]
		case err != nil:
			return PullRequest{}, ActionFailed, err
		default:
			action = ActionOpened
		}
	}
	if action == ActionUpdated {
		if pr.Title == want.Title && pr.Body == want.Body {
			action = ActionUnchanged
		} else if pr, err = gh.Edit(ctx, pr.Number, want.Title, want.Body); err != nil {
			return PullRequest{}, ActionFailed, err
		}
	}
	added, err := AddMissingLabels(ctx, gh, &pr, labels)
	if err != nil {
		return pr, ActionFailed, err
	}
	if added && action == ActionUnchanged {
		action = ActionUpdated
	}
	return pr, action, nil
}

// AddMissingLabels adds to pull request pr the labels it lacks, and records them in
// pr.Labels; added is false when it had them all.
func AddMissingLabels(ctx context.Context, gh PullRequests, pr *PullRequest, labels []string) (added bool, err error) {
	var missing []string
	for _, l := range labels {
		if !slices.Contains(pr.Labels, l) {
			missing = append(missing, l)
		}
	}
	if len(missing) == 0 {
		return false, nil
	}
	if err := gh.AddLabels(ctx, pr.Number, missing); err != nil {
		return false, err
	}
	pr.Labels = append(pr.Labels, missing...)
	return true, nil
}
