package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/merge"
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
	m := tm.FinalModel(t, teatest.WithFinalTimeout(waitLimit)).(Model)
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
			// The count complete (no "+"): the diff's end is in, which
			// comes after its last changes and would otherwise race the
			// quit to the golden screen.
			waitFor(t, tm, "+1 -1 ~1 rows 1-3/3 ")
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
// stands for a big table, and reports whether it was cancelled and
// closed.
type slowHistory struct {
	cancelled, closed chan struct{}
}

var commit1 = dag.ID{1}

func (slowHistory) NextCommits(context.Context, int) ([]repo.LogEntry, bool, error) {
	return []repo.LogEntry{{ID: commit1, Author: "Ann", Message: "Big table"}}, true, nil
}

func (slowHistory) Show(_ context.Context, id dag.ID) (*repo.ShowResult, error) {
	return &repo.ShowResult{LogEntry: repo.LogEntry{ID: id, Author: "Ann", Message: "Big table"}, Changes: []repo.Change{{Path: "big.csv", Kind: repo.Modified}}}, nil
}

func (s slowHistory) StreamRows(_ context.Context, _, _ dag.ID, path string) (repo.TableDiff, RowStream, error) {
	return repo.TableDiff{Change: repo.Change{Path: path, Kind: repo.Modified}, Table: true}, slowStream(s), nil
}

// slowStream is slowHistory's row diff.
type slowStream slowHistory

func (s slowStream) Run(ctx context.Context, _ func(merge.StreamEvent) error) error {
	<-ctx.Done()
	close(s.cancelled)
	return ctx.Err()
}

func (slowStream) Rows(context.Context, []merge.ChangeRef) ([]merge.RowChange, error) {
	return nil, errors.New("no rows")
}
func (slowStream) Headers() (merge.Header, merge.Header) { return merge.Header{}, merge.Header{} }
func (s slowStream) Close()                              { close(s.closed) }

// TestRowDiffEscCancels: Esc during a diff that does not end by itself
// cancels it and closes it, and the UI answers keys meanwhile and after.
func TestRowDiffEscCancels(t *testing.T) {
	history := slowHistory{cancelled: make(chan struct{}), closed: make(chan struct{})}
	var model tea.Model = newTestModel(t, history, 10)
	run := func(msg tea.Msg) tea.Cmd {
		var cmd tea.Cmd
		model, cmd = model.Update(msg)
		return cmd
	}
	model = update(t, model.(Model), tea.KeyMsg{Type: tea.KeyTab})
	open := run(tea.KeyMsg{Type: tea.KeyEnter})
	if open == nil || !model.(Model).rows.loading {
		t.Fatal("Enter started no row diff")
	}
	next := run(open())
	if next == nil {
		t.Fatal("the opened stream is not read")
	}
	result := make(chan tea.Msg, 1)
	go func() { result <- next() }()
	run(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("l")}) // answered while the diff runs
	if !strings.Contains(model.View(), "loading row diff… (Esc cancels)") {
		t.Fatalf("no loading screen:\n%s", model.View())
	}
	run(tea.KeyMsg{Type: tea.KeyEsc})
	for what, ch := range map[string]chan struct{}{"cancel": history.cancelled, "close": history.closed} {
		select {
		case <-ch:
		case <-time.After(waitLimit):
			t.Fatalf("Esc did not %s the row diff", what)
		}
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

// scriptedHistory is a History whose row diff emits the batches the test
// sends on its channel, and reads back rows named by their offsets.
type scriptedHistory struct {
	slowHistory
	batches chan merge.StreamEvent
	asked   *atomic.Int64 // the most changes one Rows call read back
}

func (s scriptedHistory) StreamRows(_ context.Context, _, _ dag.ID, path string) (repo.TableDiff, RowStream, error) {
	return repo.TableDiff{Change: repo.Change{Path: path, Kind: repo.Modified}, Table: true}, scriptedStream(s), nil
}

type scriptedStream scriptedHistory

func (s scriptedStream) Run(ctx context.Context, emit func(merge.StreamEvent) error) error {
	for {
		select {
		case ev := <-s.batches:
			if err := emit(ev); err != nil || ev.Done {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s scriptedStream) Rows(_ context.Context, refs []merge.ChangeRef) ([]merge.RowChange, error) {
	if int64(len(refs)) > s.asked.Load() {
		s.asked.Store(int64(len(refs)))
	}
	out := make([]merge.RowChange, len(refs))
	for i, c := range refs {
		key := fmt.Sprint(c.NewOff)
		out[i] = merge.RowChange{Kind: c.Kind(), Key: key, New: &merge.Row{Key: key, Cols: []string{"id"}, Vals: []string{"row" + key}}}
	}
	return out, nil
}
func (scriptedStream) Headers() (merge.Header, merge.Header) {
	return merge.Header{Cols: []string{"id"}}, merge.Header{Cols: []string{"id"}}
}
func (scriptedStream) Close() {}

// added is n added rows at offsets from, from+1, ...
func added(from, n int) []merge.ChangeRef {
	out := make([]merge.ChangeRef, n)
	for i := range out {
		out[i] = merge.ChangeRef{NewOff: int64(from + i), NewLen: 1}
	}
	return out
}

// TestRowDiffStreams: the drill-down shows the first rows of a diff that
// is still running, says more may come, scrolls over what has come, and
// reads back only the rows on screen.
func TestRowDiffStreams(t *testing.T) {
	h := scriptedHistory{slowHistory: slowHistory{cancelled: make(chan struct{}), closed: make(chan struct{})}, batches: make(chan merge.StreamEvent), asked: &atomic.Int64{}}
	tm := teatest.NewTestModel(t, newTestModel(t, h, 10), teatest.WithInitialTermSize(80, 24))
	waitFor(t, tm, "M big.csv")
	press(tm, "tab")
	waitFor(t, tm, ">M big.csv")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFor(t, tm, "loading row diff…")
	h.batches <- merge.StreamEvent{Changes: added(0, 1000)}
	waitFor(t, tm, "+1000 -0 ~0 rows 1-21/1000+ ", "+ 0: row0", "+ 20: row20")
	press(tm, "G")
	waitFor(t, tm, "980-1000/1000+ ", "+ 999: row999")
	h.batches <- merge.StreamEvent{Changes: added(1000, 5000)}
	waitFor(t, tm, "+6000 -0 ~0 rows 980-1000/6000+ ")
	h.batches <- merge.StreamEvent{Done: true}
	waitFor(t, tm, "980-1000/6000 ")
	press(tm, "G")
	waitFor(t, tm, "5980-6000/6000 ", "+ 5999: row5999")
	press(tm, "ctrl+c")
	tm.WaitFinished(t, teatest.WithFinalTimeout(waitLimit))
	if n := h.asked.Load(); n > 21 {
		t.Errorf("a page read back %d rows; 21 fit on the screen", n)
	}
}

// TestUnverifiedCommitShows: a commit made with --no-verify says so in
// the list and in its details.
func TestUnverifiedCommitShows(t *testing.T) {
	h := newTestHistory(t)
	h.commit("Clean", map[string]string{"a.txt": "a\n"}, nil)
	h.now = h.now.Add(time.Minute)
	if err := os.WriteFile(filepath.Join(h.repo.Root, "a.txt"), []byte("b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := h.repo.Commit(context.Background(), repo.CommitOptions{Message: "Unchecked", NoVerify: true}); err != nil {
		t.Fatal(err)
	}
	tm := startUI(t, h, Options{})
	waitFor(t, tm, "[unverified] Unchecked", "Meta:    dx.unverified=true")
	press(tm, "j")
	waitFor(t, tm, "Clean")
	_, screen := quitScreen(t, tm)
	if strings.Count(screen, "[unverified]") != 1 {
		t.Fatalf("the clean commit is marked too:\n%s", screen)
	}
}
