package tui

import (
	"testing"

	"github.com/charmbracelet/x/exp/golden"
)

// TestBranchyScreens drives search, the ref picker, the graph, the file
// drill-down, the models view and lineage over branchyHistory, whose HEAD
// log is: the merge, Swap the logo, Rewrite the notes, Import data.
func TestBranchyScreens(t *testing.T) {
	h := branchyHistory(t)
	cases := []struct {
		name  string
		steps []step
	}{
		{"first", nil},
		{"all_refs", []step{{[]string{"a"}, []string{"── all refs ── 1/4 ──"}}}},
		{"search_prompt", []step{{[]string{"/", "n", "o"}, []string{"/no"}}}},
		// "notes.txt" is in no message: it matches the commit that changed the file.
		{"search_path", []step{{[]string{"/", "notes.txt", "enter"}, []string{"3/4", `"notes.txt": n next, N previous`, "M notes.txt  23 B -> 31 B"}}}},
		{"search_next_prev", []step{
			{[]string{"/", "the", "enter"}, []string{"2/4"}},
			{[]string{"n"}, []string{"3/4"}},
			{[]string{"N"}, []string{"2/4", "Refs:    feature"}},
		}},
		{"search_no_match", []step{{[]string{"/", "zzz", "enter"}, []string{`no match for "zzz" after this commit`}}}},
		{"refs", []step{{[]string{"b"}, []string{"origin/main", "v2", "feature"}}}},
		{"refs_pick", []step{{[]string{"b"}, []string{"feature"}}, {[]string{"enter"}, []string{"── feature ── 1/2 ──", "Refs:    feature"}}}},
		{"text_diff", []step{
			{[]string{"j", "j"}, []string{"3/4", "M notes.txt"}},
			{[]string{"tab", "enter"}, []string{"+2 -1 lines", "+BETA"}},
		}},
		{"binary_diff", []step{
			{[]string{"j"}, []string{"2/4", "M assets/logo.bin"}},
			{[]string{"tab", "enter"}, []string{"binary: no text diff", "chunks: 1 -> 1"}},
		}},
		{"models", []step{{[]string{"m"}, []string{"churn@1", "auc=0.86 loss=0.31"}}}},
		{"models_jump", []step{{[]string{"m"}, []string{"churn@1"}}, {[]string{"j", "enter"}, []string{"4/4", "A notes.txt"}}}},
		{"lineage", []step{{[]string{"G"}, []string{"4/4"}}, {[]string{"l"}, []string{"trained on data containing", "churn@1", "churn@2"}}}},
	}
	// The first commit's details, and the markers of the model versions,
	// which are read beside them. A step that ends on a commit waits for
	// a line found only in its details, which load after the list shows
	// it: else the quit races them to the golden screen.
	ready := []string{"M assets/logo.bin", "[model: churn@1]"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			golden.RequireEqual(t, []byte(screenAfter(t, h, ready, c.steps)))
		})
	}
}

// TestModelJumpToAnotherBranch: the data commit of a model version that
// HEAD's history does not hold is found in all refs' history.
func TestModelJumpToAnotherBranch(t *testing.T) {
	h := smallHistory(t)
	h.checkout("experiment")
	h.commit("Side data", map[string]string{"side.txt": "side\n"}, nil)
	h.registerModel("side", "HEAD", nil)
	h.checkout("main")
	tm := startUI(t, h, Options{})
	waitFor(t, tm, "M notes.txt")
	press(tm, "m")
	waitFor(t, tm, "side@1")
	press(tm, "enter")
	waitFor(t, tm, "── all refs ──", "A side.txt")
	m, screen := quitScreen(t, tm)
	if id, _ := m.selected(); m.showing != allRefs || m.commits[m.cursor].Message != "Side data" || m.trainedOn[id] == nil {
		t.Errorf("after the jump, showing %q at %q:\n%s", m.showing, m.commits[m.cursor].Message, screen)
	}
}
