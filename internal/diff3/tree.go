package diff3

import (
	"bytes"
	"fmt"
	"maps"
	"path"
	"slices"
)

// Tree is the files of a commit: slash-separated path → content.
type Tree map[string][]byte

// ConflictKind says how a file conflicted in MergeTrees.
type ConflictKind string

// Conflict kinds, named as git names them in its "CONFLICT (...)" messages.
const (
	// KindContent: both sides changed the same lines.
	KindContent ConflictKind = "content"
	// KindAddAdd: both sides added the path with different content.
	KindAddAdd ConflictKind = "add/add"
	// KindModifyDelete: one side changed the file, the other deleted it.
	KindModifyDelete ConflictKind = "modify/delete"
	// KindRenameDelete: one side renamed the file, the other deleted it.
	KindRenameDelete ConflictKind = "rename/delete"
	// KindRenameRename: the sides renamed the file to different paths.
	KindRenameRename ConflictKind = "rename/rename"
)

// String returns the kind as git prints it.
func (k ConflictKind) String() string { return string(k) }

// FileConflict is one conflicting path of a tree merge.
type FileConflict struct {
	// Path is the file in the result (the surviving side's path for modify/delete).
	Path string `json:"path"`
	// Kind is what conflicted.
	Kind ConflictKind `json:"kind"`
	// Message explains the conflict as git would.
	Message string `json:"message"`
	// Hunks are the conflict blocks written into the file (content and add/add only).
	Hunks []Conflict `json:"hunks,omitempty"`
}

// Rename is a file moved by one side, found by identical content.
type Rename struct {
	From, To string
	// Side is "ours" or "theirs".
	Side string
}

// TreeOptions label a tree merge.
type TreeOptions struct {
	// OursLabel and TheirsLabel name the sides in conflict markers and messages, as git
	// cherry-pick uses "HEAD" and "<short sha> (<subject>)".
	OursLabel, TheirsLabel string
	// Level is the file merge level (default LevelZealous, as git cherry-pick).
	Level Level
}

// TreeResult is a merged tree.
type TreeResult struct {
	// Tree is the result, conflicting files included with markers (or the surviving side).
	Tree Tree
	// Conflicts lists the conflicting paths, sorted by path.
	Conflicts []FileConflict
	// Renames lists the renames that were followed.
	Renames []Rename
}

// Clean reports whether the tree merge had no conflict.
func (r TreeResult) Clean() bool { return len(r.Conflicts) == 0 }

// entry is one file's three versions, keyed by the path of each side (empty: absent).
type entry struct {
	basePath, oursPath, theirsPath string
}

// MergeTrees applies the change base→theirs to ours, as `git cherry-pick` does with base
// the commit's parent, ours the branch and theirs the commit: a three-way merge per file,
// following renames (identical content, or similar by git's measure), with additions,
// deletions, modify/delete and add/add handled. Directory renames and file modes are not
// considered.
func MergeTrees(base, ours, theirs Tree, o TreeOptions) TreeResult {
	if o.OursLabel == "" {
		o.OursLabel = "ours"
	}
	if o.TheirsLabel == "" {
		o.TheirsLabel = "theirs"
	}
	res := TreeResult{Tree: Tree{}}
	r1 := renames(base, ours)
	r2 := renames(base, theirs)
	var entries []entry
	claimed1, claimed2 := map[string]bool{}, map[string]bool{}
	for _, p := range slices.Sorted(maps.Keys(base)) {
		e := entry{basePath: p}
		if to, ok := r1[p]; ok {
			e.oursPath, claimed1[to] = to, true
			res.Renames = append(res.Renames, Rename{From: p, To: to, Side: "ours"})
		} else if _, ok := ours[p]; ok {
			e.oursPath = p
		}
		if to, ok := r2[p]; ok {
			e.theirsPath, claimed2[to] = to, true
			res.Renames = append(res.Renames, Rename{From: p, To: to, Side: "theirs"})
		} else if _, ok := theirs[p]; ok {
			e.theirsPath = p
		}
		claimed1[e.oursPath], claimed2[e.theirsPath] = true, true
		entries = append(entries, e)
	}
	for _, p := range slices.Sorted(maps.Keys(ours)) {
		if !claimed1[p] {
			e := entry{oursPath: p}
			if _, ok := theirs[p]; ok && !claimed2[p] {
				e.theirsPath, claimed2[p] = p, true
			}
			entries = append(entries, e)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(theirs)) {
		if !claimed2[p] {
			entries = append(entries, entry{theirsPath: p})
		}
	}
	m := &treeMerge{base: base, ours: ours, theirs: theirs, o: o, res: &res}
	for _, e := range entries {
		m.mergeEntry(e)
	}
	slices.SortFunc(res.Conflicts, func(a, b FileConflict) int {
		if a.Path != b.Path {
			return compareStrings(a.Path, b.Path)
		}
		return compareStrings(string(a.Kind), string(b.Kind))
	})
	return res
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type treeMerge struct {
	base, ours, theirs Tree
	o                  TreeOptions
	res                *TreeResult
}

func (m *treeMerge) conflict(c FileConflict) { m.res.Conflicts = append(m.res.Conflicts, c) }

// put writes a result file; a second writer of the same path is an add/add conflict
// (e.g. a rename onto a path the other side added), merged as two additions.
func (m *treeMerge) put(p string, data []byte) {
	prev, ok := m.res.Tree[p]
	if !ok || bytes.Equal(prev, data) {
		m.res.Tree[p] = data
		return
	}
	r := Merge(nil, prev, data, Options{OursLabel: m.o.OursLabel, TheirsLabel: m.o.TheirsLabel, Level: m.o.Level, Algorithm: Histogram})
	m.res.Tree[p] = r.Merged
	m.conflict(FileConflict{Path: p, Kind: KindAddAdd, Message: fmt.Sprintf("CONFLICT (add/add): Merge conflict in %s", p), Hunks: r.Conflicts})
}

func (m *treeMerge) mergeEntry(e entry) {
	b, hasB := m.base[e.basePath]
	o, hasO := m.ours[e.oursPath]
	t, hasT := m.theirs[e.theirsPath]
	hasB, hasO, hasT = hasB && e.basePath != "", hasO && e.oursPath != "", hasT && e.theirsPath != ""
	renamedO := hasB && hasO && e.oursPath != e.basePath
	renamedT := hasB && hasT && e.theirsPath != e.basePath
	switch {
	case renamedO && renamedT && e.oursPath != e.theirsPath:
		m.put(e.oursPath, o)
		m.put(e.theirsPath, t)
		m.conflict(FileConflict{Path: e.basePath, Kind: KindRenameRename, Message: fmt.Sprintf(
			"CONFLICT (rename/rename): %s renamed to %s in %s and to %s in %s", e.basePath, e.oursPath, m.o.OursLabel, e.theirsPath, m.o.TheirsLabel)})
	case renamedT && !hasO:
		m.put(e.theirsPath, t)
		m.conflict(FileConflict{Path: e.theirsPath, Kind: KindRenameDelete, Message: fmt.Sprintf(
			"CONFLICT (rename/delete): %s renamed to %s in %s, but deleted in %s", e.basePath, e.theirsPath, m.o.TheirsLabel, m.o.OursLabel)})
	case renamedO && !hasT:
		m.put(e.oursPath, o)
		m.conflict(FileConflict{Path: e.oursPath, Kind: KindRenameDelete, Message: fmt.Sprintf(
			"CONFLICT (rename/delete): %s renamed to %s in %s, but deleted in %s", e.basePath, e.oursPath, m.o.OursLabel, m.o.TheirsLabel)})
	default:
		m.mergeContent(e, b, o, t, hasB, hasO, hasT)
	}
}

// mergeContent merges one file whose sides are at most renamed to a common path.
func (m *treeMerge) mergeContent(e entry, b, o, t []byte, hasB, hasO, hasT bool) {
	target := e.oursPath
	if e.theirsPath != e.basePath && e.theirsPath != "" {
		target = e.theirsPath
	}
	if target == "" {
		target = e.basePath
	}
	switch {
	case !hasB && hasO != hasT: // added on one side
		if hasO {
			m.put(target, o)
		} else {
			m.put(e.theirsPath, t)
		}
	case hasO == hasT && (!hasO || bytes.Equal(o, t)):
		if hasO {
			m.put(target, o)
		}
	case hasB && hasO == hasB && bytes.Equal(b, o) && e.oursPath == e.basePath:
		if hasT {
			m.put(target, t)
		}
	case hasB && hasT == hasB && bytes.Equal(b, t) && e.theirsPath == e.basePath:
		if hasO {
			m.put(target, o)
		}
	case hasB && !hasO:
		m.put(e.theirsPath, t)
		m.conflict(FileConflict{Path: e.theirsPath, Kind: KindModifyDelete, Message: fmt.Sprintf(
			"CONFLICT (modify/delete): %s deleted in %s and modified in %s. Version %s of %s left in tree.", e.basePath, m.o.OursLabel, m.o.TheirsLabel, m.o.TheirsLabel, e.theirsPath)})
	case hasB && !hasT:
		m.put(e.oursPath, o)
		m.conflict(FileConflict{Path: e.oursPath, Kind: KindModifyDelete, Message: fmt.Sprintf(
			"CONFLICT (modify/delete): %s deleted in %s and modified in %s. Version %s of %s left in tree.", e.basePath, m.o.TheirsLabel, m.o.OursLabel, m.o.OursLabel, e.oursPath)})
	default:
		opts := Options{OursLabel: m.o.OursLabel, TheirsLabel: m.o.TheirsLabel, Level: m.o.Level, Algorithm: Histogram}
		if hasB && e.oursPath != e.theirsPath {
			// git labels the sides with their paths when a rename is involved.
			opts.OursLabel = m.o.OursLabel + ":" + e.oursPath
			opts.TheirsLabel = m.o.TheirsLabel + ":" + e.theirsPath
		}
		if !hasB {
			b = nil
		}
		r := Merge(b, o, t, opts)
		if _, taken := m.res.Tree[target]; taken {
			m.put(target, r.Merged)
		} else {
			m.res.Tree[target] = r.Merged
		}
		if !r.Clean() {
			kind, what := KindContent, "content"
			if !hasB {
				kind, what = KindAddAdd, "add/add"
			}
			m.conflict(FileConflict{Path: target, Kind: kind, Message: fmt.Sprintf("CONFLICT (%s): Merge conflict in %s", what, target), Hunks: r.Conflicts})
		}
	}
}

// renames pairs the files side deleted from base with the files it added, as git's rename
// detection does: identical content first (among several sources the one with the same
// base name, then the first by path), then the most similar pairs scoring at least
// [RenameThreshold] percent. Empty files are never renames.
func renames(base, side Tree) map[string]string {
	var srcs, dsts []string
	for _, p := range slices.Sorted(maps.Keys(base)) {
		if _, kept := side[p]; !kept && len(base[p]) > 0 {
			srcs = append(srcs, p)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(side)) {
		if _, existed := base[p]; !existed && len(side[p]) > 0 {
			dsts = append(dsts, p)
		}
	}
	out := map[string]string{}
	used, placed := map[string]bool{}, map[string]bool{}
	for _, to := range dsts {
		best := ""
		for _, from := range srcs {
			if used[from] || !bytes.Equal(base[from], side[to]) {
				continue
			}
			if best == "" || (path.Base(from) == path.Base(to) && path.Base(best) != path.Base(to)) {
				best = from
			}
		}
		if best != "" {
			out[best], used[best], placed[to] = to, true, true
		}
	}
	type pair struct {
		from, to string
		score    int
	}
	var pairs []pair
	for _, from := range srcs {
		if used[from] {
			continue
		}
		for _, to := range dsts {
			if !placed[to] {
				if s := similarity(base[from], side[to]); s >= RenameThreshold {
					pairs = append(pairs, pair{from, to, s})
				}
			}
		}
	}
	slices.SortStableFunc(pairs, func(a, b pair) int { return b.score - a.score })
	for _, p := range pairs {
		if !used[p.from] && !placed[p.to] {
			out[p.from], used[p.from], placed[p.to] = p.to, true, true
		}
	}
	return out
}

// RenameThreshold is the similarity (percent) from which a deleted and an added file are
// a rename, git's default -M50%.
const RenameThreshold = 50

// similarity scores how much of a survives in b, as git's diffcore_count_changes does:
// both are cut into chunks at each newline or every 64 bytes, and the bytes of a's chunks
// found in b count, over the larger size.
func similarity(a, b []byte) int {
	maxSize := max(len(a), len(b))
	if maxSize == 0 {
		return 100
	}
	if delta := abs(len(a) - len(b)); delta*100 > maxSize*(100-RenameThreshold) {
		return 0
	}
	inB := map[string]int{}
	for _, c := range chunks(b) {
		inB[c] += len(c)
	}
	copied := 0
	for c, n := range countChunks(a) {
		copied += min(n, inB[c])
	}
	return copied * 100 / maxSize
}

func countChunks(data []byte) map[string]int {
	out := map[string]int{}
	for _, c := range chunks(data) {
		out[c] += len(c)
	}
	return out
}

func chunks(data []byte) []string {
	var out []string
	start := 0
	for i, c := range data {
		if c == '\n' || i-start+1 >= 64 {
			out = append(out, string(data[start:i+1]))
			start = i + 1
		}
	}
	if start < len(data) {
		out = append(out, string(data[start:]))
	}
	return out
}
