package repo

import (
	"fmt"
	"math"
	"path"
	"testing"
)

// TestDirRuns: the runs cover every path once, in order, each within one
// directory and at most the cap long, and a run ends only where the
// directory changes or the run is full; uncapped, a run is a directory.
func TestDirRuns(t *testing.T) {
	var paths []string
	for d, n := range []int{1, 3, 200, 64, 65, 2} {
		for i := range n {
			paths = append(paths, fmt.Sprintf("d%d/f%03d", d, i))
		}
	}
	paths = append(paths, "top")
	check := func(max, want int) {
		t.Helper()
		runs := dirRuns(len(paths), max, func(i int) string { return paths[i] })
		checkRuns(t, paths, runs, max)
		if len(runs) != want {
			t.Fatalf("cap %d: %d runs, want %d", max, len(runs), want)
		}
	}
	// 1, 3, 64+64+64+8, 64, 64+1, 2, and the top-level file.
	check(stageRunMax, 11)
	// One a directory.
	check(math.MaxInt, 7)
}

func checkRuns(t *testing.T, paths []string, runs []dirRun, max int) {
	t.Helper()
	next := 0
	for k, r := range runs {
		if r.lo != next || r.hi <= r.lo || r.hi-r.lo > max {
			t.Fatalf("run %d is [%d, %d) after %d", k, r.lo, r.hi, next)
		}
		for i := r.lo; i < r.hi; i++ {
			if path.Dir(paths[i]) != path.Dir(paths[r.lo]) {
				t.Fatalf("run %d mixes %s and %s", k, paths[r.lo], paths[i])
			}
		}
		if r.hi < len(paths) && r.hi-r.lo < max && path.Dir(paths[r.hi]) == path.Dir(paths[r.lo]) {
			t.Fatalf("run %d ends at %s, in its directory", k, paths[r.hi])
		}
		next = r.hi
	}
	if next != len(paths) {
		t.Fatalf("runs end at %d of %d paths", next, len(paths))
	}
}
