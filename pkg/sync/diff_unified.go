package sync

import (
	"fmt"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// unifiedDiff returns the "@@" hunks of a unified diff from before to after, with context
// unchanged lines around each change and no file header; "" when they are equal.
func unifiedDiff(before, after string, context int) string {
	if before == after {
		return ""
	}
	a, b := splitLines(before), splitLines(after)
	var sb strings.Builder
	for _, group := range difflib.NewMatcher(a, b).GetGroupedOpCodes(context) {
		first, last := group[0], group[len(group)-1]
		fmt.Fprintf(&sb, "@@ -%s +%s @@\n", hunkRange(first.I1, last.I2), hunkRange(first.J1, last.J2))
		for _, op := range group {
			switch op.Tag {
			case 'e':
				writePrefixed(&sb, " ", a[op.I1:op.I2])
			case 'r', 'd':
				writePrefixed(&sb, "-", a[op.I1:op.I2])
			}
			if op.Tag == 'r' || op.Tag == 'i' {
				writePrefixed(&sb, "+", b[op.J1:op.J2])
			}
		}
	}
	return sb.String()
}

// hunkRange formats a line range as a unified diff does: "start,length", 1-based; an empty
// range names the line before it.
func hunkRange(start, stop int) string {
	n := stop - start
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	default:
		return fmt.Sprintf("%d,%d", start+1, n)
	}
}

func writePrefixed(sb *strings.Builder, prefix string, lines []string) {
	for _, l := range lines {
		sb.WriteString(prefix)
		sb.WriteString(l)
		sb.WriteByte('\n')
	}
}

// splitLines splits text into lines without their newlines; "" has no lines.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
