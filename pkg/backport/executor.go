package backport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"time"

	"github.com/addonsync/addonsync/internal/diff3"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/git"
	"github.com/addonsync/addonsync/pkg/upgrade"
)

// BranchPrefix prefixes backport branches: addonsync/backport/<release-branch>/<short-sha>.
const BranchPrefix = "addonsync/backport/"

// BranchName is the backport branch of a main commit for a release branch.
func BranchName(release, sha string) string { return BranchPrefix + release + "/" + short(sha) }

// Repo is the git the executor needs; *git.Repository implements it.
type Repo interface {
	git.Reader
	git.Writer
	git.Remote
}

// PullRequests is the GitHub the executor needs; *upgrade.GitHubPullRequests implements it.
type PullRequests = upgrade.LifecyclePullRequests

// ExecutorOptions configure an Executor.
type ExecutorOptions struct {
	// Remote is the config repo to clone, branch and push.
	Remote git.RemoteOptions
	// OpenRepo opens Remote (default git.OpenRemote).
	OpenRepo func(ctx context.Context, o git.RemoteOptions) (Repo, error)
	// PullRequests opens, updates and closes pull requests; unused in a dry run.
	PullRequests PullRequests
	// NewPullRequests, when PullRequests is nil, builds it from main's addonsync.yaml.
	NewPullRequests func(spec config.GitHubSpec) (PullRequests, error)
	// Renderer renders each release branch's clusters for the pull request body.
	Renderer upgrade.Renderer
	// Discover reads the new charts' kubeVersion and digest (Repositories are taken
	// from main's addonsync.yaml).
	Discover upgrade.DiscoverOptions
	// Load reads a config tree (default config.Load).
	Load func(fs.FS) (*config.Config, error)
	// DryRun plans and builds commits without pushing or writing to GitHub.
	DryRun bool
	// BodyLimit is the maximum pull request body length (default upgrade.MaxBodyLength).
	BodyLimit int
	// LogLimit bounds the commits read per branch (default 500).
	LogLimit int
	// Now returns the time (default time.Now).
	Now func() time.Time
	// Progress, when set, is called with each result as soon as it is done.
	Progress func(Result)
	// Logger receives progress (default: discard).
	Logger *slog.Logger
}

// DefaultExecutorOptions returns the defaults for the optional fields.
func DefaultExecutorOptions() ExecutorOptions {
	return ExecutorOptions{
		OpenRepo: func(ctx context.Context, o git.RemoteOptions) (Repo, error) { return git.OpenRemote(ctx, o) },
		Load:     config.Load, BodyLimit: upgrade.MaxBodyLength, LogLimit: 500, Now: time.Now,
		Logger: slog.New(slog.DiscardHandler),
	}
}

// Outcome is what the executor did for one item.
type Outcome string

// Outcomes of a Result.
const (
	OutcomeOpened    Outcome = "opened"
	OutcomeUpdated   Outcome = "updated"
	OutcomeUnchanged Outcome = "unchanged"
	// OutcomeEditedByPerson: the backport branch has a commit addonsync did not make; left
	// alone, and said so on the pull request.
	OutcomeEditedByPerson Outcome = "edited by a person"
	// OutcomeSkipped: the item was not pending (see Item.Reason).
	OutcomeSkipped Outcome = "skipped"
	// OutcomeClosed: an open backport pull request was closed (see Item.Reason).
	OutcomeClosed Outcome = "closed"
	OutcomeDryRun Outcome = "dry-run"
	OutcomeFailed Outcome = "failed"
)

// String returns the outcome as printed.
func (o Outcome) String() string { return string(o) }

// Result is the outcome for one change on one release branch.
type Result struct {
	Item
	// Head is the backport branch.
	Head string `json:"head,omitempty"`
	// Outcome is what happened.
	Outcome Outcome `json:"outcome"`
	// Commit is the backport branch's head after the run.
	Commit string `json:"commit,omitempty"`
	// Pushed is true when the branch was pushed in this run.
	Pushed bool `json:"pushed,omitempty"`
	// PullRequest is the opened, updated or closed pull request.
	PullRequest upgrade.PullRequest `json:"pullRequest,omitzero"`
	// Conflicts lists the files a cherry-pick left with conflicts (a draft pull request).
	Conflicts []diff3.FileConflict `json:"conflicts,omitempty"`
	// Err is set for OutcomeFailed.
	Err error `json:"-"`
	// Error is Err's text, for JSON.
	Error string `json:"error,omitempty"`
}

// Executor carries changes of main to release branches as pull requests.
type Executor struct {
	o    ExecutorOptions
	log  *slog.Logger
	repo Repo
	main *branchTree
	spec config.RepositorySpec
	// digests of the new chart versions, by Key.
	digests map[string]string
}

// NewExecutor returns an Executor; zero optional fields take their defaults.
func NewExecutor(o ExecutorOptions) *Executor {
	d := DefaultExecutorOptions()
	if o.OpenRepo == nil {
		o.OpenRepo = d.OpenRepo
	}
	if o.Load == nil {
		o.Load = d.Load
	}
	if o.BodyLimit <= 0 {
		o.BodyLimit = d.BodyLimit
	}
	if o.LogLimit <= 0 {
		o.LogLimit = d.LogLimit
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	return &Executor{o: o, log: o.Logger}
}

// branchTree is a branch head with its config.
type branchTree struct {
	name string
	head git.Hash
	fsys fs.FS
	cfg  *config.Config
}

// Run fetches the config repo, plans the backports of main's changes to every release
// branch and carries out every item: a pull request per pending item, closing those
// whose change no longer needs one. Failures of single items are in their Result.
func (e *Executor) Run(ctx context.Context) ([]Item, []Result, error) {
	if err := e.open(ctx); err != nil {
		return nil, nil, err
	}
	changes, branches, err := e.gather()
	if err != nil {
		return nil, nil, err
	}
	kube, errs := e.kubeVersions(ctx, changes)
	items := Plan(changes, branches, kube)
	results := make([]Result, 0, len(items))
	for _, it := range items {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		r := e.apply(ctx, it)
		if e.o.Progress != nil {
			e.o.Progress(r)
		}
		results = append(results, r)
	}
	return items, results, errors.Join(errs...)
}

// Plan fetches the config repo and returns the plan without carrying it out.
func (e *Executor) Plan(ctx context.Context) ([]Item, error) {
	if err := e.open(ctx); err != nil {
		return nil, err
	}
	changes, branches, err := e.gather()
	if err != nil {
		return nil, err
	}
	kube, errs := e.kubeVersions(ctx, changes)
	return Plan(changes, branches, kube), errors.Join(errs...)
}

func (e *Executor) open(ctx context.Context) error {
	repo, err := e.o.OpenRepo(ctx, e.o.Remote)
	if err != nil {
		return err
	}
	e.repo = repo
	if e.main, err = e.loadMain(); err != nil {
		return err
	}
	e.spec = e.main.cfg.Repository.Spec
	if e.o.PullRequests == nil && e.o.NewPullRequests != nil && !e.o.DryRun {
		if e.o.PullRequests, err = e.o.NewPullRequests(e.spec.GitHub); err != nil {
			return err
		}
	}
	return nil
}

// loadMain loads origin's main branch ("main", or the name its addonsync.yaml gives).
func (e *Executor) loadMain() (*branchTree, error) {
	name := "main"
	for range 2 {
		bt, err := e.loadBranch(name)
		if err != nil {
			return nil, err
		}
		if m := bt.cfg.MainBranch(); m != "" && m != name {
			name = m
			continue
		}
		return bt, nil
	}
	return nil, fmt.Errorf("git %s: main branch name does not settle", e.o.Remote.URL)
}

func (e *Executor) loadBranch(name string) (*branchTree, error) {
	head := e.repo.RemoteBranch(name)
	if head.IsZero() {
		return nil, fmt.Errorf("git %s: branch %q not found", e.o.Remote.URL, name)
	}
	fsys, err := e.repo.FS(head)
	if err != nil {
		return nil, err
	}
	cfg, err := e.o.Load(fsys)
	if err != nil {
		return nil, fmt.Errorf("branch %s at %s: %w", name, head.Short(), err)
	}
	cfg.Ref, cfg.Revision = name, head.String()
	return &branchTree{name: name, head: head, fsys: fsys, cfg: cfg}, nil
}

// gather reads, per release branch, the main commits it lacks and what it carries, and
// returns the changes (oldest first) and the branches for Plan.
func (e *Executor) gather() ([]Change, []Branch, error) {
	names, err := e.repo.Branches()
	if err != nil {
		return nil, nil, fmt.Errorf("git %s: list branches: %w", e.o.Remote.URL, err)
	}
	var changes []Change
	seen := map[string]bool{}
	var branches []Branch
	for _, rb := range upgrade.ReleaseBranches(names, e.spec.Branches.ReleasePrefix) {
		if e.repo.RemoteBranch(rb.Name).IsZero() {
			continue // a local branch only
		}
		bt, err := e.loadBranch(rb.Name)
		if err != nil {
			return nil, nil, err
		}
		lacks, err := e.repo.Log(e.main.head, bt.head, e.o.LogLimit)
		if err != nil {
			return nil, nil, err
		}
		own, err := e.repo.Log(bt.head, e.main.head, e.o.LogLimit)
		if err != nil {
			return nil, nil, err
		}
		br := Branch{Name: rb.Name, KubernetesVersion: rb.KubernetesVersion, Carried: map[string]bool{}, Versions: map[string]string{}}
		for _, c := range own {
			for _, sha := range CarriedBy(c.Message) {
				br.Carried[sha] = true
			}
		}
		for name, a := range bt.cfg.Addons {
			if a.Spec.Chart != nil {
				br.Versions[name] = a.Spec.Chart.Version
			}
		}
		lacking := map[string]bool{}
		for _, c := range slices.Backward(lacks) {
			lacking[c.Hash.String()] = true
			if seen[c.Hash.String()] {
				continue
			}
			msg, err := e.mergedMessage(c)
			if err != nil {
				return nil, nil, err
			}
			if ch, ok := ParseChange(Commit{SHA: c.Hash.String(), Message: msg}); ok {
				seen[ch.Commit.SHA] = true
				changes = append(changes, ch)
			}
		}
		br.lacking = lacking
		branches = append(branches, br)
	}
	// A change the branch does not lack is on it (the branch was cut after it).
	for i := range branches {
		for _, ch := range changes {
			if !branches[i].lacking[ch.Commit.SHA] {
				branches[i].Carried[ch.Commit.SHA] = true
			}
		}
	}
	return changes, branches, nil
}

// mergedMessage is a main commit's message; for a merge commit (a pull request merged
// with a merge commit), the messages of the commits it merged are appended, so their
// trailers ask for the backport of the whole merge (diffed against its first parent).
func (e *Executor) mergedMessage(c git.Commit) (string, error) {
	if len(c.Parents) < 2 {
		return c.Message, nil
	}
	side, err := e.repo.Log(c.Parents[1], c.Parents[0], 100)
	if err != nil {
		return "", fmt.Errorf("merge %s: %w", c.Hash.Short(), err)
	}
	msg := c.Message
	for _, s := range side {
		msg += "\n" + s.Message
	}
	return msg, nil
}

// kubeVersions discovers the kubeVersion and digest of every upgrade's new chart version.
func (e *Executor) kubeVersions(ctx context.Context, changes []Change) (KubeVersions, []error) {
	kube := KubeVersions{}
	e.digests = map[string]string{}
	do := e.o.Discover
	do.Repositories = e.spec.Repositories
	d := upgrade.NewDiscoverer(do)
	listed := map[string][]upgrade.Available{}
	var errs []error
	for _, ch := range changes {
		if ch.Kind != KindUpgrade {
			continue
		}
		a := e.main.cfg.Addons[ch.Upgrade.Addon]
		if a == nil || a.Spec.Chart == nil {
			continue
		}
		key := a.Spec.Chart.Repository + " " + a.Spec.Chart.Name
		avail, ok := listed[key]
		if !ok {
			var err error
			if avail, err = d.Versions(ctx, a.Spec.Chart.Repository, a.Spec.Chart.Name, ""); err != nil {
				errs = append(errs, fmt.Errorf("add-on %q: %w", ch.Upgrade.Addon, err))
			}
			listed[key] = avail
		}
		for _, v := range avail {
			if v.Version == ch.Upgrade.To {
				kube[Key(ch.Upgrade.Addon, v.Version)] = v.KubeVersion
				e.digests[Key(ch.Upgrade.Addon, v.Version)] = v.Digest
			}
		}
	}
	return kube, errs
}
