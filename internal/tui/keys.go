package tui

import "github.com/charmbracelet/bubbles/key"

// keyMap is every key the UI answers, with the help each shows.
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Left, Right, Open                       key.Binding
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
		Left:     key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "scroll left (rows)")),
		Right:    key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "scroll right (rows)")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("Enter", "open path (detail)")),
		Focus:    key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("Tab", "switch pane")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// ShortHelp is the one-line hint at the bottom of the screen: keys that
// go together share an entry, so that it fits in 80 columns, and the
// ones a newcomer needs come first, so that a narrow screen keeps them.
func (k keyMap) ShortHelp() []key.Binding {
	pair := func(a, b key.Binding, keys, help string) key.Binding {
		return key.NewBinding(key.WithKeys(append(a.Keys(), b.Keys()...)...), key.WithHelp(keys, help))
	}
	return []key.Binding{
		pair(k.Down, k.Up, "j/k", "move"),
		k.Focus, k.Help, k.Quit,
		pair(k.Top, k.Bottom, "g/G", "first/last"),
		pair(k.PageDown, k.PageUp, "PgDn/PgUp", "page"),
	}
}

// FullHelp is what ? shows: every key, in columns.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown},
		{k.Top, k.Bottom, k.Focus},
		{k.Open, k.Left, k.Right},
		{k.Help, k.Quit},
	}
}
