package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/addonsync/addonsync/pkg/git"
)

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
	repo, err := git.Open(repoDir)
	if err != nil {
		return nil, err
	}
	hash, err := repo.Resolve(ref)
	if err != nil {
		return nil, fmt.Errorf("%s: git ref %q: %w", repoDir, ref, err)
	}
	fsys, err := repo.FS(hash)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", repoDir, err)
	}
	if sub, err := repo.Subdir(repoDir); err != nil {
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
	repo, err := git.Open(repoDir)
	if err != nil {
		return cfg.MainBranch(), false, err
	}
	exists, err = repo.HasBranch(release)
	if err != nil {
		return "", false, err
	}
	if exists {
		return release, true, nil
	}
	return cfg.MainBranch(), false, nil
}

// CurrentBranch returns the branch checked out in repoDir, or "" when HEAD is detached.
func CurrentBranch(repoDir string) (string, error) {
	repo, err := git.Open(repoDir)
	if err != nil {
		return "", err
	}
	return repo.CurrentBranch()
}
