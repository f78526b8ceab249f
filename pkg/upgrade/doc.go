// Package upgrade finds newer upstream chart versions for add-ons and proposes them as
// pull requests.
//
// # Pieces
//
// The work is split the way cke splits deciding from doing:
//
//   - [Discoverer] lists the versions a chart source publishes (an HTTP chart repository's
//     index.yaml, or the tags of an oci:// registry), with each version's kubeVersion
//     constraint, digest and changelog.
//   - [Plan] is pure: given the current versions, what is available, the release branches
//     and the time, it returns one [Bump] per add-on saying what to propose and which release
//     branches the new chart admits.
//   - [Executor] does the I/O for `addonsync upgrade pr`: it fetches the config repo, commits
//     the version change on addonsync/upgrade/<addon> (editing only the version scalar, so
//     comments and layout stay byte-for-byte), pushes with a lease, and opens or updates one
//     pull request per add-on through [PullRequests]. Each cluster in the body is rendered
//     from its own branch (release-<minor> with the bump applied, else main). An upgrade
//     pull request whose version main already has is closed with a comment and its branch
//     deleted ([ClosePullRequest]); a branch a person pushed to is left alone and the pull
//     request says so once ([SayEdited]).
//
// # Policy
//
// An add-on's spec.upgrade decides what is proposed: Enabled false turns it off, Constraint
// is a semver range the new version must satisfy, PreRelease admits pre-releases, and
// Schedule (a cron expression) gates pull requests: an upgrade is due when a tick of the
// schedule fell within the last [ScheduleWindow] before now. `upgrade check` reports
// every add-on regardless of schedule.
package upgrade
