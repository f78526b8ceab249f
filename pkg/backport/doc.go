// Package backport carries changes merged to the main branch to the release branches
// (one per Kubernetes minor) they suit, as pull requests.
//
// # What is carried
//
// [ParseChange] recognises two kinds of main commits by their trailers: upgrade commits
// ("Addonsync-Upgrade: ingress-nginx 4.14.5 -> 4.15.1", written by upgrade pull
// requests) and commits asking for a backport ("Addonsync-Backport: release-1.33,
// release-1.34" or "Addonsync-Backport: all"). A branch already carries a commit when the
// commit is reachable from it, or one of its commits records it with a "(cherry picked
// from commit <sha>)" line or an "Addonsync-Backport-Of: <sha>" trailer ([CarriedBy]).
// Backport commits and backport pull request bodies both carry the trailer, so the record
// survives a squash or rebase merge.
//
// # Deciding and doing
//
// [Plan] is pure: changes, release branches (their minor, add-on versions and carried
// commits) and the new charts' kubeVersion constraints in; one [Item] per change and
// branch out. Upgrades are replayed, not patched: the newest version the branch admits is
// set in the branch's addon.yaml and lock. A branch whose minor the chart's kubeVersion
// excludes, or that is already at or past the version, is skipped with the reason.
// Other commits are merged three-way per file (internal/diff3, checked against git
// cherry-pick); a conflict gives a draft pull request with the markers committed, and when
// a later run merges cleanly the draft is closed for a ready pull request (GitHub's REST
// API cannot mark a draft ready).
//
// # Pull request life cycle
//
// A rerun rebuilds a backport branch on its release branch's head and force-pushes it with
// a lease, but only while it holds addonsync's commit alone; a commit by anyone else stops
// addonsync, which says so once on the pull request. A pull request whose change is no
// longer needed (superseded by a newer upgrade, already on the branch, or now excluded) is
// closed with a comment giving the reason, and its branch deleted.
package backport
