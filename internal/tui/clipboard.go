package tui

import (
	"encoding/base64"
	"io"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/dxdata/dx/internal/repo"
)

// osc52 is the escape sequence that asks the terminal to put text on the
// clipboard: it travels with the output, so it works over SSH and, with
// set-clipboard on, inside tmux.
func osc52(text string) string {
	return "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(text)) + "\a"
}

// copyFailedMsg says the clipboard sequence could not be written.
type copyFailedMsg struct{ err error }

// copyText puts text on the terminal's clipboard and says so in the hint
// line.
func (m Model) copyText(text string) (Model, tea.Cmd) {
	w := m.opts.Clipboard
	if w == nil {
		m.status = "no terminal to copy to"
		return m, nil
	}
	m.status = "copied: " + text
	return m, func() tea.Msg {
		if _, err := io.WriteString(w, osc52(text)); err != nil {
			return copyFailedMsg{err}
		}
		return nil
	}
}

// copySelected copies what y names where the keys are: the commit's id in
// the list, the dx cat command of the selected path in the details or of
// the path open in the drill-down.
func (m Model) copySelected() (Model, tea.Cmd) {
	id, ok := m.selected()
	if !ok {
		return m, nil
	}
	res := m.details[id]
	switch {
	case res != nil && m.rows.open:
		return m.copyText(catCommand(res, m.rows.change))
	case m.focus == listPane || res == nil || m.pathCursor >= len(res.Changes):
		return m.copyText(id.String())
	}
	return m.copyText(catCommand(res, res.Changes[m.pathCursor]))
}

// catCommand is the dx cat command that prints a changed path as the
// commit has it, or as its parent had it when the commit deleted it.
func catCommand(res *repo.ShowResult, c repo.Change) string {
	rev := res.ID.Short()
	if c.Kind == repo.Deleted && len(res.Parents) > 0 {
		rev = res.Parents[0].Short()
	}
	return "dx cat " + shellQuote(rev+":"+c.Path)
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and a few safe punctuation marks.
func shellQuote(s string) string {
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@+,=%", r)
	}
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool { return !safe(r) }) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
