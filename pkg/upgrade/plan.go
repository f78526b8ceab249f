package upgrade

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/robfig/cron/v3"

	"github.com/addonsync/addonsync/pkg/config"
)

// ScheduleWindow is how long after a tick of an add-on's upgrade schedule its upgrade is due.
// A CronJob running at least once a day therefore sees every tick.
const ScheduleWindow = 24 * time.Hour

// Current is an add-on as the config repo's main branch has it.
type Current struct {
	// Addon is the add-on name.
	Addon string
	// Source is the chart repository URL or oci:// reference as written in addon.yaml.
	Source string
	// Chart is the chart name.
	Chart string
	// Version is the chart version in use.
	Version string
	// Policy is the add-on's upgrade policy.
	Policy config.UpgradePolicy
}

// Available is one version an upstream source publishes.
type Available struct {
	// Version is the chart version.
	Version string `json:"version"`
	// KubeVersion is the chart's kubeVersion constraint; empty admits every Kubernetes version.
	KubeVersion string `json:"kubeVersion,omitempty"`
	// Digest is "sha256:<hex>" of the chart archive when the source publishes it.
	Digest string `json:"digest,omitempty"`
	// Changes is the chart's artifacthub.io/changes annotation, when present.
	Changes string `json:"changes,omitempty"`
}

// Branch is a release branch and the Kubernetes minor it serves.
type Branch struct {
	// Name is the branch name, e.g. "release-1.33".
	Name string
	// KubernetesVersion is the minor, e.g. "1.33".
	KubernetesVersion string
}

// Status says what the planner decided for one add-on.
type Status string

// Statuses of a Bump.
const (
	// StatusUpgrade: a newer allowed version exists (see Bump.Due for the schedule).
	StatusUpgrade Status = "upgrade"
	// StatusUpToDate: no newer version within the policy.
	StatusUpToDate Status = "up-to-date"
	// StatusDisabled: the add-on's upgrade policy is off, or its chart is not from a repository.
	StatusDisabled Status = "disabled"
	// StatusInvalid: the current version or the policy cannot be parsed (see Bump.Reason).
	StatusInvalid Status = "invalid"
	// StatusUnknown: discovery returned no versions for the add-on.
	StatusUnknown Status = "unknown"
)

// String returns the status as printed.
func (s Status) String() string { return string(s) }

// BranchFit says whether a release branch's Kubernetes minor admits a chart version.
type BranchFit struct {
	// Branch is the release branch name.
	Branch string `json:"branch"`
	// KubernetesVersion is the branch's minor.
	KubernetesVersion string `json:"kubernetesVersion"`
	// Compatible is true when the chart's kubeVersion admits v<minor>.0.
	Compatible bool `json:"compatible"`
}

// Bump is the planner's decision for one add-on.
type Bump struct {
	// Addon is the add-on name.
	Addon string `json:"addon"`
	// Source is the chart repository or oci:// reference.
	Source string `json:"source"`
	// Chart is the chart name.
	Chart string `json:"chart"`
	// Status is the decision.
	Status Status `json:"status"`
	// Reason explains StatusInvalid, StatusDisabled and StatusUnknown.
	Reason string `json:"reason,omitempty"`
	// From is the version in use.
	From string `json:"current"`
	// To is the newest version the policy allows, when newer than From; empty otherwise.
	To string `json:"newestAllowed,omitempty"`
	// Newest is the newest version published, ignoring the constraint (pre-releases only
	// when the policy allows them).
	Newest string `json:"newest,omitempty"`
	// Due is true when a pull request should be opened now (StatusUpgrade and the schedule
	// ticked within ScheduleWindow, or no schedule).
	Due bool `json:"due"`
	// Target is the To version's metadata (kubeVersion, digest, changes).
	Target Available `json:"target,omitzero"`
	// Branches says, for each release branch, whether To's kubeVersion admits its minor.
	Branches []BranchFit `json:"branches,omitempty"`
}

// Actionable reports whether an upgrade pull request should be opened now.
func (b Bump) Actionable() bool { return b.Status == StatusUpgrade && b.Due }

// Plan decides, for every current add-on, which version to propose. It is pure: no I/O, and
// the result is ordered by add-on name.
func Plan(current []Current, available map[string][]Available, branches []Branch, now time.Time) []Bump {
	bumps := make([]Bump, len(current))
	for i, c := range current {
		bumps[i] = planOne(c, available[c.Addon], branches, now)
	}
	sort.SliceStable(bumps, func(i, j int) bool { return bumps[i].Addon < bumps[j].Addon })
	return bumps
}

func planOne(c Current, avail []Available, branches []Branch, now time.Time) Bump {
	b := Bump{Addon: c.Addon, Source: c.Source, Chart: c.Chart, From: c.Version}
	if c.Policy.Enabled != nil && !*c.Policy.Enabled {
		b.Status, b.Reason = StatusDisabled, "upgrade.enabled is false"
		return b
	}
	from, err := semver.NewVersion(c.Version)
	if err != nil {
		b.Status, b.Reason = StatusInvalid, fmt.Sprintf("current version %q is not semver", c.Version)
		return b
	}
	var constraint *semver.Constraints
	if c.Policy.Constraint != "" {
		if constraint, err = semver.NewConstraint(c.Policy.Constraint); err != nil {
			b.Status, b.Reason = StatusInvalid, fmt.Sprintf("upgrade.constraint %q: %v", c.Policy.Constraint, err)
			return b
		}
	}
	var sched cron.Schedule
	if c.Policy.Schedule != "" {
		if sched, err = cron.ParseStandard(c.Policy.Schedule); err != nil {
			b.Status, b.Reason = StatusInvalid, fmt.Sprintf("upgrade.schedule %q: %v", c.Policy.Schedule, err)
			return b
		}
	}
	if len(avail) == 0 {
		b.Status, b.Reason = StatusUnknown, "no versions found upstream"
		return b
	}

	newest, allowed := pickVersions(avail, from, constraint, c.Policy.PreRelease)
	if newest != nil {
		b.Newest = newest.Version
	}
	if allowed == nil {
		b.Status = StatusUpToDate
		return b
	}
	b.Status, b.To, b.Target = StatusUpgrade, allowed.Version, *allowed
	b.Due = sched == nil || !sched.Next(now.Add(-ScheduleWindow)).After(now)
	b.Branches = fitBranches(allowed.KubeVersion, branches)
	return b
}

// pickVersions returns the newest version overall (pre-releases only when allowed) and the
// newest one the constraint allows that is newer than from.
func pickVersions(avail []Available, from *semver.Version, constraint *semver.Constraints, preRelease bool) (newest, allowed *Available) {
	var newestV, allowedV *semver.Version
	for i := range avail {
		v, err := semver.NewVersion(avail[i].Version)
		if err != nil {
			continue // upstream tags that are not versions (e.g. "latest") are ignored
		}
		if v.Prerelease() != "" && !preRelease {
			continue
		}
		if newestV == nil || v.GreaterThan(newestV) {
			newestV, newest = v, &avail[i]
		}
		if !v.GreaterThan(from) || (constraint != nil && !checkConstraint(constraint, v, preRelease)) {
			continue
		}
		if allowedV == nil || v.GreaterThan(allowedV) {
			allowedV, allowed = v, &avail[i]
		}
	}
	return newest, allowed
}

// checkConstraint checks v against c; with pre-releases allowed, a pre-release satisfies a
// range that does not itself name a pre-release (">=1.0.0" admits "1.2.0-rc.1").
func checkConstraint(c *semver.Constraints, v *semver.Version, preRelease bool) bool {
	cc := *c
	cc.IncludePrerelease = preRelease
	return cc.Check(v)
}

func fitBranches(kubeVersion string, branches []Branch) []BranchFit {
	fits := make([]BranchFit, 0, len(branches))
	for _, br := range branches {
		fits = append(fits, BranchFit{
			Branch:            br.Name,
			KubernetesVersion: br.KubernetesVersion,
			Compatible:        KubeVersionAdmits(kubeVersion, br.KubernetesVersion),
		})
	}
	sort.Slice(fits, func(i, j int) bool { return fits[i].Branch < fits[j].Branch })
	return fits
}

// KubeVersionAdmits reports whether a chart's kubeVersion constraint admits Kubernetes minor
// (e.g. "1.33"), checked as v1.33.0 with Masterminds semver the way Helm's
// chartutil.IsCompatibleRange does. Pre-releases are included, so a chart written for vendor
// builds (">=1.25.0-0") and one written plainly (">=1.25.0") both admit 1.33. An empty
// constraint admits every minor; an unparsable one admits none.
func KubeVersionAdmits(constraint, minor string) bool {
	if strings.TrimSpace(constraint) == "" {
		return true
	}
	v, err := semver.NewVersion(strings.TrimPrefix(minor, "v") + ".0")
	if err != nil {
		return false
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return false
	}
	c.IncludePrerelease = true
	return c.Check(v)
}

// ReleaseBranches returns the branches among names that start with prefix followed by a
// Kubernetes minor ("release-1.33"), sorted by name.
func ReleaseBranches(names []string, prefix string) []Branch {
	seen := map[string]bool{}
	var out []Branch
	for _, n := range names {
		minor, ok := strings.CutPrefix(n, prefix)
		if !ok || seen[n] || !isMinor(minor) {
			continue
		}
		seen[n] = true
		out = append(out, Branch{Name: n, KubernetesVersion: minor})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func isMinor(s string) bool {
	major, minor, ok := strings.Cut(s, ".")
	return ok && isDigits(major) && isDigits(minor)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
