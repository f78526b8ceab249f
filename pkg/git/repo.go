package git

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	gogit "github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Repository is a local git repository: a clone found by Open, or a clone of a remote made
// by OpenRemote or Mirror. Reading (FS, Resolve, Log, ...) is safe for concurrent use;
// writing (WriteCommit, Fetch, Push) is not, and must not overlap with reads.
type Repository struct {
	r      *gogit.Repository
	dir    string        // as given to Open, OpenRemote or Mirror ("" in memory)
	remote RemoteOptions // zero for Open
}

// Open opens the repository holding dir: its work tree, a subdirectory of one, or a bare
// repository. A directory in no repository gives an error wrapping ErrNotRepository.
func Open(dir string) (*Repository, error) {
	r, err := gogit.PlainOpenWithOptions(dir, &gogit.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, fmt.Errorf("%s: open git repository: %w", dir, err)
	}
	return &Repository{r: r, dir: dir}, nil
}

// OpenRemote opens (or creates) a bare clone of o.URL in o.Dir (in memory when o.Dir is
// empty) and fetches every branch of origin into refs/remotes/origin/*, pruning deleted
// ones. Push and Fetch use o's credentials.
func OpenRemote(ctx context.Context, o RemoteOptions) (*Repository, error) {
	var r *gogit.Repository
	var err error
	if o.Dir == "" {
		r, err = gogit.Init(memory.NewStorage(), nil)
	} else {
		r, err = gogit.PlainOpen(o.Dir)
		if errors.Is(err, gogit.ErrRepositoryNotExists) {
			if err = os.MkdirAll(o.Dir, 0o755); err == nil {
				r, err = gogit.PlainInit(o.Dir, true)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("git clone %s: %w", displayDir(o.Dir), err)
	}
	if _, err := setOrigin(r, o.URL, "+refs/heads/*:refs/remotes/origin/*"); err != nil {
		return nil, fmt.Errorf("git clone %s: %w", displayDir(o.Dir), err)
	}
	repo := &Repository{r: r, dir: o.Dir, remote: o}
	return repo, repo.Fetch(ctx)
}

func displayDir(dir string) string {
	if dir == "" {
		return "(memory)"
	}
	return dir
}

// setOrigin points origin at url with one fetch refspec, replacing an older origin.
func setOrigin(r *gogit.Repository, url, fetch string) (*gogit.Remote, error) {
	_ = r.DeleteRemote(RemoteName)
	return r.CreateRemote(&gitconfig.RemoteConfig{
		Name: RemoteName, URLs: []string{url}, Fetch: []gitconfig.RefSpec{gitconfig.RefSpec(fetch)},
	})
}

// Mirror creates or updates a mirror of o.URL in o.Dir: every branch of the remote becomes a
// local branch (deleted ones are pruned) and HEAD points at the remote's default branch, so
// Open and Resolve read it like any clone. The repository has a .git directory and a work
// tree that is never checked out. It returns the default branch.
func Mirror(ctx context.Context, o RemoteOptions) (string, error) {
	r, err := gogit.PlainOpen(o.Dir)
	if errors.Is(err, gogit.ErrRepositoryNotExists) {
		if err = os.MkdirAll(o.Dir, 0o755); err == nil {
			r, err = gogit.PlainInit(o.Dir, false)
		}
	}
	if err != nil {
		return "", fmt.Errorf("git mirror %s: %w", o.Dir, err)
	}
	remote, err := setOrigin(r, o.URL, "+refs/heads/*:refs/heads/*")
	if err != nil {
		return "", fmt.Errorf("git mirror %s: %w", o.Dir, err)
	}
	err = r.FetchContext(ctx, &gogit.FetchOptions{RemoteName: RemoteName, Auth: o.auth(), Force: true, Prune: true})
	if err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return "", fmt.Errorf("git fetch %s: %w", o.URL, mapErr(err))
	}
	refs, err := remote.ListContext(ctx, &gogit.ListOptions{Auth: o.auth()})
	if err != nil {
		return "", fmt.Errorf("git ls-remote %s: %w", o.URL, mapErr(err))
	}
	head := defaultBranch(refs)
	if head == "" {
		return "", fmt.Errorf("git %s: no branches: push the config repo's main branch first", o.URL)
	}
	if err := r.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName(head))); err != nil {
		return "", fmt.Errorf("git mirror %s: set HEAD: %w", o.Dir, err)
	}
	return head, nil
}

// defaultBranch is the branch the remote's HEAD names; when the server does not say, main or
// master if HEAD's commit is theirs, else the first branch at HEAD's commit, else the first
// branch.
func defaultBranch(refs []*plumbing.Reference) string {
	branches := map[string]plumbing.Hash{}
	var first string
	var headHash plumbing.Hash
	for _, ref := range refs {
		switch {
		case ref.Name() == plumbing.HEAD && ref.Type() == plumbing.SymbolicReference && ref.Target().IsBranch():
			return ref.Target().Short()
		case ref.Name() == plumbing.HEAD:
			headHash = ref.Hash()
		case ref.Name().IsBranch():
			branches[ref.Name().Short()] = ref.Hash()
			if first == "" || ref.Name().Short() < first {
				first = ref.Name().Short()
			}
		}
	}
	for _, b := range []string{"main", "master"} {
		if h, ok := branches[b]; ok && (headHash.IsZero() || h == headHash) {
			return b
		}
	}
	var atHead []string
	for b, h := range branches {
		if !headHash.IsZero() && h == headHash {
			atHead = append(atHead, b)
		}
	}
	if len(atHead) > 0 {
		return slices.Min(atHead)
	}
	return first
}

// Fetch updates refs/remotes/origin/* from origin, pruning deleted branches.
func (g *Repository) Fetch(ctx context.Context) error {
	err := g.r.FetchContext(ctx, &gogit.FetchOptions{RemoteName: RemoteName, Auth: g.remote.auth(), Force: true, Prune: true})
	if err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return fmt.Errorf("git fetch %s: %w", g.remote.URL, mapErr(err))
	}
	return nil
}

// Push sets origin's branch to commit (and the local branch of that name). With lease ""
// the branch must not exist on origin yet; otherwise origin's branch must still be at lease
// (git push --force-with-lease), and is replaced.
func (g *Repository) Push(ctx context.Context, branch string, commit, lease Hash) error {
	local := plumbing.NewBranchReferenceName(branch)
	if err := g.r.Storer.SetReference(plumbing.NewHashReference(local, commit.plumbing())); err != nil {
		return fmt.Errorf("git push %s: %w", branch, err)
	}
	spec := gitconfig.RefSpec(local.String() + ":" + local.String())
	opts := &gogit.PushOptions{RemoteName: RemoteName, Auth: g.remote.auth(), RefSpecs: []gitconfig.RefSpec{spec}}
	if !lease.IsZero() {
		opts.RefSpecs = []gitconfig.RefSpec{"+" + spec}
		opts.ForceWithLease = &gogit.ForceWithLease{RefName: local, Hash: lease.plumbing()}
	}
	err := g.r.PushContext(ctx, opts)
	if err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return fmt.Errorf("git push %s to %s: %w", branch, g.remote.URL, mapErr(err))
	}
	return nil
}

// RemoteURL returns origin's first URL, or "" when there is no origin.
func (g *Repository) RemoteURL() string {
	r, err := g.r.Remote(RemoteName)
	if err != nil || len(r.Config().URLs) == 0 {
		return ""
	}
	return r.Config().URLs[0]
}

// CurrentBranch returns the branch checked out, or "" when HEAD is detached.
func (g *Repository) CurrentBranch() (string, error) {
	head, err := g.r.Reference(plumbing.HEAD, false)
	if err != nil {
		return "", fmt.Errorf("%s: HEAD: %w", g.dir, err)
	}
	if head.Type() != plumbing.SymbolicReference || !head.Target().IsBranch() {
		return "", nil
	}
	return head.Target().Short(), nil
}

// Subdir returns dir relative to the work tree's root, slash-separated ("." for the root and
// for a bare repository).
func (g *Repository) Subdir(dir string) (string, error) {
	wt, err := g.r.Worktree()
	if errors.Is(err, gogit.ErrIsBareRepository) {
		return ".", nil
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", dir, err)
	}
	root, err := filepath.EvalSymlinks(wt.Filesystem.Root())
	if err != nil {
		return "", fmt.Errorf("%s: %w", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", dir, err)
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return "", fmt.Errorf("%s: %w", dir, err)
	}
	return filepath.ToSlash(rel), nil
}
