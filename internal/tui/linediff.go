package tui

import (
	"fmt"
	"strings"
)

// maxEdits bounds the edit script the line diff searches for (Myers's D):
// its memory grows with the square of D, so a diff with more edits than
// this shows the changed middle as removed then added, which is correct
// but not minimal.
const maxEdits = 500

// noNewline marks the last line of a text that does not end in a newline,
// so that adding or removing that newline is a change, as in diff -u.
const noNewline = "\x00no newline"

// lineOp is one line of an edit script: ' ' kept, '-' removed, '+' added.
type lineOp struct {
	kind byte
	text string
}

// splitLines is text's lines, the last one marked if it has no newline.
func splitLines(text string) []string {
	if text == "" {
		return nil
	}
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		if strings.HasSuffix(l, "\n") {
			lines[i] = l[:len(l)-1]
		} else {
			lines[i] = l + noNewline
		}
	}
	return lines
}

// diffLines is the edit script from a to b: the common ends kept, the
// middle by Myers's algorithm when it needs at most maxEdits edits.
func diffLines(a, b []string) []lineOp {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []lineOp
	for _, l := range a[:pre] {
		ops = append(ops, lineOp{' ', l})
	}
	midA, midB := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if mid, ok := myers(midA, midB); ok {
		ops = append(ops, mid...)
	} else {
		for _, l := range midA {
			ops = append(ops, lineOp{'-', l})
		}
		for _, l := range midB {
			ops = append(ops, lineOp{'+', l})
		}
	}
	for _, l := range a[len(a)-suf:] {
		ops = append(ops, lineOp{' ', l})
	}
	return ops
}

// myers is the shortest edit script from a to b, if it has at most
// maxEdits edits (E. Myers, An O(ND) Difference Algorithm, 1986).
func myers(a, b []string) ([]lineOp, bool) {
	n, m := len(a), len(b)
	limit := min(maxEdits, n+m)
	off := limit + 1
	v := make([]int, 2*limit+3)
	var trace [][]int // v as each round of d began
	for d := 0; d <= limit; d++ {
		trace = append(trace, append([]int(nil), v...))
		for k := -d; k <= d; k += 2 {
			x := v[off+k-1] + 1
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(a, b, trace, off), true
			}
		}
	}
	return nil, false
}

// backtrack reads the edit script back from the end through trace.
func backtrack(a, b []string, trace [][]int, off int) []lineOp {
	var ops []lineOp
	x, y := len(a), len(b)
	for d := len(trace) - 1; d >= 0; d-- {
		v := trace[d]
		k := x - y
		prevK := k - 1
		if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
			prevK = k + 1
		}
		prevX := v[off+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			ops = append(ops, lineOp{' ', a[x-1]})
			x, y = x-1, y-1
		}
		if d > 0 {
			if x == prevX {
				ops = append(ops, lineOp{'+', b[y-1]})
			} else {
				ops = append(ops, lineOp{'-', a[x-1]})
			}
		}
		x, y = prevX, prevY
	}
	for i, j := 0, len(ops)-1; i < j; i, j = i+1, j-1 {
		ops[i], ops[j] = ops[j], ops[i]
	}
	return ops
}

// unified is ops as a unified diff with context lines of context around
// each change, under the --- and +++ header lines; none when nothing
// changed.
func unified(oldName, newName string, ops []lineOp, context int) []string {
	var changed []int
	for i, op := range ops {
		if op.kind != ' ' {
			changed = append(changed, i)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	out := []string{"--- " + oldName, "+++ " + newName}
	// oldAt[i] and newAt[i] count the lines of each side before ops[i].
	oldAt, newAt := make([]int, len(ops)+1), make([]int, len(ops)+1)
	for i, op := range ops {
		oldAt[i+1], newAt[i+1] = oldAt[i], newAt[i]
		if op.kind != '+' {
			oldAt[i+1]++
		}
		if op.kind != '-' {
			newAt[i+1]++
		}
	}
	for h := 0; h < len(changed); {
		last := h
		for last+1 < len(changed) && changed[last+1]-changed[last] <= 2*context+1 {
			last++
		}
		start, end := max(0, changed[h]-context), min(len(ops), changed[last]+context+1)
		out = append(out, fmt.Sprintf("@@ -%s +%s @@", hunkRange(oldAt[start], oldAt[end]-oldAt[start]), hunkRange(newAt[start], newAt[end]-newAt[start])))
		for _, op := range ops[start:end] {
			text, ok := strings.CutSuffix(op.text, noNewline)
			out = append(out, string(op.kind)+text)
			if ok {
				out = append(out, `\ No newline at end of file`)
			}
		}
		h = last + 1
	}
	return out
}

// hunkRange is a hunk's start and length on one side, as diff -u writes
// it: the first line counts from 1, and an empty side names the line
// before it.
func hunkRange(before, count int) string {
	if count == 0 {
		return fmt.Sprintf("%d,0", before)
	}
	if count == 1 {
		return fmt.Sprintf("%d", before+1)
	}
	return fmt.Sprintf("%d,%d", before+1, count)
}
