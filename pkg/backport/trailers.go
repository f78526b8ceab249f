package backport

import (
	"regexp"
	"strings"

	"github.com/addonsync/addonsync/pkg/upgrade"
)

// Trailers addonsync reads and writes on commits.
const (
	// TrailerUpgrade marks an upgrade commit: "Addonsync-Upgrade: <addon> <from> -> <to>"
	// (written by upgrade pull requests, upgrade.TrailerKey).
	TrailerUpgrade = upgrade.TrailerKey
	// TrailerBackport asks for a backport: "Addonsync-Backport: release-1.33, release-1.34"
	// or "Addonsync-Backport: all".
	TrailerBackport = "Addonsync-Backport"
	// TrailerBackportOf records on a release branch commit which main commit it carries:
	// "Addonsync-Backport-Of: <sha>". It is written in the commit message and in the pull
	// request body, so it survives a squash or rebase merge of the backport pull request.
	TrailerBackportOf = "Addonsync-Backport-Of"
)

// AllBranches is the Addonsync-Backport value that asks for every release branch.
const AllBranches = "all"

var cherryPickedRe = regexp.MustCompile(`\(cherry picked from commit ([0-9a-f]{7,64})\)`)

// trailerValues returns the values of every "key: value" line of message, in order.
func trailerValues(message, key string) []string {
	var out []string
	for _, line := range strings.Split(message, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), key) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// CarriedBy returns the main commits a release branch commit message says it carries:
// "(cherry picked from commit <sha>)" lines (git cherry-pick -x) and Addonsync-Backport-Of
// trailers, several when a squash merge joined messages.
func CarriedBy(message string) []string {
	var out []string
	for _, m := range cherryPickedRe.FindAllStringSubmatch(message, -1) {
		out = append(out, m[1])
	}
	for _, v := range trailerValues(message, TrailerBackportOf) {
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			if isHex(f) && len(f) >= 7 {
				out = append(out, f)
			}
		}
	}
	return out
}

func isHex(s string) bool {
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return s != ""
}

// parseUpgrade reads "<addon> <from> -> <to>".
func parseUpgrade(v string) (Upgrade, bool) {
	f := strings.Fields(v)
	if len(f) != 4 || f[2] != "->" {
		return Upgrade{}, false
	}
	return Upgrade{Addon: f[0], From: f[1], To: f[3]}, true
}

// parseTargets reads "release-1.33, release-1.34" or "all"; nil means all.
func parseTargets(values []string) (targets []string, all bool) {
	for _, v := range values {
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			if strings.EqualFold(f, AllBranches) {
				all = true
				continue
			}
			targets = append(targets, f)
		}
	}
	return targets, all
}
