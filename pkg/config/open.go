package config

import "fmt"

// RefAuto, given as the ref to Open and OpenCluster, reads the repository from its main
// branch and each cluster from its own branch (release-<minor>, or main when there is none).
const RefAuto = "auto"

// Open loads the config repo in dir as ref says: "" the working tree as it is on disk;
// RefAuto the main branch (HEAD's commit when there is no main branch, as in a detached
// clone); any other ref that branch, tag or commit.
func Open(dir, ref string) (*Config, error) {
	switch ref {
	case "":
		return OpenWorktree(dir)
	case RefAuto:
		head, err := OpenRef(dir, "HEAD")
		if err != nil {
			return nil, err
		}
		cfg, err := OpenRef(dir, head.MainBranch())
		if err != nil {
			return head, nil //nolint:nilerr // no main branch in a detached clone: HEAD is the best guess
		}
		return cfg, nil
	default:
		return OpenRef(dir, ref)
	}
}

// OpenCluster loads the config cluster is rendered from, as ref says (see Open; RefAuto
// reads the cluster's own branch, see BranchForCluster), and returns the ref it read: ""
// for the working tree, the branch for RefAuto, else ref. A cluster the config does not
// define is an error listing the clusters.
func OpenCluster(dir, ref, cluster string) (*Config, string, error) {
	cfg, err := Open(dir, ref)
	if err != nil {
		return nil, "", err
	}
	if cfg.Clusters[cluster] == nil {
		return nil, "", fmt.Errorf("cluster %q does not exist in %s (clusters: %v)", cluster, dir, cfg.ClusterNames())
	}
	if ref != RefAuto {
		return cfg, ref, nil
	}
	branch, _, err := BranchForCluster(dir, cfg, cluster)
	if err != nil {
		return nil, "", err
	}
	own, err := OpenRef(dir, branch)
	if err != nil {
		return nil, "", err
	}
	if own.Clusters[cluster] == nil {
		return nil, "", fmt.Errorf("cluster %q: not defined on its branch %s", cluster, branch)
	}
	return own, branch, nil
}
