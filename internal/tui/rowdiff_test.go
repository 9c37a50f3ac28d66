package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// rowsHistory is two commits of a keyed CSV table with a wide column: the
// second adds, removes and changes rows.
func rowsHistory(t *testing.T) *testHistory {
	t.Helper()
	h := newTestHistory(t)
	wide := strings.Repeat("x", 90)
	h.commit("Import people", map[string]string{
		".dxattributes":   "*.csv table=csv key=id\n",
		"data/people.csv": "id,name,city,note\n1,Ada,Paris," + wide + "\n2,Bob,Rome,short\n3,Cy,Oslo,gone\n",
	}, nil)
	h.commit("Update people", map[string]string{
		"data/people.csv": "id,name,city,note\n1,Ada,Lyon," + wide + "END\n2,Bob,Rome,short\n4,Di,Kyiv,new\n",
	}, nil)
	return h
}

// quitScreen quits with Ctrl-C (q leaves the drill-down) and returns the
// model and the last screen.
func quitScreen(t *testing.T, tm *teatest.TestModel) (Model, string) {
	t.Helper()
	press(tm, "ctrl+c")
	m := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(Model)
	return m, m.View()
}

func TestRowDiffScreens(t *testing.T) {
	h := rowsHistory(t)
	enter := tea.KeyMsg{Type: tea.KeyEnter}
	cases := []struct {
		name  string
		keys  []string
		wants []string
	}{
		{"rows", nil, nil},
		{"rows_right", strings.Split(strings.Repeat("l", 17), ""), []string{"xEND]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := startUI(t, h, Options{})
			waitFor(t, tm, "M data/people.csv")
			press(tm, "tab")
			waitFor(t, tm, ">M data/people.csv")
			tm.Send(enter)
			waitFor(t, tm, "+1 -1 ~1 rows")
			press(tm, c.keys...)
			waitFor(t, tm, c.wants...)
			_, screen := quitScreen(t, tm)
			for _, want := range []string{"[Paris → Lyon]", "+ 4: 4,Di,Kyiv,new", "- 3: 3,Cy,Oslo,gone"} {
				if c.keys == nil && !strings.Contains(screen, want) {
					t.Errorf("no %q on the screen:\n%s", want, screen)
				}
			}
			golden.RequireEqual(t, []byte(screen))
		})
	}
	t.Run("esc_back", func(t *testing.T) {
		tm := startUI(t, h, Options{})
		waitFor(t, tm, "M data/people.csv")
		press(tm, "tab")
		tm.Send(enter)
		waitFor(t, tm, "+1 -1 ~1 rows")
		press(tm, "esc")
		waitFor(t, tm, "focus: detail")
		m, screen := quitScreen(t, tm)
		if m.rows.open {
			t.Fatal("the row diff is still open after Esc")
		}
		golden.RequireEqual(t, []byte(screen))
	})
}

// slowHistory is a History whose row diff waits for its context: it
// stands for a big table, and reports whether it was cancelled.
type slowHistory struct {
	cancelled chan struct{}
}

var commit1 = dag.ID{1}

func (slowHistory) NextCommits(context.Context, int) ([]repo.LogEntry, bool, error) {
	return []repo.LogEntry{{ID: commit1, Author: "Ann", Message: "Big table"}}, true, nil
}

func (slowHistory) Show(_ context.Context, id dag.ID) (*repo.ShowResult, error) {
	return &repo.ShowResult{LogEntry: repo.LogEntry{ID: id, Author: "Ann", Message: "Big table"}, Changes: []repo.Change{{Path: "big.csv", Kind: repo.Modified}}}, nil
}

func (s slowHistory) DiffRows(ctx context.Context, _, _ dag.ID, _ string) (*repo.TableDiff, error) {
	<-ctx.Done()
	close(s.cancelled)
	return nil, ctx.Err()
}

// TestRowDiffEscCancels: Esc during a diff that does not end by itself
// cancels it, and the UI answers keys meanwhile and after.
func TestRowDiffEscCancels(t *testing.T) {
	history := slowHistory{cancelled: make(chan struct{})}
	var model tea.Model = newTestModel(t, history, 10)
	run := func(msg tea.Msg) tea.Cmd {
		var cmd tea.Cmd
		model, cmd = model.Update(msg)
		return cmd
	}
	model = update(t, model.(Model), tea.KeyMsg{Type: tea.KeyTab})
	diff := run(tea.KeyMsg{Type: tea.KeyEnter})
	if diff == nil || !model.(Model).rows.loading {
		t.Fatal("Enter started no row diff")
	}
	result := make(chan tea.Msg, 1)
	go func() { result <- diff() }()
	run(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("l")}) // answered while the diff runs
	if !strings.Contains(model.View(), "loading row diff… (Esc cancels)") {
		t.Fatalf("no loading screen:\n%s", model.View())
	}
	run(tea.KeyMsg{Type: tea.KeyEsc})
	select {
	case <-history.cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("Esc did not cancel the row diff")
	}
	run(<-result) // the cancelled answer arrives late and is dropped
	if model.(Model).rows.open {
		t.Fatal("the row diff is still open after Esc")
	}
	run(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("j")})
	if !strings.Contains(model.View(), "Big table") {
		t.Fatalf("the commit is not back:\n%s", model.View())
	}
}
