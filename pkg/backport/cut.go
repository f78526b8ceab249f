package backport

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/addonsync/addonsync/pkg/render"
	"github.com/addonsync/addonsync/pkg/upgrade"
)

// NotAdmittedError is returned by Cut when an add-on's chart does not admit the minor.
type NotAdmittedError struct {
	Addon, Chart, Version, KubeVersion, Minor string
}

func (e *NotAdmittedError) Error() string {
	return fmt.Sprintf("add-on %q: chart %s %s requires Kubernetes %q, which excludes %s: upgrade the add-on on main first", e.Addon, e.Chart, e.Version, e.KubeVersion, e.Minor)
}

// Errors of Cut callers branch on (with NotAdmittedError).
var (
	ErrBranchExists = errors.New("branch already exists: nothing to cut")
	ErrNotMinor     = errors.New("want <major>.<minor>, e.g. 1.35")
)

// CutResult is a created release branch.
type CutResult struct {
	// Branch is the new branch, Commit the main commit it starts at.
	Branch string `json:"branch"`
	Commit string `json:"commit"`
	// Checked lists "<addon> <chart> <version>" admitted by the minor.
	Checked []string `json:"checked"`
	// Rendered lists the clusters rendered with the minor.
	Rendered []string `json:"rendered"`
	// Pushed is false in a dry run.
	Pushed bool `json:"pushed"`
}

// Cut creates release branch <prefix><minor> at main after checking that every add-on's
// chart admits the minor (its kubeVersion) and that every cluster renders for it with no
// API the minor no longer serves. An existing branch is an error.
func (e *Executor) Cut(ctx context.Context, minor string) (CutResult, error) {
	if !isMinor(minor) {
		return CutResult{}, fmt.Errorf("minor %q: %w", minor, ErrNotMinor)
	}
	if err := e.open(ctx); err != nil {
		return CutResult{}, err
	}
	name := e.spec.Branches.ReleasePrefix + minor
	res := CutResult{Branch: name, Commit: e.main.head.String()}
	if !e.repo.RemoteBranch(name).IsZero() {
		return res, fmt.Errorf("%s: %w", name, ErrBranchExists)
	}
	checked, err := e.checkCharts(ctx, minor)
	res.Checked = checked
	if err != nil {
		return res, err
	}
	if res.Rendered, err = e.renderFor(ctx, minor); err != nil {
		return res, err
	}
	if e.o.DryRun {
		return res, nil
	}
	if err := e.repo.Push(ctx, name, e.main.head, ""); err != nil {
		return res, err
	}
	res.Pushed = true
	return res, nil
}

// checkCharts reads each chart version's kubeVersion from its repository.
func (e *Executor) checkCharts(ctx context.Context, minor string) ([]string, error) {
	do := e.o.Discover
	do.Repositories = e.spec.Repositories
	d := upgrade.NewDiscoverer(do)
	var checked []string
	var errs []error
	for _, name := range e.main.cfg.AddonNames() {
		ch := e.main.cfg.Addons[name].Spec.Chart
		if ch == nil || ch.Repository == "" {
			continue
		}
		avail, err := d.Versions(ctx, ch.Repository, ch.Name, "")
		if err != nil {
			errs = append(errs, fmt.Errorf("add-on %q: %w", name, err))
			continue
		}
		i := slices.IndexFunc(avail, func(a upgrade.Available) bool { return a.Version == ch.Version })
		if i < 0 {
			errs = append(errs, fmt.Errorf("add-on %q: chart %s %s not found in %s", name, ch.Name, ch.Version, ch.Repository))
			continue
		}
		if !upgrade.KubeVersionAdmits(avail[i].KubeVersion, minor) {
			errs = append(errs, &NotAdmittedError{Addon: name, Chart: ch.Name, Version: ch.Version, KubeVersion: avail[i].KubeVersion, Minor: minor})
			continue
		}
		checked = append(checked, fmt.Sprintf("%s %s %s", name, ch.Name, ch.Version))
	}
	return checked, errors.Join(errs...)
}

// renderFor renders every cluster of main as if it ran minor; render errors (removed APIs,
// a chart refusing the version) name the cluster and add-on.
func (e *Executor) renderFor(ctx context.Context, minor string) ([]string, error) {
	if e.o.Renderer == nil {
		return nil, errors.New("no renderer configured")
	}
	cfg := *e.main.cfg
	cfg.Clusters = maps.Clone(cfg.Clusters)
	var rendered []string
	var errs []error
	for _, name := range cfg.ClusterNames() {
		c := *cfg.Clusters[name]
		c.Spec.KubernetesVersion = minor
		cfg.Clusters[name] = &c
		if _, err := e.o.Renderer.RenderCluster(ctx, &cfg, name, render.RenderOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("render as Kubernetes %s: %w", minor, err))
			continue
		}
		rendered = append(rendered, name)
	}
	return rendered, errors.Join(errs...)
}

func isMinor(s string) bool {
	return len(upgrade.ReleaseBranches([]string{"x" + s}, "x")) == 1
}

// BranchStatus is a release branch, the clusters that render from it and the backports
// it lacks.
type BranchStatus struct {
	Branch            string   `json:"branch"`
	KubernetesVersion string   `json:"kubernetesVersion"`
	Clusters          []string `json:"clusters"`
	// Lacks are the pending items: changes of main the branch should get.
	Lacks []Item `json:"lacks"`
	// Skipped are changes that do not suit the branch, with the reason.
	Skipped []Item `json:"skipped"`
}

// Status plans without doing anything and reports each release branch.
func (e *Executor) Status(ctx context.Context) ([]BranchStatus, error) {
	items, err := e.Plan(ctx)
	if e.main == nil {
		return nil, err
	}
	names, lerr := e.repo.Branches()
	if lerr != nil {
		return nil, lerr
	}
	var out []BranchStatus
	for _, rb := range upgrade.ReleaseBranches(names, e.spec.Branches.ReleasePrefix) {
		if e.repo.RemoteBranch(rb.Name).IsZero() {
			continue
		}
		st := BranchStatus{Branch: rb.Name, KubernetesVersion: rb.KubernetesVersion, Clusters: []string{}, Lacks: []Item{}, Skipped: []Item{}}
		for _, c := range e.main.cfg.ClusterNames() {
			if e.main.cfg.Clusters[c].Spec.KubernetesVersion == rb.KubernetesVersion {
				st.Clusters = append(st.Clusters, c)
			}
		}
		for _, it := range items {
			switch {
			case it.Branch != rb.Name:
			case it.Pending():
				st.Lacks = append(st.Lacks, it)
			case it.Action == ActionSkip:
				st.Skipped = append(st.Skipped, it)
			}
		}
		out = append(out, st)
	}
	return out, err
}
