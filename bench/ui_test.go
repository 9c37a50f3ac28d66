package main

import (
	"strings"
	"testing"
)

// TestReadDiffScreen: the drill-down counts as rows only once its title
// has the counts and a changed row is on screen.
func TestReadDiffScreen(t *testing.T) {
	loaded := "── table.csv +2 -1 ~3 rows 1-6/6 ─────\n  key: id,name\n- 7: 7,Gus\n~ 1: 1,[Ada → Ann]\n+ 9: 9,Ida\n"
	for _, c := range []struct {
		name, path, screen string
		want               diffScreen
		ok                 bool
	}{
		{"loaded", "table.csv", loaded, diffScreen{1, 6, 6, false}, true},
		{"loading", "table.csv", "── table.csv ───\n\nloading row diff… (Esc cancels)\n", diffScreen{}, false},
		{"another path", "other.csv", loaded, diffScreen{}, false},
		{"no row yet", "table.csv", "── table.csv +0 -0 ~1 rows 1-1/1 ─\n  key: id\n", diffScreen{}, false},
		{"scrolled to the end", "table.csv", "── table.csv +0 -0 ~1000000 rows 999980-1000000/1000000 ─\n~ 1000000: 1000000,[a → b]\n",
			diffScreen{999980, 1000000, 1000000, false}, true},
		{"still running", "table.csv", "── table.csv +0 -0 ~4000 rows 1-21/4000+ ─\n~ 1: 1,[a → b]\n", diffScreen{1, 21, 4000, true}, true},
	} {
		got, ok := readDiffScreen(c.path, c.screen)
		if ok != c.ok || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// TestEvaluateUI: the four targets are N/A without tmux, and otherwise
// pass or fail on their limits.
func TestEvaluateUI(t *testing.T) {
	targets := func(ui *UIReport) map[string]string {
		rep := &Report{UI: ui}
		got := map[string]string{}
		rep.evaluateUI(func(target, ds, result, format string, args ...any) { got[target] = result })
		return got
	}
	for target, res := range targets(&UIReport{Status: "N/A", Note: "tmux is not installed"}) {
		if res != "N/A" {
			t.Errorf("without tmux, %s: %s", target, res)
		}
	}
	got := targets(&UIReport{Status: "ok",
		History: &UIHistoryResult{Commits: 100000, FirstScreen: []float64{0.1, 0.15, 0.3}, FirstScreenMedian: 0.15},
		Table:   &UITableResult{FirstScreen: []float64{0.2, 0.3, 0.25}, FirstScreenMedian: 0.25, EnterToRows: []float64{0.5, 0.9, 1.2}, EnterToRowsMedian: 0.9},
		BigDiff: &UIBigDiffResult{Rows: 1000000, PeakRSSKiB: 900 << 10},
	})
	want := map[string]string{targetUIHistory: "PASS", targetUITable: "FAIL", targetUIEnter: "PASS", targetUIBigDiffRSS: "FAIL"}
	for target, res := range want {
		if got[target] != res {
			t.Errorf("%s: %s, want %s", target, got[target], res)
		}
	}
	got = targets(&UIReport{Status: "ok", BigDiff: &UIBigDiffResult{Error: "G: the screen did not show"}})
	if got[targetUITable] != "N/A" || got[targetUIBigDiffRSS] != "FAIL" || !strings.Contains(targetUITable, "1 GiB") {
		t.Errorf("no table run and a failed diff: %v", got)
	}
}
