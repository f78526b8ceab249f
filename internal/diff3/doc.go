// Package diff3 merges three versions of a text file line by line, as git merge-file does.
//
// [Merge] diffs base→ours and base→theirs as git's xdiff does (histogram, as git
// cherry-pick runs it, or Myers, as git merge-file does, with the same record cleanup,
// middle-snake split and change compaction), so that hunk boundaries land where git puts
// them, then walks both edit scripts like xdiff's
// xdl_merge: changes on one side are taken, changes on both sides that are identical are
// taken once, and overlapping or touching changes become a conflict, refined to the lines
// that really differ. Conflicts are written in git's default "merge" style:
//
//	<<<<<<< ours-label
//	our lines
//	=======
//	their lines
//	>>>>>>> theirs-label
//
// Two levels are offered: [LevelZealous] is what git cherry-pick and merge use (conflicts
// fewer than four lines apart are joined) and [LevelZealousAlnum], git merge-file's default,
// also joins conflicts separated only by lines without letters or digits.
//
// [MergeTrees] does the same for whole trees, as git cherry-pick: per file, following
// renames, with additions, deletions, modify/delete and add/add conflicts.
//
// The tests compare Merge with `git merge-file -p` on hundreds of generated inputs
// (byte-identical output and conflict count), and MergeTrees with `git cherry-pick` on
// generated trees (identical work tree and conflicting paths).
// Known differences: CRLF files (git writes "\r\n" markers when the conflicting lines end in
// CRLF; Merge always writes "\n"), and inputs whose edit cost exceeds 256 lines, where git's
// speed heuristics apply (ported, but not checked against git by the tests).
package diff3
