package diff3

// Algorithm is the line diff Merge runs on each side.
type Algorithm string

// Algorithms of Merge.
const (
	// Myers is git's default diff, used by git merge-file.
	Myers Algorithm = "myers"
	// Histogram is the diff git's merge-ort (cherry-pick, merge, rebase) hard-codes.
	Histogram Algorithm = "histogram"
)

// String returns the algorithm's name.
func (a Algorithm) String() string { return string(a) }

// maxChainLength is how often a line may occur in the first file before histogram
// falls back to Myers for the region (xhistogram.c).
const maxChainLength = 64

// histRecord is one distinct line of the first file's region: its first position and
// how often it occurs.
type histRecord struct{ ptr, cnt int }

// histIndex is xhistogram.c's struct histindex for one region; lines are 1-based.
type histIndex struct {
	e         *diffEnv
	records   map[int]*histRecord // class → record
	lineMap   []*histRecord       // line - ptrShift → record
	nextPtrs  []int               // line - ptrShift → next occurrence (0: none)
	ptrShift  int
	cnt       int
	hasCommon bool
}

type region struct{ begin1, end1, begin2, end2 int }

func (e *diffEnv) cls1(l int) int { return e.f1.class[l-1] }
func (e *diffEnv) cls2(l int) int { return e.f2.class[l-1] }

// diffHistogram marks the changed lines of e with git's histogram diff.
func (e *diffEnv) diffHistogram() {
	e.histogram(1, e.f1.nrec(), 1, e.f2.nrec())
}

func (e *diffEnv) histogram(line1, count1, line2, count2 int) {
	for {
		if count1 <= 0 && count2 <= 0 {
			return
		}
		if count1 == 0 {
			for ; count2 > 0; count2-- {
				e.f2.setChanged(line2-1, true)
				line2++
			}
			return
		}
		if count2 == 0 {
			for ; count1 > 0; count1-- {
				e.f1.setChanged(line1-1, true)
				line1++
			}
			return
		}
		lcs, fallBack := e.findLCS(line1, count1, line2, count2)
		if fallBack {
			e.fallBack(line1, count1, line2, count2)
			return
		}
		if lcs.begin1 == 0 && lcs.begin2 == 0 {
			for i := range count1 {
				e.f1.setChanged(line1-1+i, true)
			}
			for i := range count2 {
				e.f2.setChanged(line2-1+i, true)
			}
			return
		}
		e.histogram(line1, lcs.begin1-line1, line2, lcs.begin2-line2)
		end1, end2 := line1+count1-1, line2+count2-1
		count1, line1 = end1-lcs.end1, lcs.end1+1
		count2, line2 = end2-lcs.end2, lcs.end2+1
	}
}

// fallBack diffs a region with Myers (xdl_fall_back_diff).
func (e *diffEnv) fallBack(line1, count1, line2, count2 int) {
	sub, _ := diffLinesWith(e.l1[line1-1:line1-1+count1], e.l2[line2-1:line2-1+count2], Myers, false)
	for i := range count1 {
		e.f1.setChanged(line1-1+i, sub.f1.changed(i))
	}
	for i := range count2 {
		e.f2.setChanged(line2-1+i, sub.f2.changed(i))
	}
}

// findLCS finds the longest common run of lowest occurrence; fallBack is true when
// the lines in common all occur too often.
func (e *diffEnv) findLCS(line1, count1, line2, count2 int) (region, bool) {
	x := &histIndex{
		e: e, records: map[int]*histRecord{}, lineMap: make([]*histRecord, count1),
		nextPtrs: make([]int, count1), ptrShift: line1,
	}
	for ptr := line1 + count1 - 1; ptr >= line1; ptr-- {
		c := e.cls1(ptr)
		if rec, ok := x.records[c]; ok {
			x.nextPtrs[ptr-x.ptrShift] = rec.ptr
			rec.ptr = ptr
			rec.cnt++
			x.lineMap[ptr-x.ptrShift] = rec
			continue
		}
		rec := &histRecord{ptr: ptr, cnt: 1}
		x.records[c] = rec
		x.lineMap[ptr-x.ptrShift] = rec
	}
	x.cnt = maxChainLength + 1
	var lcs region
	for bPtr := line2; bPtr <= line2+count2-1; {
		bPtr = x.tryLCS(&lcs, bPtr, line1, count1, line2, count2)
	}
	return lcs, x.hasCommon && maxChainLength < x.cnt
}

func (x *histIndex) tryLCS(lcs *region, bPtr, line1, count1, line2, count2 int) int {
	e := x.e
	bNext := bPtr + 1
	end1, end2 := line1+count1-1, line2+count2-1
	rec, ok := x.records[e.cls2(bPtr)]
	if !ok {
		return bNext
	}
	if rec.cnt > x.cnt {
		x.hasCommon = true
		return bNext
	}
	x.hasCommon = true
	as := rec.ptr
	for {
		np := x.nextPtrs[as-x.ptrShift]
		bs, ae, be, rc := bPtr, as, bPtr, rec.cnt
		for line1 < as && line2 < bs && e.cls1(as-1) == e.cls2(bs-1) {
			as--
			bs--
			if rc > 1 {
				rc = min(rc, x.lineMap[as-x.ptrShift].cnt)
			}
		}
		for ae < end1 && be < end2 && e.cls1(ae+1) == e.cls2(be+1) {
			ae++
			be++
			if rc > 1 {
				rc = min(rc, x.lineMap[ae-x.ptrShift].cnt)
			}
		}
		if bNext <= be {
			bNext = be + 1
		}
		if lcs.end1-lcs.begin1 < ae-as || rc < x.cnt {
			*lcs = region{begin1: as, begin2: bs, end1: ae, end2: be}
			x.cnt = rc
		}
		if np == 0 {
			return bNext
		}
		for np <= ae {
			np = x.nextPtrs[np-x.ptrShift]
			if np == 0 {
				return bNext
			}
		}
		as = np
	}
}
