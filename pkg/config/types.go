package config

// APIVersion is the apiVersion of every addonsync config file.
const APIVersion = "addonsync.io/v1alpha1"

// Kinds of config file.
const (
	KindRepository = "Repository" // addonsync.yaml
	KindAddon      = "Addon"      // addons/<addon>/addon.yaml
	KindCluster    = "Cluster"    // clusters/<cluster>/cluster.yaml
)

// Well-known paths inside a config repo, relative to its root.
const (
	RepositoryFile = "addonsync.yaml"
	AddonsDir      = "addons"
	ClustersDir    = "clusters"
	AddonFile      = "addon.yaml"
	ClusterFile    = "cluster.yaml"
	ValuesFile     = "values.yaml"
	KustomizeDir   = "kustomize"
	ClusterValues  = "values"
	LockFile       = "addonsync.lock"
)

// TypeMeta identifies the kind of a config file.
type TypeMeta struct {
	// APIVersion must be addonsync.io/v1alpha1.
	APIVersion string `json:"apiVersion"`
	// Kind is Repository, Addon or Cluster.
	Kind string `json:"kind"`
}

// ObjectMeta names a config object.
type ObjectMeta struct {
	// Name of the object; for add-ons and clusters it must equal the directory name.
	Name string `json:"name"`
}

// Repository is addonsync.yaml: settings for the whole config repo.
type Repository struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta     `json:"metadata"`
	Spec     RepositorySpec `json:"spec"`

	// File is the path of the file this was read from, relative to the repo root.
	File string `json:"-"`
}

// RepositorySpec holds the repo-wide settings.
type RepositorySpec struct {
	// GitHub is where upgrade and backport pull requests are opened.
	GitHub GitHubSpec `json:"github,omitempty"`
	// Branches names the main branch and the per-minor release branches.
	Branches BranchSpec `json:"branches,omitempty"`
	// FieldManager is the server-side apply field manager (default "addonsync").
	FieldManager string `json:"fieldManager,omitempty"`
	// InventoryNamespace holds the ApplySet parent objects (default "addonsync-system").
	InventoryNamespace string `json:"inventoryNamespace,omitempty"`
	// Repositories maps upstream chart repository URLs to mirrors and credentials.
	Repositories []ChartRepository `json:"repositories,omitempty"`
	// Prune sets the default prune limits for every add-on.
	Prune PruneLimits `json:"prune,omitempty"`
	// Commit sets the author of commits addonsync makes.
	Commit CommitSpec `json:"commit,omitempty"`
	// Limits bound the size of what addonsync reads and renders.
	Limits InputLimits `json:"limits,omitempty"`
	// HelmReleases says what happens to the Helm releases addonsync takes over.
	HelmReleases HelmReleasesSpec `json:"helmReleases,omitempty"`
}

// InputLimits bound the size of the inputs addonsync reads and of what it renders, so a
// huge file fails with a clear error instead of exhausting memory.
type InputLimits struct {
	// MaxFileSize is the largest file of the config repo addonsync reads (values files,
	// overlay files, in-repo chart files), as a quantity like "8Mi" (default "8Mi").
	MaxFileSize string `json:"maxFileSize,omitempty"`
	// MaxRenderSize is the largest manifest one add-on may render (Helm's output, hooks
	// included), as a quantity like "64Mi" (default "64Mi").
	MaxRenderSize string `json:"maxRenderSize,omitempty"`
}

// What happens to the records of a Helm release addonsync took over (HelmReleasesSpec.Retire).
const (
	// HelmRetireDelete deletes every revision's release record (Secret or ConfigMap).
	HelmRetireDelete = "delete"
	// HelmRetireKeep keeps the records, labelled addonsync.io/retired=true and without Helm's
	// owner label, so helm list, helm upgrade and helm rollback no longer see them.
	HelmRetireKeep = "keep"
)

// HelmReleasesSpec says what happens to the Helm releases addonsync takes over.
type HelmReleasesSpec struct {
	// Retire is what happens to a taken-over release's records once the whole cluster synced
	// cleanly: "delete" (default) or "keep" (kept for the record, hidden from helm).
	Retire string `json:"retire,omitempty"`
}

// GitHubSpec locates the config repo on GitHub.
type GitHubSpec struct {
	// Owner is the GitHub organisation or user.
	Owner string `json:"owner,omitempty"`
	// Repo is the repository name.
	Repo string `json:"repo,omitempty"`
	// URL is the API base URL for GitHub Enterprise (default https://api.github.com/).
	URL string `json:"url,omitempty"`
	// Labels are put on every pull request addonsync opens.
	Labels []string `json:"labels,omitempty"`
}

// BranchSpec names branches.
type BranchSpec struct {
	// Main is the branch changes land on first (default "main").
	Main string `json:"main,omitempty"`
	// ReleasePrefix prefixes the Kubernetes minor in release branch names (default "release-").
	ReleasePrefix string `json:"releasePrefix,omitempty"`
	// UpgradePrefix prefixes upgrade branches (default "addonsync/upgrade/").
	UpgradePrefix string `json:"upgradePrefix,omitempty"`
}

// ChartRepository maps an upstream chart repository to a mirror and credentials.
type ChartRepository struct {
	// URL is the upstream repository URL as written in addon.yaml (https:// or oci://).
	URL string `json:"url"`
	// Mirror, when set, is fetched instead of URL.
	Mirror string `json:"mirror,omitempty"`
	// UsernameEnv names an environment variable holding the user name.
	UsernameEnv string `json:"usernameEnv,omitempty"`
	// PasswordFile is a file holding the password or token.
	PasswordFile string `json:"passwordFile,omitempty"`
	// PasswordEnv names an environment variable holding the password or token.
	PasswordEnv string `json:"passwordEnv,omitempty"`
	// CAFile is a PEM bundle to trust for this repository.
	CAFile string `json:"caFile,omitempty"`
}

// PruneLimits bounds how much one sync may delete.
type PruneLimits struct {
	// MaxObjects refuses a prune of more objects than this per add-on (default 25).
	MaxObjects *int `json:"maxObjects,omitempty"`
	// MaxPercent refuses a prune of more than this share of an add-on's objects (default 30).
	MaxPercent *int `json:"maxPercent,omitempty"`
}

// CommitSpec is the author of commits addonsync makes.
type CommitSpec struct {
	// Name of the author (default "addonsync").
	Name string `json:"name,omitempty"`
	// Email of the author (default "addonsync@users.noreply.github.com").
	Email string `json:"email,omitempty"`
}

// Addon is addons/<addon>/addon.yaml.
type Addon struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta `json:"metadata"`
	Spec     AddonSpec  `json:"spec"`

	// File is the path of addon.yaml relative to the repo root.
	File string `json:"-"`
	// Dir is the add-on's directory relative to the repo root (addons/<addon>).
	Dir string `json:"-"`
}

// AddonSpec says how an add-on is rendered, synced and upgraded.
type AddonSpec struct {
	// Namespace the add-on is installed into; created when missing.
	Namespace string `json:"namespace"`
	// Chart is the Helm chart; nil for a chart-less add-on rendered from kustomize/ alone.
	Chart *ChartSpec `json:"chart,omitempty"`
	// ReleaseName is Helm's release name (default: the add-on name).
	ReleaseName string `json:"releaseName,omitempty"`
	// DependsOn lists add-ons synced (and healthy) before this one.
	DependsOn []string `json:"dependsOn,omitempty"`
	// Upgrade is the policy for automatic upgrade pull requests.
	Upgrade UpgradePolicy `json:"upgrade,omitempty"`
	// Prune is the prune policy.
	Prune PrunePolicy `json:"prune,omitempty"`
	// Sync tunes the apply.
	Sync SyncPolicy `json:"sync,omitempty"`
}

// ChartSpec points at a Helm chart.
type ChartSpec struct {
	// Repository is an HTTP(S) chart repository URL or an oci:// registry path; empty with Path.
	Repository string `json:"repository,omitempty"`
	// Name of the chart in the repository.
	Name string `json:"name,omitempty"`
	// Version is the exact chart version.
	Version string `json:"version,omitempty"`
	// Path is a chart directory inside the config repo, relative to the repo root.
	Path string `json:"path,omitempty"`
}

// UpgradePolicy says which upstream versions addonsync proposes.
type UpgradePolicy struct {
	// Enabled turns upgrade pull requests on (default true when the chart comes from a repository).
	Enabled *bool `json:"enabled,omitempty"`
	// Constraint is a semver range the new version must satisfy, e.g. ">=1.21.0 <2.0.0".
	Constraint string `json:"constraint,omitempty"`
	// PreRelease allows pre-release versions.
	PreRelease bool `json:"preRelease,omitempty"`
	// Schedule is a cron expression limiting when upgrades are proposed.
	Schedule string `json:"schedule,omitempty"`
}

// PrunePolicy says what a sync may delete.
type PrunePolicy struct {
	// Disabled turns pruning off for this add-on.
	Disabled bool `json:"disabled,omitempty"`
	// AllowNamespaces allows pruning Namespaces.
	AllowNamespaces bool `json:"allowNamespaces,omitempty"`
	// AllowCRDs allows pruning CustomResourceDefinitions (and so every custom resource of them).
	AllowCRDs bool `json:"allowCRDs,omitempty"`
	// AllowPersistentVolumes allows pruning PersistentVolumes and PersistentVolumeClaims.
	AllowPersistentVolumes bool `json:"allowPersistentVolumes,omitempty"`
	// Limits override the repo-wide prune limits.
	Limits PruneLimits `json:"limits,omitempty"`
}

// SyncPolicy tunes how an add-on is applied.
type SyncPolicy struct {
	// ForceConflicts takes fields owned by other managers (default true).
	ForceConflicts *bool `json:"forceConflicts,omitempty"`
	// Recreate deletes and recreates objects whose immutable fields changed.
	Recreate bool `json:"recreate,omitempty"`
	// Wait waits for the add-on's objects to be healthy (default true).
	Wait *bool `json:"wait,omitempty"`
	// Timeout bounds the health wait, as a Go duration (default "5m").
	Timeout string `json:"timeout,omitempty"`
}

// Cluster is clusters/<cluster>/cluster.yaml.
type Cluster struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta  `json:"metadata"`
	Spec     ClusterSpec `json:"spec"`

	// File is the path of cluster.yaml relative to the repo root.
	File string `json:"-"`
	// Dir is the cluster's directory relative to the repo root (clusters/<cluster>).
	Dir string `json:"-"`
}

// ClusterSpec says what a cluster runs and how to reach it.
type ClusterSpec struct {
	// KubernetesVersion is the cluster's Kubernetes minor, e.g. "1.34".
	KubernetesVersion string `json:"kubernetesVersion"`
	// Kubeconfig says how to reach the cluster.
	Kubeconfig KubeconfigRef `json:"kubeconfig,omitempty"`
	// Addons lists the add-ons the cluster runs, by name.
	Addons []ClusterAddon `json:"addons"`
}

// KubeconfigRef locates a kubeconfig: a file, or a key of a Secret in the cluster addonsync runs in.
type KubeconfigRef struct {
	// Path is a kubeconfig file (relative paths are relative to the working directory; "~" expands).
	Path string `json:"path,omitempty"`
	// Secret is a Secret holding the kubeconfig.
	Secret *SecretKeyRef `json:"secret,omitempty"`
	// Context is the kubeconfig context (default: its current context).
	Context string `json:"context,omitempty"`
	// InCluster uses the service account of the pod addonsync runs in.
	InCluster bool `json:"inCluster,omitempty"`
}

// SecretKeyRef names a key of a Secret.
type SecretKeyRef struct {
	// Namespace of the Secret.
	Namespace string `json:"namespace"`
	// Name of the Secret.
	Name string `json:"name"`
	// Key in the Secret's data (default "kubeconfig").
	Key string `json:"key,omitempty"`
}

// ClusterAddon enables an add-on on a cluster.
type ClusterAddon struct {
	// Name of the add-on (a directory under addons/).
	Name string `json:"name"`
	// DependsOn adds, on this cluster only, add-ons this one is synced (and healthy) after,
	// to those its addon.yaml names; e.g. a monitoring stack after the storage this cluster runs.
	DependsOn []string `json:"dependsOn,omitempty"`
}
