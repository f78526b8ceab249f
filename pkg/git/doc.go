// Package git is addonsync's only door to git: it opens local clones, mirrors and clones the
// config repo over HTTPS with a token, reads any commit as a file system without a checkout,
// lists branches and commits, writes commits without a work tree and pushes them with a
// lease. go-git sits behind it; nothing else in addonsync imports go-git.
//
// # Reading
//
// Open(dir) opens the repository holding dir (a work tree, a subdirectory of one, or a bare
// repository). Repository.Resolve turns a branch, tag, commit SHA or any git-rev-parse
// revision into a Hash, trying origin/<name> for a branch that exists only on the remote.
// Repository.FS serves a commit's tree as an fs.FS: symlinks are followed while they stay
// inside the tree, a symlink out of it reads as not found, submodules are not served, and
// every file's modification time is the commit time. Log lists the commits on a branch that
// another lacks, with their messages (Commit.Trailer reads "Key: value" trailers);
// ParentFS and ChangedFiles give what a commit changed, which is what a cherry-pick needs.
//
// # Remotes and auth
//
// RemoteOptions name an HTTPS URL and a token, sent as basic auth with user TokenUser (as
// GitHub expects). A rejected token surfaces as ErrGitAuth, never with the token in the
// message. OpenRemote keeps a bare clone (on disk or in memory) whose branches track origin
// under refs/remotes/origin; Mirror keeps a non-bare clone whose local branches are
// origin's, so Open and Resolve read it like any clone.
//
// # Writing
//
// Repository.WriteCommit writes a commit on a parent that sets (or, with a nil content,
// deletes) files, without a work tree. Push sets origin's branch to a commit: creating it
// when the lease is zero, else only while origin's branch is still at the lease (git push
// --force-with-lease), so nobody else's work is overwritten.
//
// The interfaces Reader, Writer and Remote split these by capability; *Repository
// implements all three.
package git
