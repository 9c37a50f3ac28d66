package dirruns

import (
	"fmt"
	"math"
	"path"
	"testing"
)

// TestCut: the runs cover every path once, in order, each within one
// directory and at most the cap long, and a run ends only where the
// directory changes or the run is full; uncapped, a run is a directory.
func TestCut(t *testing.T) {
	var paths []string
	for d, n := range []int{1, 3, 200, 64, 65, 2} {
		for i := range n {
			paths = append(paths, fmt.Sprintf("d%d/f%03d", d, i))
		}
	}
	paths = append(paths, "top")
	check := func(max, want int) {
		t.Helper()
		runs := Cut(len(paths), max, func(i int) string { return path.Dir(paths[i]) })
		checkRuns(t, paths, runs, max)
		if len(runs) != want {
			t.Fatalf("cap %d: %d runs, want %d", max, len(runs), want)
		}
	}
	// 1, 3, 64+64+64+8, 64, 64+1, 2, and the top-level file.
	check(64, 11)
	// One a directory.
	check(math.MaxInt, 7)
}

func checkRuns(t *testing.T, paths []string, runs []Run, max int) {
	t.Helper()
	next := 0
	for k, r := range runs {
		if r.Lo != next || r.Hi <= r.Lo || r.Hi-r.Lo > max {
			t.Fatalf("run %d is [%d, %d) after %d", k, r.Lo, r.Hi, next)
		}
		for i := r.Lo; i < r.Hi; i++ {
			if path.Dir(paths[i]) != path.Dir(paths[r.Lo]) {
				t.Fatalf("run %d mixes %s and %s", k, paths[r.Lo], paths[i])
			}
		}
		if r.Hi < len(paths) && r.Hi-r.Lo < max && path.Dir(paths[r.Hi]) == path.Dir(paths[r.Lo]) {
			t.Fatalf("run %d ends at %s, in its directory", k, paths[r.Hi])
		}
		next = r.Hi
	}
	if next != len(paths) {
		t.Fatalf("runs end at %d of %d paths", next, len(paths))
	}
}
