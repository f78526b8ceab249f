package diff3

import "bytes"

// Constants of git's xdiff (xdiff/xdiffi.h, xprepare.c).
const (
	maxCostMin   = 256
	heurMinCost  = 256
	snakeCnt     = 20
	kHeur        = 4
	maxEqLimit   = 1024
	simscanWin   = 100
	kpdisRun     = 4
	lineMax      = int(^uint(0) >> 2)
	defaultMarks = 7
)

// splitLines splits data into lines that keep their "\n"; a last line without one is kept.
func splitLines(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			out = append(out, data)
			break
		}
		out = append(out, data[:i+1])
		data = data[i+1:]
	}
	return out
}

// xfile is one side of a diff (xdfile_t): line classes, the changed marks, and the
// records left after cleanup.
type xfile struct {
	class  []int  // class of each line
	chg    []bool // changed marks, offset by one: chg[i+1] is line i
	rindex []int  // reduced index → line
	ha     []int  // reduced index → class
	dstart int
	dend   int
}

func (f *xfile) nrec() int                { return len(f.class) }
func (f *xfile) changed(i int) bool       { return f.chg[i+1] }
func (f *xfile) setChanged(i int, v bool) { f.chg[i+1] = v }

// script is one change of an edit script (xdchange_t): chg1 lines of file 1 at i1 are
// replaced by chg2 lines of file 2 at i2.
type change struct{ i1, i2, chg1, chg2 int }

// diffEnv is a computed diff between two line lists (xdfenv_t).
type diffEnv struct {
	l1, l2 [][]byte
	f1, f2 *xfile
}

// diffLines runs xdiff's Myers diff with change compaction and returns the environment
// and its edit script.
func diffLines(l1, l2 [][]byte, alg Algorithm) (*diffEnv, []change) {
	return diffLinesWith(l1, l2, alg, true)
}

// diffLinesWith runs the diff, compacting the changes when asked (a fall-back diff of a
// histogram region is compacted with the whole).
func diffLinesWith(l1, l2 [][]byte, alg Algorithm, compacted bool) (*diffEnv, []change) {
	e := prepare(l1, l2, alg)
	if alg == Histogram {
		e.diffHistogram()
	} else {
		e.recsCmp()
	}
	if !compacted {
		return e, nil
	}
	compact(e.f1, e.f2)
	compact(e.f2, e.f1)
	return e, e.buildScript()
}

// prepare classifies lines and discards records that cannot match (xdl_prepare_env with
// xdl_optimize_ctxs).
func prepare(l1, l2 [][]byte, alg Algorithm) *diffEnv {
	classes := map[string]int{}
	var len1, len2 []int
	classify := func(lines [][]byte, pass int) []int {
		out := make([]int, len(lines))
		for i, l := range lines {
			c, ok := classes[string(l)]
			if !ok {
				c = len(len1)
				classes[string(l)] = c
				len1, len2 = append(len1, 0), append(len2, 0)
			}
			if pass == 1 {
				len1[c]++
			} else {
				len2[c]++
			}
			out[i] = c
		}
		return out
	}
	f1 := &xfile{class: classify(l1, 1)}
	f2 := &xfile{class: classify(l2, 2)}
	f1.chg = make([]bool, f1.nrec()+2)
	f2.chg = make([]bool, f2.nrec()+2)
	if alg != Histogram {
		trimEnds(f1, f2)
		cleanupRecords(f1, f2, len1, len2)
	}
	return &diffEnv{l1: l1, l2: l2, f1: f1, f2: f2}
}

func trimEnds(f1, f2 *xfile) {
	lim := min(f1.nrec(), f2.nrec())
	i := 0
	for ; i < lim && f1.class[i] == f2.class[i]; i++ {
	}
	f1.dstart, f2.dstart = i, i
	lim -= i
	j := 0
	for ; j < lim && f1.class[f1.nrec()-1-j] == f2.class[f2.nrec()-1-j]; j++ {
	}
	f1.dend = f1.nrec() - j - 1
	f2.dend = f2.nrec() - j - 1
}

func bogosqrt(n int) int {
	i := 1
	for ; n > 0; n >>= 2 {
		i <<= 1
	}
	return i
}

// cleanupRecords keeps the records of each file that have a match in the other one
// (xdl_cleanup_records); the others are marked changed up front.
func cleanupRecords(f1, f2 *xfile, len1, len2 []int) {
	dis := func(f *xfile, other []int) []byte {
		d := make([]byte, f.nrec()+1)
		mlim := min(bogosqrt(f.nrec()), maxEqLimit)
		for i := f.dstart; i <= f.dend; i++ {
			nm := other[f.class[i]]
			switch {
			case nm == 0:
				d[i] = 0
			case nm >= mlim:
				d[i] = 2
			default:
				d[i] = 1
			}
		}
		return d
	}
	dis1, dis2 := dis(f1, len2), dis(f2, len1)
	reduce := func(f *xfile, d []byte) {
		for i := f.dstart; i <= f.dend; i++ {
			if d[i] == 1 || (d[i] == 2 && !cleanMmatch(d, i, f.dstart, f.dend)) {
				f.rindex = append(f.rindex, i)
				f.ha = append(f.ha, f.class[i])
			} else {
				f.setChanged(i, true)
			}
		}
	}
	reduce(f1, dis1)
	reduce(f2, dis2)
}

// cleanMmatch reports whether the multi-match line i sits in a run of mostly unmatched
// lines and is better discarded (xdl_clean_mmatch).
func cleanMmatch(dis []byte, i, s, e int) bool {
	if i-s > simscanWin {
		s = i - simscanWin
	}
	if e-i > simscanWin {
		e = i + simscanWin
	}
	rdis0, rpdis0 := 0, 1
	for r := 1; i-r >= s; r++ {
		if v := dis[i-r]; v == 0 {
			rdis0++
		} else if v == 2 {
			rpdis0++
		} else {
			break
		}
	}
	if rdis0 == 0 {
		return false
	}
	rdis1, rpdis1 := 0, 1
	for r := 1; i+r <= e; r++ {
		if v := dis[i+r]; v == 0 {
			rdis1++
		} else if v == 2 {
			rpdis1++
		} else {
			break
		}
	}
	if rdis1 == 0 {
		return false
	}
	rdis1 += rdis0
	rpdis1 += rpdis0
	return rpdis1*kpdisRun < rpdis1+rdis1
}

// myers holds the diagonal vectors of one diff (kvdf, kvdb with their offset).
type myers struct {
	ha1, ha2   []int
	kvdf, kvdb []int
	off        int
	mxcost     int
}

func (m *myers) f(d int) *int { return &m.kvdf[d+m.off] }
func (m *myers) b(d int) *int { return &m.kvdb[d+m.off] }

// recsCmp runs the divide-and-conquer diff over the reduced records (xdl_do_diff).
func (e *diffEnv) recsCmp() {
	n1, n2 := len(e.f1.ha), len(e.f2.ha)
	ndiags := n1 + n2 + 3
	m := &myers{
		ha1: e.f1.ha, ha2: e.f2.ha,
		kvdf: make([]int, ndiags), kvdb: make([]int, ndiags), off: n2 + 1,
		mxcost: max(bogosqrt(ndiags), maxCostMin),
	}
	e.cmp(m, 0, n1, 0, n2, false)
}

func (e *diffEnv) cmp(m *myers, off1, lim1, off2, lim2 int, needMin bool) {
	ha1, ha2 := m.ha1, m.ha2
	for off1 < lim1 && off2 < lim2 && ha1[off1] == ha2[off2] {
		off1++
		off2++
	}
	for off1 < lim1 && off2 < lim2 && ha1[lim1-1] == ha2[lim2-1] {
		lim1--
		lim2--
	}
	switch {
	case off1 == lim1:
		for ; off2 < lim2; off2++ {
			e.f2.setChanged(e.f2.rindex[off2], true)
		}
	case off2 == lim2:
		for ; off1 < lim1; off1++ {
			e.f1.setChanged(e.f1.rindex[off1], true)
		}
	default:
		s := m.split(off1, lim1, off2, lim2, needMin)
		e.cmp(m, off1, s.i1, off2, s.i2, s.minLo)
		e.cmp(m, s.i1, lim1, s.i2, lim2, s.minHi)
	}
}

type split struct {
	i1, i2       int
	minLo, minHi bool
}

// box is the state of one middle-snake search: the box and the diagonal ranges reached
// forward (f) and backward (b).
type box struct {
	off1, lim1, off2, lim2 int
	dmin, dmax, fmid, bmid int
	fmin, fmax, bmin, bmax int
	odd                    bool
}

// split finds the middle snake of the box (xdl_split), with xdiff's heuristics for
// expensive diffs.
func (m *myers) split(off1, lim1, off2, lim2 int, needMin bool) split {
	x := &box{off1: off1, lim1: lim1, off2: off2, lim2: lim2, dmin: off1 - lim2, dmax: lim1 - off2, fmid: off1 - off2, bmid: lim1 - lim2}
	x.odd = (x.fmid-x.bmid)&1 != 0
	x.fmin, x.fmax, x.bmin, x.bmax = x.fmid, x.fmid, x.bmid, x.bmid
	*m.f(x.fmid) = off1
	*m.b(x.bmid) = lim1
	for ec := 1; ; ec++ {
		s, found, snakeF := m.forward(x)
		if found {
			return s
		}
		s, found, snakeB := m.backward(x)
		if found {
			return s
		}
		if needMin {
			continue
		}
		if (snakeF || snakeB) && ec > heurMinCost {
			if s, ok := m.heuristic(ec, off1, lim1, off2, lim2, x.fmin, x.fmax, x.bmin, x.bmax, x.fmid, x.bmid); ok {
				return s
			}
		}
		if ec >= m.mxcost {
			return m.furthest(off1, lim1, off2, lim2, x.fmin, x.fmax, x.bmin, x.bmax)
		}
	}
}

// forward extends the forward diagonals by one edit.
func (m *myers) forward(x *box) (s split, found, gotSnake bool) {
	if x.fmin > x.dmin {
		x.fmin--
		*m.f(x.fmin - 1) = -1
	} else {
		x.fmin++
	}
	if x.fmax < x.dmax {
		x.fmax++
		*m.f(x.fmax + 1) = -1
	} else {
		x.fmax--
	}
	for d := x.fmax; d >= x.fmin; d -= 2 {
		var i1 int
		if *m.f(d - 1) >= *m.f(d + 1) {
			i1 = *m.f(d - 1) + 1
		} else {
			i1 = *m.f(d + 1)
		}
		prev1 := i1
		i2 := i1 - d
		for i1 < x.lim1 && i2 < x.lim2 && m.ha1[i1] == m.ha2[i2] {
			i1++
			i2++
		}
		if i1-prev1 > snakeCnt {
			gotSnake = true
		}
		*m.f(d) = i1
		if x.odd && x.bmin <= d && d <= x.bmax && *m.b(d) <= i1 {
			return split{i1: i1, i2: i2, minLo: true, minHi: true}, true, gotSnake
		}
	}
	return split{}, false, gotSnake
}

// backward extends the backward diagonals by one edit.
func (m *myers) backward(x *box) (s split, found, gotSnake bool) {
	if x.bmin > x.dmin {
		x.bmin--
		*m.b(x.bmin - 1) = lineMax
	} else {
		x.bmin++
	}
	if x.bmax < x.dmax {
		x.bmax++
		*m.b(x.bmax + 1) = lineMax
	} else {
		x.bmax--
	}
	for d := x.bmax; d >= x.bmin; d -= 2 {
		var i1 int
		if *m.b(d - 1) < *m.b(d + 1) {
			i1 = *m.b(d - 1)
		} else {
			i1 = *m.b(d + 1) - 1
		}
		prev1 := i1
		i2 := i1 - d
		for i1 > x.off1 && i2 > x.off2 && m.ha1[i1-1] == m.ha2[i2-1] {
			i1--
			i2--
		}
		if prev1-i1 > snakeCnt {
			gotSnake = true
		}
		*m.b(d) = i1
		if !x.odd && x.fmin <= d && d <= x.fmax && i1 <= *m.f(d) {
			return split{i1: i1, i2: i2, minLo: true, minHi: true}, true, gotSnake
		}
	}
	return split{}, false, gotSnake
}

// heuristic looks for a diagonal that reached an interesting point with a long snake.
func (m *myers) heuristic(ec, off1, lim1, off2, lim2, fmin, fmax, bmin, bmax, fmid, bmid int) (split, bool) {
	ha1, ha2 := m.ha1, m.ha2
	var s split
	best := 0
	for d := fmax; d >= fmin; d -= 2 {
		dd := abs(d - fmid)
		i1 := *m.f(d)
		i2 := i1 - d
		v := (i1 - off1) + (i2 - off2) - dd
		if v > kHeur*ec && v > best && off1+snakeCnt <= i1 && i1 < lim1 && off2+snakeCnt <= i2 && i2 < lim2 {
			for k := 1; ha1[i1-k] == ha2[i2-k]; k++ {
				if k == snakeCnt {
					best, s.i1, s.i2 = v, i1, i2
					break
				}
			}
		}
	}
	if best > 0 {
		s.minLo, s.minHi = true, false
		return s, true
	}
	for d := bmax; d >= bmin; d -= 2 {
		dd := abs(d - bmid)
		i1 := *m.b(d)
		i2 := i1 - d
		v := (lim1 - i1) + (lim2 - i2) - dd
		if v > kHeur*ec && v > best && off1 < i1 && i1 <= lim1-snakeCnt && off2 < i2 && i2 <= lim2-snakeCnt {
			for k := 0; ha1[i1+k] == ha2[i2+k]; k++ {
				if k == snakeCnt-1 {
					best, s.i1, s.i2 = v, i1, i2
					break
				}
			}
		}
	}
	if best > 0 {
		s.minLo, s.minHi = false, true
		return s, true
	}
	return s, false
}

// furthest gives up on minimality and splits at the furthest reaching path.
func (m *myers) furthest(off1, lim1, off2, lim2, fmin, fmax, bmin, bmax int) split {
	fbest, fbest1 := -1, -1
	for d := fmax; d >= fmin; d -= 2 {
		i1 := min(*m.f(d), lim1)
		i2 := i1 - d
		if lim2 < i2 {
			i1, i2 = lim2+d, lim2
		}
		if fbest < i1+i2 {
			fbest, fbest1 = i1+i2, i1
		}
	}
	bbest, bbest1 := lineMax, lineMax
	for d := bmax; d >= bmin; d -= 2 {
		i1 := max(off1, *m.b(d))
		i2 := i1 - d
		if i2 < off2 {
			i1, i2 = off2+d, off2
		}
		if i1+i2 < bbest {
			bbest, bbest1 = i1+i2, i1
		}
	}
	if (lim1+lim2)-bbest < fbest-(off1+off2) {
		return split{i1: fbest1, i2: fbest - fbest1, minLo: true}
	}
	return split{i1: bbest1, i2: bbest - bbest1, minHi: true}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// group is a run of changed lines [start, end) (struct xdlgroup).
type group struct{ start, end int }

func groupInit(f *xfile) group {
	g := group{}
	for f.changed(g.end) {
		g.end++
	}
	return g
}

func groupNext(f *xfile, g *group) bool {
	if g.end == f.nrec() {
		return false
	}
	g.start = g.end + 1
	for g.end = g.start; f.changed(g.end); g.end++ {
	}
	return true
}

func groupPrevious(f *xfile, g *group) bool {
	if g.start == 0 {
		return false
	}
	g.end = g.start - 1
	for g.start = g.end; f.changed(g.start - 1); g.start-- {
	}
	return true
}

func groupSlideDown(f *xfile, g *group) bool {
	if g.end < f.nrec() && f.class[g.start] == f.class[g.end] {
		f.setChanged(g.start, false)
		f.setChanged(g.end, true)
		g.start++
		g.end++
		for f.changed(g.end) {
			g.end++
		}
		return true
	}
	return false
}

func groupSlideUp(f *xfile, g *group) bool {
	if g.start > 0 && f.class[g.start-1] == f.class[g.end-1] {
		g.start--
		g.end--
		f.setChanged(g.start, true)
		f.setChanged(g.end, false)
		for f.changed(g.start - 1) {
			g.start--
		}
		return true
	}
	return false
}

// compact slides each group of changes in f as far down as it goes, or up to align with
// a change in the other file, merging groups it bumps into (xdl_change_compact without
// the indent heuristic, as git merge-file runs it).
func compact(f, fo *xfile) {
	g, og := groupInit(f), groupInit(fo)
	for {
		if g.end != g.start {
			var earliestEnd, endMatchingOther int
			for {
				size := g.end - g.start
				endMatchingOther = -1
				for groupSlideUp(f, &g) {
					groupPrevious(fo, &og)
				}
				earliestEnd = g.end
				if og.end > og.start {
					endMatchingOther = g.end
				}
				for groupSlideDown(f, &g) {
					groupNext(fo, &og)
					if og.end > og.start {
						endMatchingOther = g.end
					}
				}
				if size == g.end-g.start {
					break
				}
			}
			if g.end != earliestEnd && endMatchingOther != -1 {
				for og.end == og.start {
					groupSlideUp(f, &g)
					groupPrevious(fo, &og)
				}
			}
		}
		if !groupNext(f, &g) {
			break
		}
		groupNext(fo, &og)
	}
}

// buildScript collects the changed runs into an edit script in file order.
func (e *diffEnv) buildScript() []change {
	var rev []change
	f1, f2 := e.f1, e.f2
	for i1, i2 := f1.nrec(), f2.nrec(); i1 >= 0 || i2 >= 0; i1, i2 = i1-1, i2-1 {
		if chgAt(f1, i1-1) || chgAt(f2, i2-1) {
			l1, l2 := i1, i2
			for chgAt(f1, i1-1) {
				i1--
			}
			for chgAt(f2, i2-1) {
				i2--
			}
			rev = append(rev, change{i1: i1, i2: i2, chg1: l1 - i1, chg2: l2 - i2})
		}
	}
	out := make([]change, len(rev))
	for i, c := range rev {
		out[len(rev)-1-i] = c
	}
	return out
}

// chgAt is changed(i) that reads as false outside [-1, nrec] like xdiff's padded array
// (build_script walks both files in lockstep past the start of the shorter one).
func chgAt(f *xfile, i int) bool {
	if i < -1 || i > f.nrec() {
		return false
	}
	return f.changed(i)
}
