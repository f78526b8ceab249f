// Package config loads, defaults and validates an addonsync config repo.
//
// A config repo is a tree of YAML files (see the constants in types.go for the paths):
//
//	addonsync.yaml                       kind: Repository (optional; defaults when absent)
//	addons/<addon>/addon.yaml            kind: Addon
//	addons/<addon>/values.yaml           the add-on's default values (a YAML mapping)
//	clusters/<cluster>/cluster.yaml      kind: Cluster
//	clusters/<cluster>/values/<addon>.yaml  per-cluster values (a YAML mapping)
//
// # Loading
//
// [Load] reads a config from any [fs.FS]: [OpenWorktree] reads a directory, [OpenRef] reads a
// branch, tag or commit of a git repository without checking it out (the tree is served as an
// fs.FS, so render reads values, overlays and in-repo charts from the same revision).
//
//	cfg, err := config.OpenWorktree(".")
//	var problems config.Errors
//	if errors.As(err, &problems) {
//		for _, p := range problems {
//			fmt.Println(p) // clusters/prod/cluster.yaml:7: spec.addons[2].name: add-on "foo" does not exist (...)
//		}
//	}
//
// # Validation
//
// Files are decoded strictly: an unknown field, a value of the wrong type, a missing required
// field (one whose JSON tag has no omitempty) or a wrong apiVersion or kind is an error naming the
// file, line and field. After decoding, the config is checked as a whole: names match their
// directories, add-ons are defined once and listed once per cluster, every name a cluster or a
// dependsOn uses exists, dependsOn has no cycle, semver ranges, cron schedules, durations, chart
// sources, Kubernetes minors and kubeconfig references are well formed, and values files are YAML
// mappings. A values file or overlay for an add-on the cluster does not run is an error too (not a
// warning): it is almost always a typo in the file name, and a silently ignored values file is a
// misconfiguration that only shows on the live cluster.
//
// Every problem is collected, not only the first: Load returns [Errors], a list of [*Error]
// sorted by file and line.
//
// # Defaults
//
// Load fills in defaults so callers never repeat them: see [DefaultRepository] for the repo-wide
// settings; an add-on's releaseName defaults to its name, upgrade.enabled to true for a chart from a
// repository, sync.forceConflicts and sync.wait to true, sync.timeout to "5m", and its prune limits
// to the repo-wide ones; a kubeconfig secret's key defaults to "kubeconfig".
package config
