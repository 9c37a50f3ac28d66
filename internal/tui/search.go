package tui

import (
	"context"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// searchBatch is how many commits one step of a search looks at: a step
// that reads changed paths reads a commit's changes each, and the screen
// takes keys between steps.
const searchBatch = 64

// query is what a search looks for: text in a commit's message, author,
// id (as a prefix) or changed paths, ignoring case; or, for a jump, one
// commit.
type query struct {
	text string // as typed
	jump dag.ID // a jump's commit; zero for a text search
}

// matchEntry reports whether the commit matches without its changes.
func (q query) matchEntry(e repo.LogEntry) bool {
	if !q.jump.IsZero() {
		return e.ID == q.jump
	}
	t := strings.ToLower(q.text)
	return strings.Contains(strings.ToLower(e.Message), t) ||
		strings.Contains(strings.ToLower(e.Author), t) ||
		strings.HasPrefix(e.ID.String(), t)
}

// matchChanges reports whether a changed path (or a rename's old path)
// holds the text.
func (q query) matchChanges(cs []repo.Change) bool {
	t := strings.ToLower(q.text)
	for _, c := range cs {
		if strings.Contains(strings.ToLower(c.Path), t) || (c.From != "" && strings.Contains(strings.ToLower(c.From), t)) {
			return true
		}
	}
	return false
}

// search is the state of /, n and N, and of jumps to a commit: the
// prompt while it is typed, and a search running in the background, a
// batch of commits a step, paging the log in as it goes.
type search struct {
	typing  bool
	input   []rune // the prompt's text
	q       query
	forward bool
	next    int             // the next commit to look at
	looked  int             // commits looked at so far
	running bool            // a step is in flight, or a page it waits for
	waiting bool            // the step waits for a page of the log
	seq     int             // which search the steps belong to: older ones are dropped
	ctx     context.Context // the running search's: Esc cancels it
	cancel  context.CancelFunc
}

// searchMsg is one step's answer: the match, or where to go on.
type searchMsg struct {
	seq    int
	found  int // the matching commit's index, or -1
	next   int
	looked int
	err    error
}

// openPrompt shows the search prompt at the bottom.
func (m Model) openPrompt() (Model, tea.Cmd) {
	m.search.typing, m.search.input = true, nil
	return m, nil
}

// promptKey answers a key while the prompt is open: Enter searches
// forward from the commit after the cursor, Esc closes the prompt,
// Backspace and Ctrl-U delete a character and everything.
func (m Model) promptKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	in := &m.search.input
	switch msg.Type {
	case tea.KeyEsc:
		m.search.typing = false
	case tea.KeyEnter:
		m.search.typing = false
		if len(*in) > 0 {
			return m.startSearch(query{text: string(*in)}, true, m.cursor+1)
		}
	case tea.KeyCtrlC:
		return m, tea.Quit
	case tea.KeyBackspace:
		if len(*in) > 0 {
			*in = (*in)[:len(*in)-1]
		}
	case tea.KeyCtrlU:
		*in = nil
	case tea.KeyRunes, tea.KeySpace:
		*in = append(*in, msg.Runes...)
	}
	return m, nil
}

// promptView is the prompt line: what is typed and a block cursor, or
// what can be searched for while nothing is.
func (m Model) promptView() string {
	s := m.styles
	if len(m.search.input) == 0 {
		return s.titleFocused.Render("/") + s.selected.Render(" ") + s.dim.Render(" message, author, id or path (Enter searches, Esc cancels)")
	}
	return s.titleFocused.Render("/") + printable(string(m.search.input)) + s.selected.Render(" ")
}

// again repeats the last search, forward (n) or backward (N).
func (m Model) again(forward bool) (Model, tea.Cmd) {
	if m.search.q.text == "" {
		m.status = "no search yet: / starts one"
		return m, nil
	}
	from := m.cursor + 1
	if !forward {
		from = m.cursor - 1
	}
	return m.startSearch(m.search.q, forward, from)
}

// jumpTo moves the cursor to a commit, paging the log in until it is
// found.
func (m Model) jumpTo(id dag.ID) (Model, tea.Cmd) {
	return m.startSearch(query{text: id.Short(), jump: id}, true, 0)
}

// startSearch stops the search running, if any, and starts q from the
// commit at index from.
func (m Model) startSearch(q query, forward bool, from int) (Model, tea.Cmd) {
	m.stopSearch()
	m.status = ""
	ctx, cancel := context.WithCancel(m.ctx)
	m.search.seq++
	m.search.q, m.search.forward, m.search.next, m.search.looked = q, forward, from, 0
	m.search.running, m.search.ctx, m.search.cancel = true, ctx, cancel
	return m, m.searchStep()
}

// stopSearch cancels the search running, if any.
func (m *Model) stopSearch() {
	if m.search.cancel != nil {
		m.search.cancel()
	}
	m.search.running, m.search.waiting, m.search.ctx, m.search.cancel = false, false, nil, nil
}

// searchStep looks at the next batch of commits in the background; at
// the end of what is loaded, it reads the next page first.
func (m *Model) searchStep() tea.Cmd {
	s := &m.search
	var batch []repo.LogEntry
	var first int
	switch {
	case s.forward && s.next >= len(m.commits) && m.exhausted, !s.forward && s.next < 0:
		return m.searchDone(-1)
	case s.forward && s.next >= len(m.commits):
		s.waiting = true
		if m.loading {
			return nil // the page on its way continues the search
		}
		m.loading = true
		return m.readPage()
	case s.forward:
		first = s.next
		batch = m.commits[first:min(len(m.commits), first+searchBatch)]
	default:
		first = max(0, s.next-searchBatch+1)
		batch = m.commits[first : s.next+1]
	}
	ctx, q, forward, seq, looked, history := s.ctx, s.q, s.forward, s.seq, s.looked, m.history
	return func() tea.Msg {
		for k := range batch {
			i := k
			if !forward {
				i = len(batch) - 1 - k
			}
			if err := ctx.Err(); err != nil {
				return searchMsg{seq: seq, err: err}
			}
			e := batch[i]
			found := q.matchEntry(e)
			if !found && q.jump.IsZero() {
				res, err := history.Show(ctx, e.ID)
				if err != nil {
					return searchMsg{seq: seq, err: err}
				}
				found = q.matchChanges(res.Changes)
			}
			if found {
				return searchMsg{seq: seq, found: first + i}
			}
		}
		next := first + len(batch)
		if !forward {
			next = first - 1
		}
		return searchMsg{seq: seq, found: -1, next: next, looked: looked + len(batch)}
	}
}

// searchAnswer takes a step's answer: the cursor moves to a match, or
// the search goes on.
func (m Model) searchAnswer(msg searchMsg) (Model, tea.Cmd) {
	s := &m.search
	if !s.running || msg.seq != s.seq {
		return m, nil
	}
	switch {
	case msg.err != nil:
		m.stopSearch()
		m.status = "search: " + msg.err.Error()
		return m, nil
	case msg.found >= 0:
		m.searchDone(msg.found)
		return m, m.follow()
	}
	s.next, s.looked = msg.next, msg.looked
	return m, m.searchStep()
}

// pageLoaded goes on with a search that waited for a page of the log.
func (m *Model) pageLoaded() tea.Cmd {
	if !m.search.running || !m.search.waiting {
		return nil
	}
	m.search.waiting = false
	return m.searchStep()
}

// searchDone ends the search at the commit found, or says there is none.
// A jump to a commit that is not in the refs shown looks in all refs.
func (m *Model) searchDone(found int) tea.Cmd {
	q, forward := m.search.q, m.search.forward
	m.stopSearch()
	_, browse := m.history.(RefBrowser)
	switch {
	case found >= 0:
		m.cursor = found
		m.clampOffset()
		if q.jump.IsZero() {
			m.status = fmt.Sprintf("%q: n next, N previous", q.text)
		}
	case !q.jump.IsZero() && browse && m.showing != allRefs:
		next, cmd := m.restart(allRefs, nil)
		*m = next
		m.pendingJump = q.jump
		return cmd
	case !q.jump.IsZero():
		m.status = fmt.Sprintf("commit %s is in no ref's history", q.text)
	case forward:
		m.status = fmt.Sprintf("no match for %q after this commit", q.text)
	default:
		m.status = fmt.Sprintf("no match for %q before this commit", q.text)
	}
	return nil
}

// searchStatus is what the hint line says while a search runs.
func (m Model) searchStatus() string {
	return fmt.Sprintf("searching for %q… %d commits looked at (Esc cancels)", m.search.q.text, m.search.looked)
}
