package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// RemoteName is the remote whose branches count as existing branches (a fresh clone has
// only main as a local branch).
const RemoteName = "origin"

// OpenWorktree loads the config repo in directory dir, as it is on disk (uncommitted edits
// included).
func OpenWorktree(dir string) (*Config, error) {
	fi, err := os.Stat(dir)
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		return nil, fmt.Errorf("config repo %s: %w", dir, pe.Err)
	} else if err != nil {
		return nil, fmt.Errorf("config repo %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("config repo %s: not a directory", dir)
	}
	fsys, err := NewWorktreeFS(dir)
	if err != nil {
		return nil, err
	}
	return Load(fsys)
}

// OpenRef loads the config repo in repoDir as it is at ref (a branch, a tag, a commit SHA or
// any revision git-rev-parse accepts), without a checkout: the Config's FS serves that
// commit's tree. A branch that exists only as origin/<branch> is found too. repoDir may be
// a subdirectory of the git work tree; the config is read from that subdirectory.
func OpenRef(repoDir, ref string) (*Config, error) {
	repo, err := openGit(repoDir)
	if err != nil {
		return nil, err
	}
	hash, err := resolveRef(repo, ref)
	if err != nil {
		return nil, fmt.Errorf("%s: git ref %q: %w", repoDir, ref, err)
	}
	commit, err := repo.CommitObject(hash)
	if err != nil {
		return nil, fmt.Errorf("%s: commit %s: %w", repoDir, hash, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("%s: tree of commit %s: %w", repoDir, hash, err)
	}
	fsys := NewTreeFS(repo.Storer, tree, commit.Committer.When)
	if sub, err := subdirOf(repo, repoDir); err != nil {
		return nil, err
	} else if sub != "." {
		if fsys, err = fs.Sub(fsys, sub); err != nil {
			return nil, fmt.Errorf("%s: %w", repoDir, err)
		}
	}
	cfg, err := Load(fsys)
	if err != nil {
		return nil, err
	}
	cfg.Ref, cfg.Revision = ref, hash.String()
	return cfg, nil
}

func openGit(repoDir string) (*git.Repository, error) {
	repo, err := git.PlainOpenWithOptions(repoDir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, fmt.Errorf("%s: open git repository: %w", repoDir, err)
	}
	return repo, nil
}

// resolveRef resolves ref to a commit, trying origin/<ref> when ref is not found.
func resolveRef(repo *git.Repository, ref string) (plumbing.Hash, error) {
	h, err := repo.ResolveRevision(plumbing.Revision(ref))
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		if r, rerr := repo.Reference(plumbing.NewRemoteReferenceName(RemoteName, ref), true); rerr == nil {
			return r.Hash(), nil
		}
		return plumbing.ZeroHash, errors.New("no such branch, tag or commit")
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return *h, nil
}

// subdirOf returns dir relative to the repository's work tree root ("." for a bare repository).
func subdirOf(repo *git.Repository, dir string) (string, error) {
	wt, err := repo.Worktree()
	if errors.Is(err, git.ErrIsBareRepository) {
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

// ReleaseBranch names the release branch of a Kubernetes minor, e.g. "release-1.34".
func ReleaseBranch(repo *Repository, minor string) string {
	prefix := repo.Spec.Branches.ReleasePrefix
	if prefix == "" {
		prefix = DefaultReleasePrefix
	}
	return prefix + minor
}

// BranchForCluster returns the branch a cluster is rendered from: its release branch when
// that exists in repoDir (as a local branch or as origin/<branch>), with exists true; else
// the main branch, with exists false.
func BranchForCluster(repoDir string, cfg *Config, cluster string) (branch string, exists bool, err error) {
	c := cfg.Clusters[cluster]
	if c == nil {
		return "", false, fmt.Errorf("cluster %q does not exist (clusters: %v)", cluster, cfg.ClusterNames())
	}
	release := ReleaseBranch(cfg.Repository, c.Spec.KubernetesVersion)
	repo, err := openGit(repoDir)
	if err != nil {
		return cfg.MainBranch(), false, err
	}
	for _, name := range []plumbing.ReferenceName{
		plumbing.NewBranchReferenceName(release),
		plumbing.NewRemoteReferenceName(RemoteName, release),
	} {
		_, err := repo.Reference(name, false)
		if err == nil {
			return release, true, nil
		}
		if !errors.Is(err, plumbing.ErrReferenceNotFound) {
			return "", false, fmt.Errorf("%s: reference %s: %w", repoDir, name, err)
		}
	}
	return cfg.MainBranch(), false, nil
}

// CurrentBranch returns the branch checked out in repoDir, or "" when HEAD is detached.
func CurrentBranch(repoDir string) (string, error) {
	repo, err := openGit(repoDir)
	if err != nil {
		return "", err
	}
	head, err := repo.Reference(plumbing.HEAD, false)
	if err != nil {
		return "", fmt.Errorf("%s: HEAD: %w", repoDir, err)
	}
	if head.Type() != plumbing.SymbolicReference || !head.Target().IsBranch() {
		return "", nil
	}
	return head.Target().Short(), nil
}
