package upgrade

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/git"
	"github.com/addonsync/addonsync/pkg/render"
)

// TrailerKey is the commit trailer addonsync writes on upgrade commits:
// "Addonsync-Upgrade: <addon> <old> -> <new>".
const TrailerKey = "Addonsync-Upgrade"

// Renderer renders one cluster; *render.Renderer implements it.
type Renderer interface {
	RenderCluster(ctx context.Context, cfg *config.Config, cluster string, opts render.RenderOptions) (*render.Cluster, error)
}

// Action is what the executor did for one add-on.
type Action string

// Actions of a Result.
const (
	// ActionOpened: a branch was pushed and a pull request opened.
	ActionOpened Action = "opened"
	// ActionUpdated: the branch and/or the open pull request were updated.
	ActionUpdated Action = "updated"
	// ActionUnchanged: the branch and pull request already propose this version.
	ActionUnchanged Action = "unchanged"
	// ActionEditedByPerson: the upgrade branch has commits addonsync did not make; left alone.
	ActionEditedByPerson Action = "edited by a person"
	// ActionClosed: main already has the version; the open pull request was closed with a
	// comment and its branch deleted.
	ActionClosed Action = "closed"
	// ActionDryRun: nothing was pushed or written to GitHub.
	ActionDryRun Action = "dry-run"
	// ActionFailed: see Result.Err.
	ActionFailed Action = "failed"
)

// String returns the action as printed.
func (a Action) String() string { return string(a) }

// Result is the outcome for one add-on.
type Result struct {
	// Addon name.
	Addon string
	// From and To are the versions.
	From, To string
	// Branch is the upgrade branch.
	Branch string
	// Action is what happened.
	Action Action
	// Commit is the upgrade branch's head after the run.
	Commit string
	// Pushed is true when the branch was pushed in this run.
	Pushed bool
	// PullRequest is the opened or updated pull request (Number 0 in a dry run).
	PullRequest PullRequest
	// FileDiff is the unified diff of addon.yaml.
	FileDiff string
	// Err is set for ActionFailed.
	Err error
}

// ExecutorOptions configure an Executor.
type ExecutorOptions struct {
	// Remote is the config repo to clone, branch and push.
	Remote git.RemoteOptions
	// PullRequests opens and updates pull requests; unused in a dry run.
	PullRequests PullRequests
	// NewPullRequests, when PullRequests is nil, builds it from the main branch's
	// addonsync.yaml github settings once the repo is open.
	NewPullRequests func(spec config.GitHubSpec) (PullRequests, error)
	// Renderer renders the old and new version for the pull request body.
	Renderer Renderer
	// Load reads a config tree (default config.Load).
	Load func(fs.FS) (*config.Config, error)
	// DryRun computes commits and pull requests without pushing or writing to GitHub.
	DryRun bool
	// PushAttempts bounds fetch-commit-push rounds when a push is rejected (default 3).
	PushAttempts int
	// BodyLimit is the maximum pull request body length (default MaxBodyLength).
	BodyLimit int
	// Now returns the time (default time.Now).
	Now func() time.Time
	// Logger receives progress (default: discard).
	Logger *slog.Logger
}

// DefaultExecutorOptions returns the defaults for the optional fields.
func DefaultExecutorOptions() ExecutorOptions {
	return ExecutorOptions{
		Load: config.Load, PushAttempts: 3, BodyLimit: MaxBodyLength, Now: time.Now,
		Logger: slog.New(slog.DiscardHandler),
	}
}

// Executor turns bumps into branches, commits and pull requests.
type Executor struct {
	o    ExecutorOptions
	log  *slog.Logger
	repo *git.Repository
}

// NewExecutor returns an Executor; zero optional fields take their defaults.
func NewExecutor(o ExecutorOptions) *Executor {
	d := DefaultExecutorOptions()
	if o.Load == nil {
		o.Load = d.Load
	}
	if o.PushAttempts <= 0 {
		o.PushAttempts = d.PushAttempts
	}
	if o.BodyLimit <= 0 {
		o.BodyLimit = d.BodyLimit
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	return &Executor{o: o, log: o.Logger}
}

// Open fetches the config repo and returns the config of its main branch and its release
// branches.
func (e *Executor) Open(ctx context.Context) (*config.Config, []Branch, error) {
	repo, err := git.OpenRemote(ctx, e.o.Remote)
	if err != nil {
		return nil, nil, err
	}
	e.repo = repo
	cfg, _, _, err := e.loadMain()
	if err != nil {
		return nil, nil, err
	}
	if e.o.PullRequests == nil && e.o.NewPullRequests != nil && !e.o.DryRun {
		if e.o.PullRequests, err = e.o.NewPullRequests(cfg.Repository.Spec.GitHub); err != nil {
			return nil, nil, err
		}
	}
	names, err := repo.Branches()
	if err != nil {
		return nil, nil, fmt.Errorf("git %s: list branches: %w", e.o.Remote.URL, err)
	}
	return cfg, ReleaseBranches(names, cfg.Repository.Spec.Branches.ReleasePrefix), nil
}

// loadMain loads the config at origin's main branch. The main branch name comes from the
// config itself, so "main" is tried first and the configured name after.
func (e *Executor) loadMain() (*config.Config, fs.FS, git.Hash, error) {
	main := "main"
	for range 2 {
		head := e.repo.RemoteBranch(main)
		if head.IsZero() {
			return nil, nil, head, fmt.Errorf("git %s: branch %q not found: push the config repo's main branch first", e.o.Remote.URL, main)
		}
		fsys, err := e.repo.FS(head)
		if err != nil {
			return nil, nil, head, err
		}
		cfg, err := e.o.Load(fsys)
		if err != nil {
			return nil, nil, head, fmt.Errorf("%s at %s: %w", main, head.String()[:12], err)
		}
		if m := cfg.Repository.Spec.Branches.Main; m != "" && m != main {
			main = m
			continue
		}
		cfg.Ref, cfg.Revision = main, head.String()
		return cfg, fsys, head, nil
	}
	return nil, nil, "", fmt.Errorf("git %s: main branch name does not settle", e.o.Remote.URL)
}

// Apply proposes one bump: it commits and pushes the upgrade branch (retrying with a fresh
// fetch when the push is rejected) and opens or updates its pull request.
func (e *Executor) Apply(ctx context.Context, b Bump) Result {
	res := Result{Addon: b.Addon, From: b.From, To: b.To}
	if e.repo == nil {
		if _, _, err := e.Open(ctx); err != nil {
			return failed(res, err)
		}
	}
	var st *branchState
	for attempt := 1; ; attempt++ {
		var err error
		st, err = e.prepare(ctx, b)
		if err != nil {
			return failed(res, err)
		}
		res.Branch, res.FileDiff, res.From = st.branch, st.fileDiff, st.from
		if st.current {
			res.Action = ActionUnchanged
			e.log.Info("main already has this version or a newer one", "addon", b.Addon, "version", st.from)
			return e.closeMoot(ctx, res, st)
		}
		if st.edited {
			res.Action, res.Commit = ActionEditedByPerson, st.remote.String()
			e.log.Info("upgrade branch edited by a person; leaving it", "addon", b.Addon, "branch", st.branch)
			if lc, ok := e.o.PullRequests.(LifecyclePullRequests); ok && !e.o.DryRun {
				if err := SayEdited(ctx, lc, st.branch, st.main); err != nil {
					return failed(res, err)
				}
			}
			return res
		}
		if !st.push || e.o.DryRun {
			break
		}
		err = e.repo.Push(ctx, st.branch, st.commit, st.remote)
		if err == nil {
			res.Pushed = true
			break
		}
		if errors.Is(err, git.ErrGitAuth) || ctx.Err() != nil || attempt >= e.o.PushAttempts {
			return failed(res, fmt.Errorf("add-on %q: %w", b.Addon, err))
		}
		e.log.Info("push rejected; fetching and retrying", "addon", b.Addon, "attempt", attempt, "err", err)
		if err := e.repo.Fetch(ctx); err != nil {
			return failed(res, err)
		}
	}
	res.Commit = st.commit.String()
	title := Title(b.Addon, st.from, b.To)
	body, err := e.body(ctx, b, st)
	if err != nil {
		return failed(res, err)
	}
	res.PullRequest = PullRequest{Title: title, Body: body, Head: st.branch, Base: st.main}
	if e.o.DryRun {
		res.Action = ActionDryRun
		return res
	}
	pr, action, err := e.upsertPR(ctx, res.PullRequest, st.labels)
	if err != nil {
		return failed(res, err)
	}
	res.PullRequest = pr
	res.Action = action
	if res.Pushed && action == ActionUnchanged {
		res.Action = ActionUpdated
	}
	return res
}

// closeMoot closes the open upgrade pull request of an add-on whose version main already
// has (or passed), with a comment saying so, and deletes its branch.
func (e *Executor) closeMoot(ctx context.Context, res Result, st *branchState) Result {
	lc, ok := e.o.PullRequests.(LifecyclePullRequests)
	if !ok || e.o.DryRun || e.repo.RemoteBranch(st.branch).IsZero() {
		return res
	}
	reason := fmt.Sprintf("%s already has add-on %s at %s, so this upgrade is superseded", st.main, res.Addon, st.from)
	pr, closed, err := ClosePullRequest(ctx, lc, st.branch, st.main, reason)
	if err != nil {
		return failed(res, err)
	}
	if closed {
		res.Action, res.PullRequest = ActionClosed, pr
	}
	return res
}

func failed(res Result, err error) Result {
	res.Action, res.Err = ActionFailed, err
	return res
}

// branchState is what prepare found and built for one add-on.
type branchState struct {
	main, branch string
	from         string
	mainCfg      *config.Config
	newFS        fs.FS
	remote       git.Hash // origin's upgrade branch before the push (zero: none)
	commit       git.Hash // the branch head to have
	push         bool     // commit differs from remote
	edited       bool     // remote has commits not made by addonsync
	current      bool     // main already has the version or a newer one
	fileDiff     string
	labels       []string
}

// prepare reads main and the upgrade branch and builds the upgrade commit when the branch
// does not already carry exactly this bump on top of main's files.
func (e *Executor) prepare(ctx context.Context, b Bump) (*branchState, error) {
	cfg, mainFS, mainHead, err := e.loadMain()
	if err != nil {
		return nil, err
	}
	addon, ok := cfg.Addons[b.Addon]
	if !ok || addon.Spec.Chart == nil {
		return nil, fmt.Errorf("add-on %q: not found with a chart on %s", b.Addon, cfg.Ref)
	}
	spec := cfg.Repository.Spec
	st := &branchState{
		main: cfg.Ref, branch: spec.Branches.UpgradePrefix + b.Addon, from: addon.Spec.Chart.Version,
		mainCfg: cfg, labels: spec.GitHub.Labels,
	}
	if !newer(b.To, st.from) {
		st.current = true
		return st, nil
	}
	st.remote = e.repo.RemoteBranch(st.branch)
	files, err := e.editFiles(ctx, mainFS, addon, b)
	if err != nil {
		return nil, err
	}
	st.newFS = overlay(mainFS, files)
	if st.fileDiff, err = fileDiff(mainFS, st.newFS, addon.File); err != nil {
		return nil, err
	}
	trailerWant := fmt.Sprintf("%s %s -> %s", b.Addon, st.from, b.To)
	if !st.remote.IsZero() {
		upToDate, edited, err := e.inspectBranch(st.remote, mainHead, spec.Commit.Email, trailerWant, files)
		if err != nil {
			return nil, fmt.Errorf("branch %s: %w", st.branch, err)
		}
		if edited || upToDate {
			st.edited, st.commit = edited, st.remote
			return st, nil
		}
	}
	msg := fmt.Sprintf("%s\n\nBump chart %s of add-on %s from %s to %s.\n\n%s: %s\n",
		Title(b.Addon, st.from, b.To), addon.Spec.Chart.Name, b.Addon, st.from, b.To, TrailerKey, trailerWant)
	st.commit, err = e.repo.WriteCommit(mainHead, files, msg, git.Signature{Name: spec.Commit.Name, Email: spec.Commit.Email, When: e.o.Now()})
	if err != nil {
		return nil, fmt.Errorf("add-on %q: commit: %w", b.Addon, err)
	}
	st.push = st.commit != st.remote
	return st, nil
}

// inspectBranch looks at the commits of an existing upgrade branch that main lacks: edited
// when one was not made by addonsync (author email and trailer); upToDate when the newest
// carries trailer and the branch's files equal files (so a main that moved elsewhere does
// not cause a push).
func (e *Executor) inspectBranch(head, mainHead git.Hash, email, trailerWant string, files map[string][]byte) (upToDate, edited bool, err error) {
	commits, err := e.repo.Log(head, mainHead, 100)
	if err != nil {
		return false, false, err
	}
	for _, c := range commits {
		if c.Trailer(TrailerKey) == "" || c.Author.Email != email {
			return false, true, nil
		}
	}
	if len(commits) == 0 || commits[0].Trailer(TrailerKey) != trailerWant {
		return false, false, nil
	}
	branchFS, err := e.repo.FS(head)
	if err != nil {
		return false, false, err
	}
	for p, want := range files {
		if got, err := fs.ReadFile(branchFS, p); err != nil || !bytes.Equal(got, want) {
			return false, false, nil
		}
	}
	return true, false, nil
}

// newer reports whether version a is above b; unparsable versions compare as strings.
func newer(a, b string) bool {
	va, errA := semver.NewVersion(a)
	vb, errB := semver.NewVersion(b)
	if errA != nil || errB != nil {
		return a != b
	}
	return va.GreaterThan(vb)
}

// editFiles returns the new addon.yaml and addonsync.lock for a bump.
func (e *Executor) editFiles(ctx context.Context, mainFS fs.FS, addon *config.Addon, b Bump) (map[string][]byte, error) {
	data, err := fs.ReadFile(mainFS, addon.File)
	if err != nil {
		return nil, fmt.Errorf("add-on %q: %w", b.Addon, err)
	}
	edited, err := SetChartVersion(addon.File, data, b.To)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{addon.File: edited}
	digest := b.Target.Digest
	if digest == "" {
		// The source does not publish digests: render the new version once to pull it.
		newCfg, err := e.o.Load(overlay(mainFS, files))
		if err != nil {
			return nil, fmt.Errorf("add-on %q: new config: %w", b.Addon, err)
		}
		if digest, err = e.renderedDigest(ctx, newCfg, b.Addon); err != nil {
			return nil, err
		}
	}
	lock, err := fs.ReadFile(mainFS, config.LockFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	chart := addon.Spec.Chart
	if files[config.LockFile], err = AddLockEntry(lock, config.LockedChart{Source: chart.Repository, Name: chart.Name, Version: b.To, Digest: digest}); err != nil {
		return nil, err
	}
	return files, nil
}

func (e *Executor) renderedDigest(ctx context.Context, cfg *config.Config, addon string) (string, error) {
	var errs []error
	for _, cluster := range clustersWith(cfg, addon) {
		rc, err := e.o.Renderer.RenderCluster(ctx, cfg, cluster, render.RenderOptions{Addons: []string{addon}})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, a := range rc.Addons {
			if a.Name == addon && a.Chart != nil && a.Chart.Digest != "" {
				return a.Chart.Digest, nil
			}
		}
	}
	return "", fmt.Errorf("add-on %q: no digest for the new chart version: %w", addon, errors.Join(errs...))
}

// clustersWith returns the clusters of cfg that run addon, sorted.
func clustersWith(cfg *config.Config, addon string) []string {
	var out []string
	for _, name := range cfg.ClusterNames() {
		for _, a := range cfg.Clusters[name].Spec.Addons {
			if a.Name == addon {
				out = append(out, name)
			}
		}
	}
	return out
}

func fileDiff(oldFS, newFS fs.FS, file string) (string, error) {
	a, err := fs.ReadFile(oldFS, file)
	if err != nil {
		return "", err
	}
	b, err := fs.ReadFile(newFS, file)
	if err != nil {
		return "", err
	}
	return unifiedDiff(file, string(a), string(b)), nil
}

// Run opens the config repo, discovers upstream versions of the add-ons (all when addons is
// empty), plans, and applies every actionable bump. It returns the plan and one Result per
// applied bump; discovery failures are joined in the error.
func (e *Executor) Run(ctx context.Context, do DiscoverOptions, addons []string) ([]Bump, []Result, error) {
	cfg, branches, err := e.Open(ctx)
	if err != nil {
		return nil, nil, err
	}
	current := CurrentOf(cfg)
	if len(addons) > 0 {
		current = slices.DeleteFunc(current, func(c Current) bool { return !slices.Contains(addons, c.Addon) })
	}
	do.Repositories = cfg.Repository.Spec.Repositories
	avail, errs := NewDiscoverer(do).DiscoverAll(ctx, current)
	bumps := Plan(current, avail, branches, e.o.Now())
	var results []Result
	for _, b := range bumps {
		switch {
		case b.Actionable():
			results = append(results, e.Apply(ctx, b))
		case b.Status == StatusUpToDate:
			// An upgrade pull request left open for a version main now has is moot.
			st := &branchState{main: cfg.Ref, branch: cfg.Repository.Spec.Branches.UpgradePrefix + b.Addon, from: b.From}
			if r := e.closeMoot(ctx, Result{Addon: b.Addon, From: b.From, Branch: st.branch, Action: ActionUnchanged}, st); r.Action != ActionUnchanged {
				results = append(results, r)
			}
		}
	}
	return bumps, results, errors.Join(errs...)
}
