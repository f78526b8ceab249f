package diff3

import (
	"bytes"
	"strings"
)

// Level says how hard Merge tries to shrink and join conflicts.
type Level string

// Levels of Merge.
const (
	// LevelZealous refines conflicts to the lines that differ and joins conflicts fewer
	// than four lines apart, as git cherry-pick and git merge do.
	LevelZealous Level = "zealous"
	// LevelZealousAlnum also joins conflicts separated only by lines without a letter or
	// digit, as git merge-file does by default.
	LevelZealousAlnum Level = "zealous-alnum"
)

// String returns the level's name.
func (l Level) String() string { return string(l) }

// Options label the conflict markers.
type Options struct {
	// OursLabel follows "<<<<<<<" (git: the -L of the current file).
	OursLabel string
	// TheirsLabel follows ">>>>>>>".
	TheirsLabel string
	// MarkerSize is the length of the markers (default 7).
	MarkerSize int
	// Level is how conflicts are refined (default LevelZealous).
	Level Level
	// Algorithm is the line diff (default Histogram, as git cherry-pick; git merge-file
	// uses Myers).
	Algorithm Algorithm
}

// DefaultOptions returns the options git cherry-pick uses, labels "ours" and "theirs".
func DefaultOptions() Options {
	return Options{OursLabel: "ours", TheirsLabel: "theirs", MarkerSize: defaultMarks, Level: LevelZealous, Algorithm: Histogram}
}

// Conflict is one conflict block of a merge result. Lines count from 1.
type Conflict struct {
	// Line is the line of the "<<<<<<<" marker in the merged output.
	Line int `json:"line"`
	// Ours and Theirs are the conflicting lines of each side.
	Ours   []string `json:"ours"`
	Theirs []string `json:"theirs"`
	// OursLine is the first conflicting line in ours (the line before, for no lines).
	OursLine int `json:"oursLine"`
}

// Result is a merged file.
type Result struct {
	// Merged is the merged content, with conflict markers where Conflicts says.
	Merged []byte
	// Conflicts lists the conflict blocks in order; empty for a clean merge.
	Conflicts []Conflict
}

// Clean reports whether the merge had no conflict.
func (r Result) Clean() bool { return len(r.Conflicts) == 0 }

// merge is one hunk of the merge (xdmerge_t): mode 0 conflict, 1 ours, 2 theirs,
// 4 identical after refinement.
type merge struct {
	mode     int
	i0, chg0 int
	i1, chg1 int
	i2, chg2 int
}

// Merge merges the changes base→ours and base→theirs into ours.
func Merge(base, ours, theirs []byte, o Options) Result {
	if o.MarkerSize <= 0 {
		o.MarkerSize = defaultMarks
	}
	if o.Level == "" {
		o.Level = LevelZealous
	}
	if o.Algorithm == "" {
		o.Algorithm = Histogram
	}
	lb, l1, l2 := splitLines(base), splitLines(ours), splitLines(theirs)
	e1, s1 := diffLines(lb, l1, o.Algorithm)
	e2, s2 := diffLines(lb, l2, o.Algorithm)
	if len(s1) == 0 {
		return Result{Merged: bytes.Clone(theirs)}
	}
	if len(s2) == 0 {
		return Result{Merged: bytes.Clone(ours)}
	}
	ms := combine(e1, s1, e2, s2)
	ms = refine(e1, e2, ms, o.Algorithm)
	ms = simplify(e1, ms, o.Level == LevelZealousAlnum)
	return fill(e1, e2, ms, o)
}

// combine walks both edit scripts and builds the merge hunks (the loop of xdl_do_merge).
func combine(e1 *diffEnv, s1 []change, e2 *diffEnv, s2 []change) []*merge {
	var ms []*merge
	add := func(mode, i0, chg0, i1, chg1, i2, chg2 int) {
		if n := len(ms); n > 0 {
			m := ms[n-1]
			if i1 <= m.i1+m.chg1 || i2 <= m.i2+m.chg2 {
				if mode != m.mode {
					m.mode = 0
				}
				m.chg0 = i0 + chg0 - m.i0
				m.chg1 = i1 + chg1 - m.i1
				m.chg2 = i2 + chg2 - m.i2
				return
			}
		}
		ms = append(ms, &merge{mode: mode, i0: i0, chg0: chg0, i1: i1, chg1: chg1, i2: i2, chg2: chg2})
	}
	for len(s1) > 0 && len(s2) > 0 {
		x1, x2 := s1[0], s2[0]
		if x1.i1+x1.chg1 < x2.i1 {
			add(1, x1.i1, x1.chg1, x1.i2, x1.chg2, x2.i2-x2.i1+x1.i1, x1.chg1)
			s1 = s1[1:]
			continue
		}
		if x2.i1+x2.chg1 < x1.i1 {
			add(2, x2.i1, x2.chg1, x1.i2-x1.i1+x2.i1, x2.chg1, x2.i2, x2.chg2)
			s2 = s2[1:]
			continue
		}
		if x1.i1 != x2.i1 || x1.chg1 != x2.chg1 || x1.chg2 != x2.chg2 ||
			!sameLines(e1.l2[x1.i2:x1.i2+x1.chg2], e2.l2[x2.i2:x2.i2+x2.chg2]) {
			off := x1.i1 - x2.i1
			ffo := off + x1.chg1 - x2.chg1
			i0, i1, i2 := x1.i1, x1.i2, x2.i2
			if off > 0 {
				i0 -= off
				i1 -= off
			} else {
				i2 += off
			}
			chg0 := x1.i1 + x1.chg1 - i0
			chg1 := x1.i2 + x1.chg2 - i1
			chg2 := x2.i2 + x2.chg2 - i2
			if ffo < 0 {
				chg0 -= ffo
				chg1 -= ffo
			} else {
				chg2 += ffo
			}
			add(0, i0, chg0, i1, chg1, i2, chg2)
		}
		end1, end2 := x1.i1+x1.chg1, x2.i1+x2.chg1
		if end1 >= end2 {
			s2 = s2[1:]
		}
		if end2 >= end1 {
			s1 = s1[1:]
		}
	}
	for _, x1 := range s1 {
		add(1, x1.i1, x1.chg1, x1.i2, x1.chg2, x1.i1+len(e2.l2)-len(e2.l1), x1.chg1)
	}
	for _, x2 := range s2 {
		add(2, x2.i1, x2.chg1, x2.i1+len(e1.l2)-len(e1.l1), x2.chg1, x2.i2, x2.chg2)
	}
	return ms
}

func sameLines(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// refine diffs the two sides of each conflict and keeps only the differing runs as
// conflicts (xdl_refine_conflicts); a conflict whose sides are equal becomes mode 4.
func refine(e1, e2 *diffEnv, ms []*merge, alg Algorithm) []*merge {
	var out []*merge
	for _, m := range ms {
		if m.mode != 0 || m.chg1 == 0 || m.chg2 == 0 {
			out = append(out, m)
			continue
		}
		_, script := diffLines(e1.l2[m.i1:m.i1+m.chg1], e2.l2[m.i2:m.i2+m.chg2], alg)
		if len(script) == 0 {
			m.mode = 4
			out = append(out, m)
			continue
		}
		i1, i2 := m.i1, m.i2
		for _, x := range script {
			out = append(out, &merge{mode: 0, i0: m.i0, chg0: m.chg0, i1: x.i1 + i1, chg1: x.chg1, i2: x.i2 + i2, chg2: x.chg2})
		}
	}
	return out
}

// simplify joins conflicts separated by at most three lines, or (alnum) by lines with no
// letter or digit (xdl_simplify_non_conflicts).
func simplify(e1 *diffEnv, ms []*merge, alnum bool) []*merge {
	if len(ms) == 0 {
		return ms
	}
	out := []*merge{ms[0]}
	for _, next := range ms[1:] {
		m := out[len(out)-1]
		begin, end := m.i1+m.chg1, next.i1
		if m.mode != 0 || next.mode != 0 || (end-begin > 3 && (!alnum || containsAlnum(e1.l2[begin:end]))) {
			out = append(out, next)
			continue
		}
		m.chg1 = next.i1 + next.chg1 - m.i1
		m.chg2 = next.i2 + next.chg2 - m.i2
	}
	return out
}

func containsAlnum(lines [][]byte) bool {
	for _, l := range lines {
		for _, c := range l {
			if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				return true
			}
		}
	}
	return false
}

// fill writes the merged file (xdl_fill_merge_buffer in "merge" style).
func fill(e1, e2 *diffEnv, ms []*merge, o Options) Result {
	var buf bytes.Buffer
	var conflicts []Conflict
	lines := 0
	copyLines := func(ls [][]byte, addNL bool) {
		for _, l := range ls {
			buf.Write(l)
		}
		lines += len(ls)
		if addNL && len(ls) > 0 {
			if last := ls[len(ls)-1]; len(last) == 0 || last[len(last)-1] != '\n' {
				buf.WriteByte('\n')
			}
		}
	}
	marker := func(c byte, label string) {
		buf.WriteString(strings.Repeat(string(c), o.MarkerSize))
		if label != "" {
			buf.WriteByte(' ')
			buf.WriteString(label)
		}
		buf.WriteByte('\n')
		lines++
	}
	ours, theirs := e1.l2, e2.l2
	i := 0
	for _, m := range ms {
		switch {
		case m.mode == 0:
			copyLines(ours[i:m.i1], false)
			c := Conflict{Line: lines + 1, OursLine: m.i1 + 1, Ours: texts(ours[m.i1 : m.i1+m.chg1]), Theirs: texts(theirs[m.i2 : m.i2+m.chg2])}
			if m.chg1 == 0 {
				c.OursLine = m.i1
			}
			conflicts = append(conflicts, c)
			marker('<', o.OursLabel)
			copyLines(ours[m.i1:m.i1+m.chg1], true)
			marker('=', "")
			copyLines(theirs[m.i2:m.i2+m.chg2], true)
			marker('>', o.TheirsLabel)
		case m.mode&3 != 0:
			copyLines(ours[i:m.i1], false)
			if m.mode&1 != 0 {
				copyLines(ours[m.i1:m.i1+m.chg1], m.mode&2 != 0)
			}
			if m.mode&2 != 0 {
				copyLines(theirs[m.i2:m.i2+m.chg2], false)
			}
		default:
			continue
		}
		i = m.i1 + m.chg1
	}
	copyLines(ours[i:], false)
	return Result{Merged: buf.Bytes(), Conflicts: conflicts}
}

func texts(ls [][]byte) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = strings.TrimSuffix(string(l), "\n")
	}
	return out
}
