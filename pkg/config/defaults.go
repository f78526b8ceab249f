package config

import "k8s.io/apimachinery/pkg/api/resource"

// Defaults for settings left out of the config files.
const (
	DefaultFieldManager       = "addonsync"
	DefaultInventoryNamespace = "addonsync-system"
	DefaultMainBranch         = "main"
	DefaultReleasePrefix      = "release-"
	DefaultUpgradePrefix      = "addonsync/upgrade/"
	DefaultPruneMaxObjects    = 25
	DefaultPruneMaxPercent    = 30
	DefaultCommitName         = "addonsync"
	DefaultCommitEmail        = "addonsync@users.noreply.github.com"
	DefaultGitHubURL          = "https://api.github.com/"
	DefaultSyncTimeout        = "5m"
	DefaultSecretKey          = "kubeconfig"
	DefaultMaxFileSize        = "8Mi"
	DefaultMaxRenderSize      = "64Mi"
)

// Bytes returns the limits in bytes; unset or invalid fields take their defaults (Load
// reports invalid ones).
func (l InputLimits) Bytes() (maxFile, maxRender int64) { return l.parse() }

func (l InputLimits) parse() (maxFile, maxRender int64) {
	return quantityOr(l.MaxFileSize, DefaultMaxFileSize), quantityOr(l.MaxRenderSize, DefaultMaxRenderSize)
}

func quantityOr(s, def string) int64 {
	if q, err := resource.ParseQuantity(s); err == nil && q.Value() > 0 {
		return q.Value()
	}
	q := resource.MustParse(def)
	return q.Value()
}

// DefaultRepository returns the settings used when a repo has no addonsync.yaml.
func DefaultRepository() *Repository {
	r := &Repository{
		TypeMeta: TypeMeta{APIVersion: APIVersion, Kind: KindRepository},
		Metadata: ObjectMeta{Name: "addonsync"},
	}
	defaultRepository(r)
	return r
}

func defaultRepository(r *Repository) {
	s := &r.Spec
	setDefault(&s.FieldManager, DefaultFieldManager)
	setDefault(&s.InventoryNamespace, DefaultInventoryNamespace)
	setDefault(&s.Branches.Main, DefaultMainBranch)
	setDefault(&s.Branches.ReleasePrefix, DefaultReleasePrefix)
	setDefault(&s.Branches.UpgradePrefix, DefaultUpgradePrefix)
	setDefault(&s.Commit.Name, DefaultCommitName)
	setDefault(&s.Commit.Email, DefaultCommitEmail)
	setDefault(&s.GitHub.URL, DefaultGitHubURL)
	setDefault(&s.HelmReleases.Retire, HelmRetireDelete)
	defaultLimits(&s.Prune, PruneLimits{MaxObjects: ptr(DefaultPruneMaxObjects), MaxPercent: ptr(DefaultPruneMaxPercent)})
}

// applyDefaults fills in every default of a loaded config.
func applyDefaults(cfg *Config) {
	defaultRepository(cfg.Repository)
	for name, a := range cfg.Addons {
		s := &a.Spec
		setDefault(&s.ReleaseName, name)
		if s.Upgrade.Enabled == nil {
			s.Upgrade.Enabled = ptr(s.Chart != nil && s.Chart.Repository != "")
		}
		if s.Sync.ForceConflicts == nil {
			s.Sync.ForceConflicts = ptr(true)
		}
		if s.Sync.Wait == nil {
			s.Sync.Wait = ptr(true)
		}
		setDefault(&s.Sync.Timeout, DefaultSyncTimeout)
		defaultLimits(&s.Prune.Limits, cfg.Repository.Spec.Prune)
	}
	for _, c := range cfg.Clusters {
		if sec := c.Spec.Kubeconfig.Secret; sec != nil {
			setDefault(&sec.Key, DefaultSecretKey)
		}
	}
}

func defaultLimits(l *PruneLimits, d PruneLimits) {
	if l.MaxObjects == nil && d.MaxObjects != nil {
		l.MaxObjects = ptr(*d.MaxObjects)
	}
	if l.MaxPercent == nil && d.MaxPercent != nil {
		l.MaxPercent = ptr(*d.MaxPercent)
	}
}

func setDefault(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

func ptr[T any](v T) *T { return &v }
