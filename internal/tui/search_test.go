package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

func typeSearch(t *testing.T, m Model, text string) Model {
	t.Helper()
	return update(t, m, runes("/"), runes(text), tea.KeyMsg{Type: tea.KeyEnter})
}

// TestSearchPagesInLazily: a search for a commit far below the loaded
// page reads pages until it finds it, and no further.
func TestSearchPagesInLazily(t *testing.T) {
	h := newFakeHistory(1000)
	m := newTestModel(t, h, 50)
	m = typeSearch(t, m, "step 400") // any case
	if m.cursor != 600 || m.search.running {
		t.Fatalf("cursor at %d (running %v), want 600, the commit \"Step 400\"", m.cursor, m.search.running)
	}
	if m.Loaded() >= 1000 || m.Loaded() < 601 {
		t.Errorf("%d commits loaded to find the 601st, want the pages up to it", m.Loaded())
	}
	if row := selectedRow(m.View()); !strings.HasSuffix(row, "Step 400") {
		t.Errorf("selected row %q", row)
	}
	m = update(t, m, runes("N"))
	if m.cursor != 600 || !strings.Contains(m.View(), `no match for "step 400" before this commit`) {
		t.Errorf("N: cursor %d, screen:\n%s", m.cursor, m.View())
	}
	m = update(t, m, runes("g"), runes("n"))
	if m.cursor != 600 {
		t.Errorf("g then n: cursor %d, want 600", m.cursor)
	}
	m = typeSearch(t, m, "no such commit")
	if m.Loaded() != 1000 || m.cursor != 600 || !strings.Contains(m.View(), `no match for "no such commit" after this commit`) {
		t.Errorf("a search without match: %d loaded, cursor %d, screen:\n%s", m.Loaded(), m.cursor, m.View())
	}
}

// TestSearchMatchesIDPrefixAndAuthor: an id prefix and an author's name
// find their commit.
func TestSearchMatchesIDPrefixAndAuthor(t *testing.T) {
	h := newFakeHistory(30)
	h.entries[17].Author = "Bo Other <bo@example.com>"
	m := newTestModel(t, h, 10)
	m = typeSearch(t, m, h.entries[23].ID.Short()[:7])
	if m.cursor != 23 {
		t.Errorf("id prefix: cursor %d, want 23", m.cursor)
	}
	m = update(t, m, runes("g"))
	if m = typeSearch(t, m, "BO OTHER"); m.cursor != 17 {
		t.Errorf("author: cursor %d, want 17", m.cursor)
	}
}

// blockingHistory is a fakeHistory whose Show, once block is set, waits
// for its context: it stands for a history whose changed paths take long
// to read.
type blockingHistory struct {
	*fakeHistory
	block     bool
	entered   chan struct{} // closed when Show starts waiting
	cancelled chan struct{}
}

func (h *blockingHistory) Show(ctx context.Context, id dag.ID) (*repo.ShowResult, error) {
	if !h.block {
		return h.fakeHistory.Show(ctx, id)
	}
	close(h.entered)
	<-ctx.Done()
	close(h.cancelled)
	return nil, ctx.Err()
}

// TestSearchEscCancels: a search stuck reading changed paths leaves the
// screen answering keys, and Esc cancels it.
func TestSearchEscCancels(t *testing.T) {
	h := &blockingHistory{fakeHistory: newFakeHistory(100), entered: make(chan struct{}), cancelled: make(chan struct{})}
	m := newTestModel(t, h, 50)
	h.block = true
	m = update(t, m, runes("/"), runes("nowhere"))
	next, step := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	m = next.(Model)
	if step == nil || !m.search.running {
		t.Fatal("Enter started no search")
	}
	answer := make(chan tea.Msg, 1)
	go func() { answer <- step() }()
	<-h.entered
	next, _ = m.Update(runes("j")) // answered while the search runs
	m = next.(Model)
	if m.cursor != 1 || !strings.Contains(m.View(), `searching for "nowhere"… 0 commits looked at (Esc cancels)`) {
		t.Fatalf("during the search: cursor %d, screen:\n%s", m.cursor, m.View())
	}
	next, _ = m.Update(tea.KeyMsg{Type: tea.KeyEsc})
	m = next.(Model)
	select {
	case <-h.cancelled:
	case <-time.After(waitLimit):
		t.Fatal("Esc did not cancel the search")
	}
	next, _ = m.Update(<-answer) // the cancelled step's answer is dropped
	m = next.(Model)
	if m.search.running || m.cursor != 1 || !strings.Contains(m.View(), "search cancelled") {
		t.Errorf("after Esc: running %v, cursor %d, screen:\n%s", m.search.running, m.cursor, m.View())
	}
}

// TestJumpPagesIn: a jump to a commit not loaded yet reads pages until
// it is; a page of a log the list no longer shows is dropped.
func TestJumpPagesIn(t *testing.T) {
	h := newFakeHistory(500)
	m := newTestModel(t, h, 20)
	target := h.entries[321].ID
	next, cmd := m.jumpTo(target)
	m = drain(t, next, cmd)
	if m.cursor != 321 || m.Loaded() >= 500 {
		t.Errorf("jump: cursor %d, %d loaded; want 321, fewer than 500", m.cursor, m.Loaded())
	}
	loaded := m.Loaded()
	m.listSeq++ // as a restart does
	m = update(t, m, commitsMsg{seq: m.listSeq - 1, entries: h.entries[:5]})
	if m.Loaded() != loaded {
		t.Errorf("a page of the old log was added: %d loaded, want %d", m.Loaded(), loaded)
	}
}
