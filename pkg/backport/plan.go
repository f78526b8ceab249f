package backport

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/addonsync/addonsync/pkg/upgrade"
)

// Commit is a commit on the main branch as the planner sees it.
type Commit struct {
	// SHA is the full commit id.
	SHA string `json:"sha"`
	// Message is the full commit message.
	Message string `json:"-"`
}

// Subject is the first line of the message.
func (c Commit) Subject() string {
	s, _, _ := strings.Cut(c.Message, "\n")
	return strings.TrimSpace(s)
}

// Short is the abbreviated commit id used in branch names.
func (c Commit) Short() string { return short(c.SHA) }

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// Kind is how a change is carried to a release branch.
type Kind string

// Kinds of Change.
const (
	// KindUpgrade: an upgrade commit, replayed on the branch (version set, lock updated).
	KindUpgrade Kind = "upgrade"
	// KindCherryPick: any other commit asking for a backport, merged three-way.
	KindCherryPick Kind = "cherry-pick"
)

// String returns the kind as printed.
func (k Kind) String() string { return string(k) }

// Upgrade is the content of an Addonsync-Upgrade trailer.
type Upgrade struct {
	Addon string `json:"addon"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// Change is a main commit that asks to be carried to release branches.
type Change struct {
	// Commit is the main commit.
	Commit Commit `json:"commit"`
	// Kind says how it is carried.
	Kind Kind `json:"kind"`
	// Upgrade is set for KindUpgrade.
	Upgrade *Upgrade `json:"upgrade,omitempty"`
	// Targets are the release branches asked for; empty with All false means every
	// branch the change suits (upgrades), All is "Addonsync-Backport: all".
	Targets []string `json:"targets,omitempty"`
	All     bool     `json:"all,omitempty"`
}

// ParseChange reads the trailers of a main commit; ok is false for a commit that asks
// for nothing.
func ParseChange(c Commit) (Change, bool) {
	ch := Change{Commit: c}
	ch.Targets, ch.All = parseTargets(trailerValues(c.Message, TrailerBackport))
	if vs := trailerValues(c.Message, TrailerUpgrade); len(vs) > 0 {
		if u, ok := parseUpgrade(vs[len(vs)-1]); ok {
			ch.Kind, ch.Upgrade = KindUpgrade, &u
			if len(ch.Targets) == 0 {
				ch.All = true
			}
			return ch, true
		}
	}
	if len(ch.Targets) == 0 && !ch.All {
		return Change{}, false
	}
	ch.Kind = KindCherryPick
	return ch, true
}

// Branch is a release branch as the planner sees it.
type Branch struct {
	// Name is the branch, e.g. "release-1.33".
	Name string `json:"name"`
	// KubernetesVersion is its minor, e.g. "1.33".
	KubernetesVersion string `json:"kubernetesVersion"`
	// Carried holds the main commits the branch already has: recorded by its commits
	// (CarriedBy) or reachable from it.
	Carried map[string]bool `json:"-"`
	// Versions maps each add-on with a chart on the branch to its chart version.
	Versions map[string]string `json:"-"`

	lacking map[string]bool // main commits not reachable from the branch (executor)
}

// has reports whether the branch carries sha (full or abbreviated records).
func (b Branch) has(sha string) bool {
	if b.Carried[sha] {
		return true
	}
	for c := range b.Carried {
		if len(c) >= 7 && strings.HasPrefix(sha, c) {
			return true
		}
	}
	return false
}

// Action is what the plan does for one change on one branch.
type Action string

// Actions of an Item.
const (
	// ActionReplay: set the new version on the branch and render it.
	ActionReplay Action = "replay"
	// ActionCherryPick: merge the commit into the branch.
	ActionCherryPick Action = "cherry-pick"
	// ActionCarried: the branch already has the change.
	ActionCarried Action = "carried"
	// ActionSkip: the change does not suit the branch (see Reason).
	ActionSkip Action = "skip"
)

// String returns the action as printed.
func (a Action) String() string { return string(a) }

// Item is the decision for one change and one release branch.
type Item struct {
	// Change is the main commit.
	Change Change `json:"change"`
	// Branch is the release branch.
	Branch string `json:"branch"`
	// KubernetesVersion is the branch's minor.
	KubernetesVersion string `json:"kubernetesVersion"`
	// Action is the decision.
	Action Action `json:"action"`
	// Reason explains ActionSkip and ActionCarried.
	Reason string `json:"reason,omitempty"`
	// From is the add-on's version on the branch (upgrades).
	From string `json:"from,omitempty"`
}

// Pending reports whether the item needs a pull request.
func (it Item) Pending() bool { return it.Action == ActionReplay || it.Action == ActionCherryPick }

// KubeVersions maps "<addon> <version>" to that chart version's kubeVersion constraint
// ("" admits every minor). A missing key means it could not be read.
type KubeVersions map[string]string

// Key returns the KubeVersions key of an add-on version.
func Key(addon, version string) string { return addon + " " + version }

// Plan decides, for every change (oldest first) and every release branch, what to do. It
// is pure. For an add-on upgraded several times only the newest version a branch admits
// is replayed; the older upgrades are skipped as superseded. Items are ordered by branch,
// then by change.
func Plan(changes []Change, branches []Branch, kube KubeVersions) []Item {
	var items []Item
	for _, br := range branches {
		chosen := chooseUpgrades(changes, br, kube)
		for _, ch := range changes {
			it := Item{Change: ch, Branch: br.Name, KubernetesVersion: br.KubernetesVersion}
			switch {
			case !ch.All && !contains(ch.Targets, br.Name):
				continue
			case br.has(ch.Commit.SHA):
				it.Action, it.Reason = ActionCarried, "the branch has this commit"
			case ch.Kind == KindUpgrade:
				it.Action, it.Reason, it.From = chosen[ch.Commit.SHA].action, chosen[ch.Commit.SHA].reason, br.Versions[ch.Upgrade.Addon]
			default:
				it.Action = ActionCherryPick
			}
			items = append(items, it)
		}
	}
	return append(items, unknownTargets(changes, branches)...)
}

// unknownTargets are skip items for the branches a change names that do not exist, so a
// typo in Addonsync-Backport is reported rather than silently ignored.
func unknownTargets(changes []Change, branches []Branch) []Item {
	var items []Item
	for _, ch := range changes {
		for _, t := range ch.Targets {
			if !slices.ContainsFunc(branches, func(b Branch) bool { return b.Name == t }) {
				items = append(items, Item{Change: ch, Branch: t, Action: ActionSkip, Reason: fmt.Sprintf("there is no release branch %q", t)})
			}
		}
	}
	return items
}

type decision struct {
	action Action
	reason string
}

// chooseUpgrades decides the upgrade changes of one branch: per add-on, the newest version
// that is above the branch's and that the branch's minor admits is replayed.
func chooseUpgrades(changes []Change, br Branch, kube KubeVersions) map[string]decision {
	out := map[string]decision{}
	byAddon := map[string][]Change{}
	for _, ch := range changes {
		if ch.Kind == KindUpgrade && !br.has(ch.Commit.SHA) && (ch.All || contains(ch.Targets, br.Name)) {
			byAddon[ch.Upgrade.Addon] = append(byAddon[ch.Upgrade.Addon], ch)
		}
	}
	for _, ups := range byAddon {
		sort.SliceStable(ups, func(i, j int) bool { return versionLess(ups[j].Upgrade.To, ups[i].Upgrade.To) })
		var replayed *Change
		for _, ch := range ups {
			out[ch.Commit.SHA] = decideUpgrade(ch, br, kube, replayed)
			if out[ch.Commit.SHA].action == ActionReplay {
				replayed = &ch
			}
		}
	}
	return out
}

func decideUpgrade(ch Change, br Branch, kube KubeVersions, replayed *Change) decision {
	u := ch.Upgrade
	have, ok := br.Versions[u.Addon]
	switch {
	case !ok:
		return decision{ActionSkip, fmt.Sprintf("add-on %q has no chart on %s", u.Addon, br.Name)}
	case have == u.To:
		return decision{ActionSkip, fmt.Sprintf("%s already has %s %s", br.Name, u.Addon, u.To)}
	case !versionLess(have, u.To):
		return decision{ActionSkip, fmt.Sprintf("%s has %s %s, past %s", br.Name, u.Addon, have, u.To)}
	case replayed != nil:
		return decision{ActionSkip, fmt.Sprintf("superseded by %s %s (%s)", u.Addon, replayed.Upgrade.To, replayed.Commit.Short())}
	}
	constraint, known := kube[Key(u.Addon, u.To)]
	switch {
	case !known:
		return decision{ActionSkip, fmt.Sprintf("the kubeVersion of chart %s %s could not be read; run again when its repository answers", u.Addon, u.To)}
	case !upgrade.KubeVersionAdmits(constraint, br.KubernetesVersion):
		return decision{ActionSkip, fmt.Sprintf("chart %s %s requires Kubernetes %q, which excludes %s", u.Addon, u.To, constraint, br.KubernetesVersion)}
	}
	return decision{action: ActionReplay}
}

// versionLess compares semver versions; unparsable ones compare as strings.
func versionLess(a, b string) bool {
	va, errA := semver.NewVersion(a)
	vb, errB := semver.NewVersion(b)
	if errA != nil || errB != nil {
		return a < b
	}
	return va.LessThan(vb)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
