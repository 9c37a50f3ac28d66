package tui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/internal/synthhistory"
	"github.com/dxdata/dx/store"
)

// testHistory is a repository built in a temporary directory with pinned
// author and dates (one minute apart from 2026-01-02 03:04:05 UTC), so
// that commit IDs, and with them the golden screens, never change.
type testHistory struct {
	t    *testing.T
	dir  string
	repo *repo.Repo // open for writing while the history is made; then nil
	now  time.Time
}

func newTestHistory(t *testing.T) *testHistory {
	t.Helper()
	ctx := context.Background()
	dir, err := repo.Init(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := &testHistory{t: t, dir: dir, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	r, err := repo.Open(ctx, dir, repo.Options{Author: "Ann Example <ann@example.com>", Now: func() time.Time { return h.now }})
	if err != nil {
		t.Fatal(err)
	}
	h.repo = r
	t.Cleanup(h.done)
	return h
}

// done closes the repository written to, so that readers can open it.
func (h *testHistory) done() {
	if h.repo != nil {
		if err := h.repo.Close(); err != nil {
			h.t.Error(err)
		}
		h.repo = nil
	}
}

// open opens the repository for reading, as dx ui does.
func (h *testHistory) open(ctx context.Context) (*repo.Repo, error) {
	return repo.Open(ctx, h.dir, repo.Options{Store: store.Options{Access: store.ReadOnly}})
}

// commit writes files (path → content) and commits them.
func (h *testHistory) commit(message string, files map[string]string, meta map[string]string) {
	h.t.Helper()
	for p, content := range files {
		full := filepath.Join(h.repo.Root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			h.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			h.t.Fatal(err)
		}
	}
	h.now = h.now.Add(time.Minute)
	if _, err := h.repo.Commit(context.Background(), repo.CommitOptions{Message: message, Meta: meta, AllowEmpty: len(files) == 0}); err != nil {
		h.t.Fatal(err)
	}
}

// linearHistory makes n commits "Step 1" … "Step n" on main, each a
// second after the last, written straight to the store as dx debug
// history writes them (through Repo.Commit they would take a worktree
// scan and a flush each).
func (h *testHistory) linearHistory(n int) {
	h.t.Helper()
	o := synthhistory.Options{Commits: n, Author: "Ann Example <ann@example.com>", Start: h.now}
	if _, err := synthhistory.Append(context.Background(), h.repo.Store, o); err != nil {
		h.t.Fatal(err)
	}
}

// smallHistory is five commits: tables and a text file added, changed and
// renamed, a tag and a second branch.
func smallHistory(t *testing.T) *testHistory {
	t.Helper()
	h := newTestHistory(t)
	h.commit("Import customers and orders", map[string]string{
		"data/customers.csv": "id,name\n1,Ada\n2,Bob\n",
		"data/orders.csv":    "id,customer,total\n10,1,5.00\n",
	}, nil)
	h.commit("Add notes", map[string]string{"notes.txt": "first notes\n"}, nil)
	h.commit("More customers\n\nThree new customers from the spring import.", map[string]string{
		"data/customers.csv": "id,name\n1,Ada\n2,Bob\n3,Cy\n4,Di\n5,Ed\n",
	}, map[string]string{"source": "spring-import"})
	ctx := context.Background()
	if _, err := h.repo.CreateTag(ctx, "v1", "HEAD"); err != nil {
		t.Fatal(err)
	}
	h.commit("Orders for March", map[string]string{"data/orders.csv": "id,customer,total\n10,1,5.00\n11,3,7.50\n12,4,1.25\n"}, nil)
	if _, err := h.repo.CreateBranch(ctx, "experiment", "HEAD~1"); err != nil {
		t.Fatal(err)
	}
	h.commit("Fix a typo in the notes", map[string]string{"notes.txt": "First notes.\n"}, nil)
	return h
}

// openHistory is the history of h's HEAD as dx ui reads it (closed when
// the test ends).
func openHistory(t *testing.T, h *testHistory) *RepoHistory {
	t.Helper()
	ctx := context.Background()
	h.done()
	r, err := h.open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	history, err := NewRepoHistory(ctx, r, h.open, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := history.Close(); err != nil {
			t.Error(err)
		}
	})
	return history
}

// startUI runs the UI over h headless at 80×24 with colours off.
func startUI(t *testing.T, h *testHistory, opts Options) *teatest.TestModel {
	t.Helper()
	ctx := context.Background()
	history := openHistory(t, h)
	renderer := lipgloss.NewRenderer(io.Discard)
	renderer.SetColorProfile(termenv.Ascii)
	opts.Renderer = renderer
	opts.Location = time.UTC
	return teatest.NewTestModel(t, New(ctx, history, opts), teatest.WithInitialTermSize(80, 24))
}

// waitLimit bounds every wait of these tests for the UI: a safety net for
// a UI that never gets there, not a timing, so a loaded machine never
// trips it.
const waitLimit = 2 * time.Minute

// waitFor waits until the screen has shown every one of wants.
func waitFor(t *testing.T, tm *teatest.TestModel, wants ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(screen []byte) bool {
		for _, w := range wants {
			if !bytes.Contains(screen, []byte(w)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(waitLimit), teatest.WithCheckInterval(5*time.Millisecond))
}

func press(tm *teatest.TestModel, keys ...string) {
	for _, k := range keys {
		switch k {
		case "tab":
			tm.Send(tea.KeyMsg{Type: tea.KeyTab})
		case "esc":
			tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
		case "ctrl+c":
			tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
		case "pgdown":
			tm.Send(tea.KeyMsg{Type: tea.KeyPgDown})
		case "enter":
			tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
		default:
			tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
		}
	}
}

// finalScreen quits and returns the model and the last screen it drew.
func finalScreen(t *testing.T, tm *teatest.TestModel) (Model, string) {
	t.Helper()
	press(tm, "q")
	m := tm.FinalModel(t, teatest.WithFinalTimeout(waitLimit)).(Model)
	return m, m.View()
}

// step is keys pressed and what the screen then shows that it did not
// show before (the renderer redraws only lines that change).
type step struct {
	keys  []string
	wants []string
}

// screenAfter starts the UI over h, waits for ready (the first commit's
// details, and whatever else loads by itself), takes the steps, and
// returns the last screen.
func screenAfter(t *testing.T, h *testHistory, ready []string, steps []step) string {
	t.Helper()
	tm := startUI(t, h, Options{})
	waitFor(t, tm, ready...)
	for _, s := range steps {
		press(tm, s.keys...)
		waitFor(t, tm, s.wants...)
	}
	_, screen := quitScreen(t, tm)
	return screen
}

func TestScreens(t *testing.T) {
	h := smallHistory(t)
	cases := []struct {
		name  string
		steps []step
	}{
		{"first", nil},
		{"down_twice", []step{{[]string{"j", "j"}, []string{"3/5", "Meta:    source=spring-import", "Three new customers"}}}},
		{"down_then_up", []step{
			{[]string{"j", "j"}, []string{"3/5", "Three new customers"}},
			{[]string{"k"}, []string{"2/5", "M data/orders.csv"}},
		}},
		{"bottom", []step{{[]string{"G"}, []string{"5/5", "A data/customers.csv", "2 files changed"}}}},
		{"bottom_then_top", []step{
			{[]string{"G"}, []string{"5/5", "A data/customers.csv"}},
			{[]string{"g"}, []string{"1/5", "M notes.txt"}},
		}},
		{"page_down", []step{{[]string{"pgdown"}, []string{"5/5", "A data/customers.csv"}}}},
		{"help", []step{{[]string{"?"}, []string{"Keys", "switch pane", "closes this help"}}}},
		{"detail_focus", []step{
			{[]string{"j", "j"}, []string{"3/5", "Three new customers"}},
			{[]string{"tab", "j", "j"}, []string{"focus: detail"}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			golden.RequireEqual(t, []byte(screenAfter(t, h, []string{"M notes.txt"}, c.steps)))
		})
	}
}

func TestHelpCloses(t *testing.T) {
	tm := startUI(t, smallHistory(t), Options{})
	waitFor(t, tm, "M notes.txt")
	press(tm, "?")
	waitFor(t, tm, "Keys")
	press(tm, "esc")
	m, screen := finalScreen(t, tm)
	if m.showHelp || strings.Contains(screen, "closes this help") {
		t.Fatalf("help still open:\n%s", screen)
	}
}

func TestResize(t *testing.T) {
	tm := startUI(t, smallHistory(t), Options{})
	waitFor(t, tm, "M notes.txt")
	tm.Send(tea.WindowSizeMsg{Width: 60, Height: 14})
	waitFor(t, tm, "focus: list (Tab) ─") // a resize redraws the whole screen
	m, screen := finalScreen(t, tm)
	lines := strings.Split(screen, "\n")
	if len(lines) != 14 {
		t.Errorf("%d lines at height 14", len(lines))
	}
	for _, l := range lines {
		if w := lipgloss.Width(l); w > 60 {
			t.Errorf("line of width %d at width 60: %q", w, l)
		}
	}
	if m.listHeight()+m.detailHeight()+2 != 14 {
		t.Errorf("panes of %d and %d lines at height 14", m.listHeight(), m.detailHeight())
	}
	golden.RequireEqual(t, []byte(screen))
}

func TestQuitKeys(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		t.Run(k, func(t *testing.T) {
			tm := startUI(t, smallHistory(t), Options{})
			waitFor(t, tm, "M notes.txt")
			press(tm, k)
			tm.WaitFinished(t, teatest.WithFinalTimeout(waitLimit))
		})
	}
}

// TestLongHistoryLoadsLazily shows the first screen of a 100,000-commit
// history after reading one page, and reaches its end with G.
func TestLongHistoryLoadsLazily(t *testing.T) {
	const commits = 100_000
	h := newTestHistory(t)
	h.linearHistory(commits)
	tm := startUI(t, h, Options{})
	waitFor(t, tm, fmt.Sprintf("Step %d", commits), fmt.Sprintf("Step %d", commits-6))
	press(tm, "j")
	waitFor(t, tm, "2/")
	m, _ := finalScreen(t, tm)
	if m.Loaded() > 300 {
		t.Errorf("the first screen loaded %d commits, want at most 300", m.Loaded())
	}

	tm = startUI(t, h, Options{})
	waitFor(t, tm, fmt.Sprintf("Step %d", commits))
	press(tm, "G")
	waitFor(t, tm, fmt.Sprintf("%d/%d ", commits, commits), "Step 1 ")
	m, _ = finalScreen(t, tm)
	if m.Loaded() != commits || m.cursor != commits-1 {
		t.Errorf("after G: %d loaded, cursor at %d; want %d and the last", m.Loaded(), m.cursor, commits)
	}
}
