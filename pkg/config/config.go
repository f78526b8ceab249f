package config

import (
	"io/fs"
	"path"
	"sort"
)

// Config is a whole config repo, loaded and validated.
type Config struct {
	// FS is the tree the config was read from (a working tree or a git ref); render reads
	// values files, kustomize overlays and in-repo charts from it.
	FS fs.FS
	// Ref is the git ref or commit the tree was read from; empty for a working tree.
	Ref string
	// Revision is the resolved commit SHA for a ref; empty for a working tree.
	Revision string
	// Repository is addonsync.yaml, with defaults filled in.
	Repository *Repository
	// Addons by name.
	Addons map[string]*Addon
	// Clusters by name.
	Clusters map[string]*Cluster
}

// AddonNames returns the add-on names, sorted.
func (c *Config) AddonNames() []string { return sortedKeys(c.Addons) }

// ClusterNames returns the cluster names, sorted.
func (c *Config) ClusterNames() []string { return sortedKeys(c.Clusters) }

// AddonValuesFile is the path of an add-on's default values file.
func AddonValuesFile(addon string) string { return path.Join(AddonsDir, addon, ValuesFile) }

// AddonKustomizeDir is the path of an add-on's post-render overlay.
func AddonKustomizeDir(addon string) string { return path.Join(AddonsDir, addon, KustomizeDir) }

// ClusterValuesFile is the path of a cluster's values for an add-on.
func ClusterValuesFile(cluster, addon string) string {
	return path.Join(ClustersDir, cluster, ClusterValues, addon+".yaml")
}

// ClusterKustomizeDir is the path of a cluster's post-render overlay for an add-on.
func ClusterKustomizeDir(cluster, addon string) string {
	return path.Join(ClustersDir, cluster, KustomizeDir, addon)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
