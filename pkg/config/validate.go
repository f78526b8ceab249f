package config

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/robfig/cron/v3"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/addonsync/addonsync/internal/redact"
)

// maxReleaseName is Helm's limit on release names.
const maxReleaseName = 53

// validate checks the decoded config as a whole, recording problems; it returns only
// failures to read the tree.
func (l *loader) validate(cfg *Config) error {
	if l.repoDoc != nil {
		l.checkRepository(cfg.Repository, l.repoDoc)
	}
	definedIn := map[string]string{} // metadata.name -> file
	for _, name := range cfg.AddonNames() {
		if err := l.checkAddon(cfg, name, definedIn); err != nil {
			return err
		}
	}
	l.checkCycles(cfg)
	clusterFiles := map[string]string{}
	for _, name := range cfg.ClusterNames() {
		c, doc := cfg.Clusters[name], l.clustDoc[name]
		l.checkName("cluster", name, c.Metadata.Name, doc, 63, clusterFiles)
		l.checkCluster(cfg, c, doc)
		if err := l.checkClusterFiles(cfg, c); err != nil {
			return err
		}
	}
	return l.checkPaths(cfg)
}

// checkName checks a directory name and the metadata.name in it.
func (l *loader) checkName(what, dir, name string, doc *document, maxLen int, definedIn map[string]string) {
	if !isDNSLabel(dir, maxLen) {
		l.errs.fileError(path.Dir(doc.file), "use lower-case letters, digits and '-'",
			"%s name %q must be a DNS label of at most %d characters", what, dir, maxLen)
	}
	if name != "" && name != dir {
		l.errs.add(doc.at("metadata.name", "make them equal",
			"%q does not match its directory %q", name, dir))
	}
	if name == "" {
		return
	}
	if first, dup := definedIn[name]; dup {
		l.errs.add(doc.at("metadata.name", "rename or remove one of them",
			"%s %q is already defined in %s", what, name, first))
		return
	}
	definedIn[name] = doc.file
}

func (l *loader) checkRepository(r *Repository, doc *document) {
	s := r.Spec
	if s.GitHub.URL != "" && !hasScheme(s.GitHub.URL, "https", "http") {
		l.errs.add(doc.at("spec.github.url", "", "%q must start with https:// or http://", s.GitHub.URL))
	}
	if s.InventoryNamespace != "" && !isDNSLabel(s.InventoryNamespace, 63) {
		l.errs.add(doc.at("spec.inventoryNamespace", "", "%q is not a valid namespace name", s.InventoryNamespace))
	}
	if r := s.HelmReleases.Retire; r != "" && r != HelmRetireDelete && r != HelmRetireKeep {
		l.errs.add(doc.at("spec.helmReleases.retire", `use "delete" or "keep"`, "%q is not a retire mode", r))
	}
	seen := map[string]int{}
	for i, cr := range s.Repositories {
		field := fmt.Sprintf("spec.repositories[%d]", i)
		l.checkChartURL(doc, field+".url", cr.URL)
		l.checkChartURL(doc, field+".mirror", cr.Mirror)
		if j, dup := seen[cr.URL]; dup && cr.URL != "" {
			l.errs.add(doc.at(field+".url", "merge the two entries",
				"%q is already listed in spec.repositories[%d]", cr.URL, j))
		}
		seen[cr.URL] = i
	}
	l.checkLimits(doc, "spec.prune", s.Prune)
	for field, v := range map[string]string{"spec.limits.maxFileSize": s.Limits.MaxFileSize, "spec.limits.maxRenderSize": s.Limits.MaxRenderSize} {
		if q, err := resource.ParseQuantity(v); v != "" && (err != nil || q.Value() <= 0) {
			l.errs.add(doc.at(field, `a size like "8Mi" or "64Mi"`, "invalid size %q", v))
		}
	}
}

func (l *loader) checkAddon(cfg *Config, name string, definedIn map[string]string) error {
	a, doc := cfg.Addons[name], l.addonDoc[name]
	l.checkName("add-on", name, a.Metadata.Name, doc, maxReleaseName, definedIn)
	s := a.Spec
	if s.Namespace != "" && !isDNSLabel(s.Namespace, 63) {
		l.errs.add(doc.at("spec.namespace", "use lower-case letters, digits and '-'", "%q is not a valid namespace name", s.Namespace))
	}
	if s.ReleaseName != "" && !isDNSLabel(s.ReleaseName, maxReleaseName) {
		l.errs.add(doc.at("spec.releaseName", "", "%q must be a DNS label of at most %d characters", s.ReleaseName, maxReleaseName))
	}
	if err := l.checkChart(cfg, a, doc); err != nil {
		return err
	}
	if err := l.checkValuesFile(cfg.FS, AddonValuesFile(name)); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, dep := range s.DependsOn {
		field := fmt.Sprintf("spec.dependsOn[%d]", i)
		switch {
		case dep == name:
			l.errs.add(doc.at(field, "remove it", "add-on %q depends on itself", name))
		case seen[dep]:
			l.errs.add(doc.at(field, "remove the duplicate", "%q is listed twice", dep))
		case cfg.Addons[dep] == nil && !l.broken[dep]:
			l.errs.add(doc.at(field, fmt.Sprintf("add addons/%s/addon.yaml or remove it", dep), "add-on %q does not exist", dep))
		}
		seen[dep] = true
	}
	if c := s.Upgrade.Constraint; c != "" {
		if _, err := semver.NewConstraint(c); err != nil {
			l.errs.add(doc.at("spec.upgrade.constraint", `a semver range like ">=1.21.0 <2.0.0"`, "invalid semver range %q: %v", c, err))
		}
	}
	if sc := s.Upgrade.Schedule; sc != "" {
		if _, err := cron.ParseStandard(sc); err != nil {
			l.errs.add(doc.at("spec.upgrade.schedule", `five fields: minute hour day-of-month month day-of-week, e.g. "0 6 * * 1"`, "invalid cron schedule %q: %v", sc, err))
		}
	}
	l.checkLimits(doc, "spec.prune.limits", s.Prune.Limits)
	if t := s.Sync.Timeout; t != "" {
		if d, err := time.ParseDuration(t); err != nil || d <= 0 {
			l.errs.add(doc.at("spec.sync.timeout", `a Go duration like "5m" or "90s"`, "invalid duration %q", t))
		}
	}
	return nil
}

// checkChart checks the chart source of an add-on, or the kustomize directory of a chart-less one.
func (l *loader) checkChart(cfg *Config, a *Addon, doc *document) error {
	ch := a.Spec.Chart
	if ch == nil {
		found, dir, err := exists(cfg.FS, path.Join(a.Dir, KustomizeDir))
		if err == nil && (!found || !dir) {
			l.errs.add(doc.at("spec", "add spec.chart or a kustomize/ directory with the manifests",
				"add-on %q has no chart and no %s directory", a.Metadata.Name, path.Join(a.Dir, KustomizeDir)))
		}
		return err
	}
	switch {
	case ch.Repository != "" && ch.Path != "":
		l.errs.add(doc.at("spec.chart", "remove one of them", "chart has both repository and path"))
	case ch.Repository == "" && ch.Path == "":
		l.errs.add(doc.at("spec.chart", "set repository, name and version, or path", "chart has neither repository nor path"))
	case ch.Repository != "":
		l.checkChartURL(doc, "spec.chart.repository", ch.Repository)
		if ch.Name == "" {
			l.errs.add(doc.at("spec.chart.name", "the chart's name in the repository", "required field is missing"))
		}
		if ch.Version == "" {
			l.errs.add(doc.at("spec.chart.version", "the exact chart version, e.g. \"1.2.3\"", "required field is missing"))
		} else if _, err := semver.NewVersion(ch.Version); err != nil {
			l.errs.add(doc.at("spec.chart.version", "an exact version like \"1.2.3\"", "invalid chart version %q: %v", ch.Version, err))
		}
	default:
		return l.checkChartPath(cfg, a, doc)
	}
	return nil
}

func (l *loader) checkChartPath(cfg *Config, a *Addon, doc *document) error {
	p := a.Spec.Chart.Path
	clean := path.Clean(p)
	if path.IsAbs(p) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(p, `\`) {
		l.errs.add(doc.at("spec.chart.path", "use a path relative to the repo root, e.g. charts/"+a.Metadata.Name,
			"%q is outside the config repo", p))
		return nil
	}
	if a.Spec.Upgrade.Enabled != nil && *a.Spec.Upgrade.Enabled {
		l.errs.add(doc.at("spec.upgrade.enabled", "remove it", "a chart inside the repo has no upstream to upgrade from"))
	}
	found, _, err := exists(cfg.FS, path.Join(clean, "Chart.yaml"))
	if errors.Is(err, ErrOutsideRepo) {
		return nil // checkPaths reports the symlink
	}
	if err == nil && !found {
		l.errs.add(doc.at("spec.chart.path", "", "%q has no Chart.yaml", p))
	}
	return err
}

func (l *loader) checkChartURL(doc *document, field, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || !hasScheme(raw, "https", "http", "oci") || u.Host == "":
		l.errs.add(doc.at(field, "e.g. https://charts.example.com or oci://registry.example.com/charts",
			"%q must be an https://, http:// or oci:// URL", redact.URL(raw)))
	case u.User != nil:
		l.errs.add(doc.at(field, fmt.Sprintf("remove them from the URL and list the repository under spec.repositories in %s "+
			"with usernameEnv and passwordFile (or passwordEnv)", RepositoryFile),
			"%q holds credentials", redact.URL(raw)))
	}
}

func (l *loader) checkLimits(doc *document, field string, lim PruneLimits) {
	if lim.MaxObjects != nil && *lim.MaxObjects < 0 {
		l.errs.add(doc.at(field+".maxObjects", "", "must not be negative, got %d", *lim.MaxObjects))
	}
	if lim.MaxPercent != nil && (*lim.MaxPercent < 0 || *lim.MaxPercent > 100) {
		l.errs.add(doc.at(field+".maxPercent", "", "must be between 0 and 100, got %d", *lim.MaxPercent))
	}
}

func hasScheme(raw string, schemes ...string) bool {
	for _, s := range schemes {
		if strings.HasPrefix(raw, s+"://") {
			return true
		}
	}
	return false
}

// isDNSLabel reports whether s is an RFC 1123 label of at most maxLen characters.
func isDNSLabel(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}
