package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// The screen, top to bottom: the commit list, a title line for the detail
// pane, the detail pane, and the key hint. The list takes two fifths: the
// detail pane needs the room for a message and the changed paths.
func (m Model) listHeight() int   { return max(1, (m.height-2)*2/5) }
func (m Model) detailHeight() int { return max(1, m.height-2-m.listHeight()) }

// View draws the screen.
func (m Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	var lines []string
	if m.rows.open && !m.showHelp {
		lines = append(lines, m.rowsLines()...)
	} else if m.showHelp {
		lines = append(lines, m.styles.titleFocused.Render("Keys"), "")
		lines = append(lines, strings.Split(m.help.FullHelpView(m.keys.FullHelp()), "\n")...)
		lines = append(lines, "", m.styles.dim.Render("? or Esc closes this help"))
	} else {
		lines = append(lines, m.listLines()...)
		lines = append(lines, m.detailTitle())
		lines = append(lines, strings.Split(m.detail.View(), "\n")...)
	}
	for len(lines) < m.height-1 {
		lines = append(lines, "")
	}
	bottom := m.help.ShortHelpView(m.keys.ShortHelp())
	if m.rows.open {
		bottom = m.styles.dim.Render("j/k move • ←/→ scroll • Esc/q back • g/G first/last • PgDn/PgUp page")
	}
	if m.err != nil && len(m.commits) > 0 {
		bottom = m.styles.deleted.Render("error: " + m.err.Error())
	}
	lines = append(lines[:m.height-1], bottom)
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, m.width, "")
	}
	return strings.Join(lines, "\n")
}

// listLines are the visible rows of the commit list, padded to its height.
func (m Model) listLines() []string {
	h := m.listHeight()
	var out []string
	switch {
	case len(m.commits) == 0 && m.loading:
		out = append(out, m.styles.dim.Render("loading history…"))
	case len(m.commits) == 0 && m.err != nil:
		out = append(out, m.styles.deleted.Render("error: "+m.err.Error()))
	case len(m.commits) == 0:
		out = append(out, m.styles.dim.Render("no commits yet"))
	}
	for i := m.offset; i < len(m.commits) && len(out) < h; i++ {
		out = append(out, m.commitRow(m.commits[i], i == m.cursor))
	}
	for len(out) < h {
		out = append(out, "")
	}
	return out
}

// commitRow is one commit on one line: a marker on the selected one
// (visible without colours), short id, date, author, decorations, subject.
func (m Model) commitRow(e repo.LogEntry, selected bool) string {
	marker := "  "
	if selected {
		marker = "> "
	}
	plain := []string{
		e.ID.Short(),
		e.Time.In(m.opts.Location).Format("2006-01-02"),
		fmt.Sprintf("%-12s", ansi.Truncate(authorName(e.Author), 12, "…")),
	}
	subject := dag.Subject(e.Message)
	if len(e.Refs) > 0 {
		subject = "(" + strings.Join(e.Refs, ", ") + ") " + subject
	}
	if selected {
		row := marker + strings.Join(plain, " ") + " " + subject
		return m.styles.selected.Render(ansi.Truncate(row, m.width, "…"))
	}
	row := marker + m.styles.id.Render(plain[0]) + " " + m.styles.date.Render(plain[1]) + " " + m.styles.author.Render(plain[2]) + " "
	if len(e.Refs) > 0 {
		row += m.styles.decoration.Render("("+strings.Join(e.Refs, ", ")+")") + " "
	}
	return ansi.Truncate(row+dag.Subject(e.Message), m.width, "…")
}

// authorName is the name part of "Name <email>".
func authorName(a string) string {
	if i := strings.Index(a, " <"); i > 0 {
		return a[:i]
	}
	return a
}

// detailTitle separates the list from the detail pane and says which
// commit the pane shows and which pane has the keys.
func (m Model) detailTitle() string {
	name := "list"
	if m.focus == detailPane {
		name = "detail"
	}
	pos := "0/0"
	if len(m.commits) > 0 {
		more := ""
		if !m.exhausted {
			more = "+"
		}
		pos = fmt.Sprintf("%d/%d%s", m.cursor+1, len(m.commits), more)
	}
	title := fmt.Sprintf("── %s ── focus: %s (Tab) ", pos, name)
	title += strings.Repeat("─", max(0, m.width-ansi.StringWidth(title)))
	if m.focus == detailPane {
		return m.styles.titleFocused.Render(title)
	}
	return m.styles.title.Render(title)
}
