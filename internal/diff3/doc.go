// Package diff3 merges three versions of a text file line by line, as git merge-file does.
//
// [Merge] diffs base→ours and base→theirs with the Myers algorithm as git's xdiff runs it
// (the same record cleanup, middle-snake split and change compaction), so that hunk
// boundaries land where git puts them, then walks both edit scripts like xdiff's
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
// The tests compare Merge with `git merge-file -p` on hundreds of generated inputs.
// Known differences: CRLF files (git writes "\r\n" markers when the conflicting lines end in
// CRLF; Merge always writes "\n"), and inputs whose edit cost exceeds 256 lines, where git's
// speed heuristics apply (ported, but not checked against git by the tests).
package diff3
