package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/dxdata/dx/internal/repo"
)

// menuKind is which full-screen list is open.
type menuKind int

const (
	noMenu     menuKind = iota
	refsMenu            // b: the branches, tags and remote branches to show
	modelsMenu          // m, l: model versions, Enter jumps to their data
)

// menu is a full-screen list to pick from, read in the background: the
// branch picker and the models view share its moves and drawing.
type menu struct {
	kind           menuKind
	seq            int // which read the menu waits for: older answers are dropped
	title          string
	empty          string // what it says when the list is empty
	loading        bool
	err            error
	lines          []string // one per item
	refs           []RefChoice
	models         []*repo.ModelVersion
	cursor, offset int
}

// menuMsg is a menu's items, read by a command.
type menuMsg struct {
	seq    int
	refs   []RefChoice
	models []*repo.ModelVersion
	err    error
}

// openMenu opens an empty menu of kind that waits for read's answer.
func (m Model) openMenu(kind menuKind, title, empty string, read func() menuMsg) (Model, tea.Cmd) {
	m.menuSeq++
	seq := m.menuSeq
	m.menu = menu{kind: kind, seq: seq, title: title, empty: empty, loading: true}
	return m, func() tea.Msg {
		msg := read()
		msg.seq = seq
		return msg
	}
}

// menuLoaded takes a menu's items, if they are for the open menu.
func (m *Model) menuLoaded(msg menuMsg) {
	if m.menu.kind == noMenu || msg.seq != m.menu.seq {
		return
	}
	m.menu.loading, m.menu.err = false, msg.err
	m.menu.refs, m.menu.models = msg.refs, msg.models
	switch m.menu.kind {
	case refsMenu:
		m.menu.lines = m.refLines(msg.refs)
	case modelsMenu:
		m.menu.lines = m.modelLines(msg.models)
	}
}

// menuKey answers a key while a menu is open: moves, Enter picks, Esc or
// q closes.
func (m Model) menuKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	page := m.menuHeight()
	mu := &m.menu
	switch {
	case msg.String() == "ctrl+c":
		return m, tea.Quit
	case msg.Type == tea.KeyEsc || msg.String() == "q":
		m.menu = menu{}
		return m, nil
	case key.Matches(msg, m.keys.Open):
		if mu.loading || mu.err != nil || len(mu.lines) == 0 {
			return m, nil
		}
		if mu.kind == refsMenu {
			return m.pickRef(mu.refs[mu.cursor])
		}
		return m.jumpToModelData(mu.models[mu.cursor])
	case mu.kind == refsMenu && key.Matches(msg, m.keys.All):
		m.menu = menu{}
		return m.showAll()
	}
	mu.cursor, _ = m.keys.move(msg, mu.cursor, page, len(mu.lines))
	if mu.cursor < mu.offset {
		mu.offset = mu.cursor
	}
	if mu.cursor >= mu.offset+page {
		mu.offset = mu.cursor - page + 1
	}
	return m, nil
}

// menuHeight is how many items fit under the menu's title and above the
// key hint.
func (m Model) menuHeight() int { return max(1, m.height-2) }

// menuLines draws the open menu: its title and the visible page of items,
// the selected one marked (visible without colours) and reversed.
func (m Model) menuLines() []string {
	s, mu := m.styles, m.menu
	title := "── " + mu.title + " "
	if n := len(mu.lines); n > 0 {
		title += fmt.Sprintf("%d/%d ", mu.cursor+1, n)
	}
	title += strings.Repeat("─", max(0, m.width-ansi.StringWidth(title)))
	lines := []string{s.titleFocused.Render(title)}
	switch {
	case mu.loading:
		lines = append(lines, s.dim.Render("loading…"))
	case mu.err != nil:
		lines = append(lines, s.deleted.Render("error: "+mu.err.Error()))
	case len(mu.lines) == 0:
		lines = append(lines, s.dim.Render(mu.empty))
	}
	end := min(len(mu.lines), mu.offset+m.menuHeight())
	for i := mu.offset; i < end; i++ {
		if i == mu.cursor {
			lines = append(lines, s.selected.Render(ansi.Truncate("> "+ansi.Strip(mu.lines[i]), m.width, "…")))
			continue
		}
		lines = append(lines, "  "+mu.lines[i])
	}
	return lines
}
