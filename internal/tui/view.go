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
	switch {
	case m.showHelp:
		lines = append(lines, m.styles.titleFocused.Render("Keys"), "")
		lines = append(lines, strings.Split(m.help.FullHelpView(m.keys.FullHelp()), "\n")...)
		lines = append(lines, "", m.styles.dim.Render("? or Esc closes this help"))
	case m.menu.kind != noMenu:
		lines = append(lines, m.menuLines()...)
	case m.rows.open:
		lines = append(lines, m.rowsLines()...)
	default:
		lines = append(lines, m.listLines()...)
		lines = append(lines, m.detailTitle())
		lines = append(lines, strings.Split(m.detail.View(), "\n")...)
	}
	for len(lines) < m.height-1 {
		lines = append(lines, "")
	}
	lines = append(lines[:m.height-1], m.bottomLine())
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, m.width, "")
	}
	return strings.Join(lines, "\n")
}

// bottomLine is the search prompt while it is typed, else a message
// (a search's progress or answer, an error), else the keys of what is on
// screen.
func (m Model) bottomLine() string {
	s := m.styles
	switch {
	case m.search.typing:
		return m.promptView()
	case m.status != "":
		return s.titleFocused.Render(m.status)
	case m.search.running:
		return s.dim.Render(m.searchStatus())
	case m.err != nil && len(m.commits) > 0:
		return s.deleted.Render("error: " + m.err.Error())
	case m.showHelp:
		return m.help.ShortHelpView(m.keys.ShortHelp())
	case m.menu.kind == refsMenu:
		return s.dim.Render("j/k move • Enter show its history • a all refs • Esc/q back")
	case m.menu.kind == modelsMenu:
		return s.dim.Render("j/k move • Enter jump to its data commit • Esc/q back")
	case m.rows.open:
		return s.dim.Render("j/k move • ←/→ scroll • y copy dx cat • Esc/q back • g/G first/last • PgDn/PgUp")
	}
	return m.help.ShortHelpView(m.keys.ShortHelp())
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
	end := min(len(m.commits), m.offset+h-len(out))
	graph := m.graph.column(m.offset, end)
	for i := m.offset; i < end; i++ {
		out = append(out, m.commitRow(m.commits[i], graph[i-m.offset], i == m.cursor))
	}
	for len(out) < h {
		out = append(out, "")
	}
	return out
}

// commitRow is one commit on one line: a marker on the selected one
// (visible without colours), its graph cell, short id, date, author, the
// refs at it, the model versions trained on it, and its subject.
func (m Model) commitRow(e repo.LogEntry, graph string, selected bool) string {
	s := m.styles
	marker := "  "
	if selected {
		marker = "> "
	}
	plain := []string{
		e.ID.Short(),
		e.Time.In(m.opts.Location).Format("2006-01-02"),
		fmt.Sprintf("%-12s", ansi.Truncate(authorName(e.Author), 12, "…")),
	}
	var refs, models string
	if len(e.Refs) > 0 {
		refs = "(" + strings.Join(e.Refs, ", ") + ") "
	}
	if trained := m.trainedOn[e.ID]; len(trained) > 0 {
		models = "[model: " + strings.Join(trained, ", ") + "] "
	}
	if e.Unverified() {
		models += "[unverified] " // made with --no-verify
	}
	subject := dag.Subject(e.Message)
	if selected {
		row := marker + graph + strings.Join(plain, " ") + " " + refs + models + subject
		return s.selected.Render(ansi.Truncate(row, m.width, "…"))
	}
	row := marker + s.dim.Render(graph) + s.id.Render(plain[0]) + " " + s.date.Render(plain[1]) + " " + s.author.Render(plain[2]) + " "
	if refs != "" {
		row += s.decoration.Render(strings.TrimSuffix(refs, " ")) + " "
	}
	if models != "" {
		row += s.model.Render(strings.TrimSuffix(models, " ")) + " "
	}
	return ansi.Truncate(row+subject, m.width, "…")
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
	title := fmt.Sprintf("── %s ── %s ── focus: %s (Tab) ", displayPath(m.showing), pos, name)
	title += strings.Repeat("─", max(0, m.width-ansi.StringWidth(title)))
	if m.focus == detailPane {
		return m.styles.titleFocused.Render(title)
	}
	return m.styles.title.Render(title)
}
