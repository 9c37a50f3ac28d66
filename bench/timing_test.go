package main

import (
	"errors"
	"strings"
	"testing"
)

// TestInterleave: three rounds, the second in reverse order; each series
// takes the median of its runs; a long first run is not repeated, and a
// failed run stands for its series.
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
	long, failing := mk("l", shortRun+1), mk("f", 1, -1, 1)
	(&bench{}).interleave(long, failing)
	if got := strings.Join(order, ""); got != "lff" {
		t.Fatalf("order %s, want lff (the long run once, the failed series stopped)", got)
	}
	if long.res.Seconds != shortRun+1 || long.note != "" || failing.res.Err == nil || failing.note != "" {
		t.Fatalf("long %+v %q, failing %+v %q", long.res, long.note, failing.res, failing.note)
	}
}
