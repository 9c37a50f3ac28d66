package main

import (
	"errors"
	"strings"
	"testing"
)

// TestInterleave: three rounds, the second in reverse order; each series
// takes the median of its runs; a long first run is repeated only with a
// short one beside it (the series repeat together), long ones alone are
// not, and a failed run stands for its series.
func TestInterleave(t *testing.T) {
	var order []string
	mk := func(name string, secs ...float64) *series {
		n := 0
		return &series{run: func() (runResult, bool) {
			order = append(order, name)
			r := runResult{Seconds: secs[n]}
			if r.Seconds < 0 {
				r.Err = errors.New("failed")
			}
			n++
			return r, true
		}}
	}
	a, b, c := mk("a", 3, 1, 2), mk("b", 5, 9, 7), mk("c", 2, 4, 6)
	(&bench{}).interleave(a, b, c)
	if got := strings.Join(order, ""); got != "abccbaabc" {
		t.Fatalf("order %s, want abccbaabc", got)
	}
	if a.res.Seconds != 2 || b.res.Seconds != 7 || c.res.Seconds != 4 {
		t.Fatalf("medians %v %v %v, want 2 7 4", a.res.Seconds, b.res.Seconds, c.res.Seconds)
	}
	if a.note != "median of 3 runs: 1.00, 2.00, 3.00 s" || !a.dropped {
		t.Fatalf("note %q dropped %v", a.note, a.dropped)
	}

	order = nil
	long, failing := mk("l", shortRun+1, shortRun+3, shortRun+2), mk("f", 1, -1, 1)
	(&bench{}).interleave(long, failing)
	if got := strings.Join(order, ""); got != "lffll" {
		t.Fatalf("order %s, want lffll (the long run repeated beside a short one, the failed series stopped)", got)
	}
	if long.res.Seconds != shortRun+2 || long.note == "" || failing.res.Err == nil || failing.note != "" {
		t.Fatalf("long %+v %q, failing %+v %q", long.res, long.note, failing.res, failing.note)
	}

	order = nil
	l1, l2 := mk("x", shortRun+1), mk("y", shortRun+2)
	(&bench{}).interleave(l1, l2)
	if got := strings.Join(order, ""); got != "xy" || l1.note != "" || l2.note != "" {
		t.Fatalf("order %s, want xy (long runs alone, once each)", got)
	}
}
