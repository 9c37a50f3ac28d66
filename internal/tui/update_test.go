package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// fakeHistory is a linear history of n commits held in memory, for
// testing Update alone; showErr fails every Show, pageErr every page after
// the first.
type fakeHistory struct {
	entries []repo.LogEntry
	next    int
	pages   int
	showErr error
	pageErr error
}

func newFakeHistory(n int) *fakeHistory {
	h := &fakeHistory{}
	for i := range n {
		h.entries = append(h.entries, repo.LogEntry{
			ID:      dag.Hash(dag.KindCommit, fmt.Appendf(nil, "commit %d", i)),
			Author:  "Ann <ann@example.com>",
			Time:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			Message: fmt.Sprintf("Step %d", n-i),
		})
	}
	return h
}

func (h *fakeHistory) NextCommits(_ context.Context, n int) ([]repo.LogEntry, bool, error) {
	h.pages++
	if h.pageErr != nil && h.pages > 1 {
		return nil, false, h.pageErr
	}
	end := min(h.next+n, len(h.entries))
	page := h.entries[h.next:end]
	h.next = end
	return page, end == len(h.entries), nil
}

func (h *fakeHistory) Show(_ context.Context, id dag.ID) (*repo.ShowResult, error) {
	if h.showErr != nil {
		return nil, h.showErr
	}
	for _, e := range h.entries {
		if e.ID == id {
			return &repo.ShowResult{LogEntry: e}, nil
		}
	}
	return nil, repo.ErrUnknownRevision
}

// drain runs cmd and every command the messages it yields lead to, one at
// a time, as bubbletea would but in order.
func drain(t *testing.T, m Model, cmd tea.Cmd) Model {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case nil:
		default:
			next, more := m.Update(msg)
			m = next.(Model)
			queue = append(queue, more)
		}
	}
	return m
}

// update sends msgs to m one by one, draining what each starts.
func update(t *testing.T, m Model, msgs ...tea.Msg) Model {
	t.Helper()
	for _, msg := range msgs {
		next, cmd := m.Update(msg)
		m = drain(t, next.(Model), cmd)
	}
	return m
}

func newTestModel(t *testing.T, h History, pageSize int) Model {
	t.Helper()
	renderer := lipgloss.NewRenderer(io.Discard)
	renderer.SetColorProfile(termenv.Ascii)
	m := New(context.Background(), h, Options{PageSize: pageSize, Location: time.UTC, Renderer: renderer})
	m = drain(t, m, m.Init())
	return update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
}

// selectedRow is the line of the screen marked as the cursor's.
func selectedRow(screen string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, "> ") {
			return strings.TrimRight(l, " ")
		}
	}
	return ""
}

func runes(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

func TestUpdateLoadsPagesAsTheCursorNearsTheEnd(t *testing.T) {
	h := newFakeHistory(1000)
	m := newTestModel(t, h, 50)
	if m.Loaded() != 50 || h.pages != 1 {
		t.Fatalf("first screen: %d commits in %d pages, want 50 in 1", m.Loaded(), h.pages)
	}
	for range 40 {
		m = update(t, m, runes("j"))
	}
	if m.cursor != 40 || m.Loaded() != 100 {
		t.Errorf("40 down: cursor %d, %d loaded; want 40 and a second page (100)", m.cursor, m.Loaded())
	}
	m = update(t, m, runes("G"))
	if m.Loaded() != 1000 || m.cursor != 999 || m.toEnd {
		t.Errorf("G: %d loaded, cursor %d, following the end %v; want 1000, 999, false", m.Loaded(), m.cursor, m.toEnd)
	}
	if row := selectedRow(m.View()); !strings.HasSuffix(row, " Step 1") {
		t.Errorf("G: the selected row is %q, want the last commit's", row)
	}
	m = update(t, m, runes("g"), runes("k"))
	if m.cursor != 0 || m.offset != 0 {
		t.Errorf("g then k: cursor %d, offset %d; want 0, 0", m.cursor, m.offset)
	}
}

func TestUpdateShowsReadErrors(t *testing.T) {
	h := newFakeHistory(500)
	h.showErr = errors.New("pack missing")
	h.pageErr = errors.New("index closed")
	m := newTestModel(t, h, 20)
	view := m.View()
	if !strings.Contains(view, "error: pack missing") {
		t.Errorf("a failed Show is not in the detail pane:\n%s", view)
	}
	for range 15 {
		m = update(t, m, runes("j"))
	}
	if view = m.View(); !strings.Contains(view, "error: index closed") || m.Loaded() != 20 {
		t.Errorf("a failed page: %d loaded, screen:\n%s", m.Loaded(), view)
	}
}

func TestUpdateIgnoresADetailForAnotherCommit(t *testing.T) {
	h := newFakeHistory(10)
	m := newTestModel(t, h, 10)
	m = update(t, m, runes("j"))
	other := &repo.ShowResult{LogEntry: repo.LogEntry{ID: h.entries[5].ID, Message: "not the selected one"}}
	m = update(t, m, detailMsg{id: other.ID, result: other})
	if strings.Contains(m.View(), "not the selected one") {
		t.Errorf("the detail pane shows a commit that is not selected:\n%s", m.View())
	}
	if m.details[other.ID] != other {
		t.Errorf("the detail for another commit was not kept for later")
	}
}
