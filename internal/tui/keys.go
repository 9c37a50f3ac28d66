package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// keyMap is every key the UI answers, with the help each shows.
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Left, Right, Open, Back                 key.Binding
	Search, Next, Prev                      key.Binding
	Refs, All, Models, Lineage, Copy        key.Binding
	Focus, Help, Quit                       key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("PgUp", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f", " "), key.WithHelp("PgDn", "page down")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "first")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "last")),
		Left:     key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "scroll left (diff)")),
		Right:    key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "scroll right (diff)")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("Enter", "open path / pick")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("Esc", "back / cancel")),
		Search:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
		Next:     key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next match")),
		Prev:     key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "previous match")),
		Refs:     key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "branches, tags")),
		All:      key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "all refs")),
		Models:   key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "models")),
		Lineage:  key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "models using commit")),
		Copy:     key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy id / dx cat")),
		Focus:    key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("Tab", "switch pane")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// ShortHelp is the one-line hint at the bottom of the screen: keys that
// go together share an entry, so that it fits in 80 columns, and the
// ones a newcomer needs come first, so that a narrow screen keeps them.
func (k keyMap) ShortHelp() []key.Binding {
	short := func(b key.Binding, help string) key.Binding {
		return key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(b.Help().Key, help))
	}
	return []key.Binding{
		pair(k.Down, k.Up, "j/k", "move"),
		short(k.Focus, "pane"), k.Help, k.Quit, k.Search,
		pair(k.Refs, k.All, "b/a", "refs"),
		k.Models, short(k.Copy, "copy"),
	}
}

// pair is two keys under one entry of the hint.
func pair(a, b key.Binding, keys, help string) key.Binding {
	return key.NewBinding(key.WithKeys(append(a.Keys(), b.Keys()...)...), key.WithHelp(keys, help))
}

// FullHelp is what ? shows: every key, in columns.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Focus},
		{k.Open, k.Back, k.Left, k.Right, k.Search, k.Next, k.Prev},
		{k.Refs, k.All, k.Models, k.Lineage, k.Copy, k.Help, k.Quit},
	}
}

// move is where a move key takes the cursor of a list of n items shown
// page at a time: within the list, and ok false for a key that is not a
// move.
func (k keyMap) move(msg tea.KeyMsg, cursor, page, n int) (to int, ok bool) {
	switch {
	case key.Matches(msg, k.Up):
		cursor--
	case key.Matches(msg, k.Down):
		cursor++
	case key.Matches(msg, k.PageUp):
		cursor -= page
	case key.Matches(msg, k.PageDown):
		cursor += page
	case key.Matches(msg, k.Top):
		cursor = 0
	case key.Matches(msg, k.Bottom):
		cursor = n - 1
	default:
		return max(0, min(cursor, n-1)), false
	}
	return max(0, min(cursor, n-1)), true
}
