package tui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/merge"
)

// RowDiffer is what the row-diff drill-down reads: one changed path of a
// commit against its parent (a zero from is the empty tree), compared row
// by row when it is a table. A History that also implements it gets the
// drill-down; it must stop when ctx is cancelled.
type RowDiffer interface {
	DiffRows(ctx context.Context, from, to dag.ID, path string) (*repo.TableDiff, error)
}

// scrollColumns is how far one left or right key scrolls a wide row.
const scrollColumns = 8

// rowView is the open drill-down into one changed path.
type rowView struct {
	open    bool
	seq     int // which load the view waits for: older answers are dropped
	change  repo.Change
	cancel  context.CancelFunc
	loading bool
	diff    *repo.TableDiff
	file    *fileChange // a file that is not a table, read by a FileReader
	err     error
	top     int // the first change on screen
	left    int // columns scrolled to the right
}

// rowsMsg is a finished (or cancelled) row diff.
type rowsMsg struct {
	seq  int
	diff *repo.TableDiff
	file *fileChange
	err  error
}

// openRows starts the row diff of the selected commit's selected path in
// the background; the view shows "loading…" until it answers.
func (m Model) openRows() (Model, tea.Cmd) {
	id, ok := m.selected()
	res := m.details[id]
	if !ok || res == nil || m.pathCursor >= len(res.Changes) {
		return m, nil
	}
	var from dag.ID
	if len(res.Parents) > 0 {
		from = res.Parents[0]
	}
	change := res.Changes[m.pathCursor]
	ctx, cancel := context.WithCancel(m.ctx)
	m.rowSeq++
	m.rows = rowView{open: true, seq: m.rowSeq, change: change, cancel: cancel, loading: true}
	differ, ok := m.history.(RowDiffer)
	if !ok {
		cancel()
		m.rows.loading = false
		m.rows.diff = &repo.TableDiff{Change: change}
		return m, nil
	}
	seq := m.rowSeq
	files, _ := m.history.(FileReader)
	return m, func() tea.Msg {
		d, err := differ.DiffRows(ctx, from, id, change.Path)
		if err != nil || files == nil || (d != nil && (d.Table || d.NotFetched)) {
			return rowsMsg{seq: seq, diff: d, err: err}
		}
		f, err := readFileChange(ctx, files, from, id, change)
		return rowsMsg{seq: seq, diff: d, file: f, err: err}
	}
}

// closeRows leaves the drill-down, cancelling a diff still running.
func (m *Model) closeRows() {
	if m.rows.cancel != nil {
		m.rows.cancel()
	}
	m.rows = rowView{}
}

// rowsLoaded takes a row diff's answer, if it is for the open view.
func (m *Model) rowsLoaded(msg rowsMsg) {
	if !m.rows.open || msg.seq != m.rows.seq {
		return
	}
	m.rows.loading = false
	m.rows.cancel()
	m.rows.diff, m.rows.file, m.rows.err = msg.diff, msg.file, msg.err
	if m.rows.diff == nil && m.rows.err == nil {
		m.rows.diff = &repo.TableDiff{Change: m.rows.change}
	}
}

// rowsKey answers a key in the drill-down: moves, scrolls, and Esc or q
// back to the commit.
func (m Model) rowsKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	page := m.rowsHeight()
	switch {
	case msg.String() == "ctrl+c":
		m.rows.cancel()
		return m, tea.Quit
	case msg.Type == tea.KeyEsc || msg.String() == "q":
		m.closeRows()
		return m, nil
	case key.Matches(msg, m.keys.Copy):
		return m.copySelected()
	case key.Matches(msg, m.keys.Up):
		m.rows.top--
	case key.Matches(msg, m.keys.Down):
		m.rows.top++
	case key.Matches(msg, m.keys.PageUp):
		m.rows.top -= page
	case key.Matches(msg, m.keys.PageDown):
		m.rows.top += page
	case key.Matches(msg, m.keys.Top):
		m.rows.top = 0
	case key.Matches(msg, m.keys.Bottom):
		m.rows.top = m.rowCount()
	case key.Matches(msg, m.keys.Left):
		m.rows.left = max(0, m.rows.left-scrollColumns)
	case key.Matches(msg, m.keys.Right) && m.rowCount() > 0: // nothing wide to scroll before the rows are in
		m.rows.left += scrollColumns
	}
	m.rows.top = max(0, min(m.rows.top, m.rowCount()-page))
	return m, nil
}

// rowCount is how many changed rows, or lines of a text diff, the open
// view has.
func (m Model) rowCount() int {
	if m.rows.file != nil {
		return len(m.rows.file.lines)
	}
	if m.rows.diff == nil || m.rows.diff.Rows == nil {
		return 0
	}
	return len(m.rows.diff.Rows.Changes)
}

// rowsHeight is how many changes fit under the view's two title lines
// and above the key hint.
func (m Model) rowsHeight() int { return max(1, m.height-3) }

// rowsLines draws the drill-down: a title, the columns, and the visible
// page of changes, each scrolled left by the view's offset. Only the
// page on screen is rendered, so a long diff costs no more to draw than
// a short one.
func (m Model) rowsLines() []string {
	s, v := m.styles, m.rows
	title := "── " + displayPath(v.change.Path) + " "
	var body []string
	header := ""
	switch {
	case v.loading:
		body = append(body, s.dim.Render("loading row diff… (Esc cancels)"))
	case v.err != nil:
		body = append(body, s.deleted.Render("error: "+v.err.Error()))
	case v.file != nil && v.file.lines == nil:
		body = m.fileLines(v.change, v.file)
	case v.file != nil:
		title += v.file.title()
		end := min(len(v.file.lines), v.top+m.rowsHeight())
		for _, l := range v.file.lines[v.top:end] {
			body = append(body, m.diffLine(l))
		}
	case !v.diff.Table:
		body = m.fileSummary(v.diff.Change)
	case v.diff.NotFetched:
		body = append(body, "not fetched in this sparse repository: no rows to compare")
	default:
		added, removed, changed := v.diff.Rows.Counts()
		title += fmt.Sprintf("+%d -%d ~%d rows ", added, removed, changed)
		if added+removed+changed == 0 {
			body = append(body, s.dim.Render("no rows differ"))
		}
		header = s.dim.Render("  key: " + strings.Join(columns(v.diff.Rows), ","))
		end := min(len(v.diff.Rows.Changes), v.top+m.rowsHeight())
		for _, c := range v.diff.Rows.Changes[v.top:end] {
			body = append(body, m.rowLine(c))
		}
	}
	if n := m.rowCount(); n > 0 {
		title += fmt.Sprintf("%d-%d/%d ", v.top+1, min(n, v.top+m.rowsHeight()), n)
	}
	title += strings.Repeat("─", max(0, m.width-ansi.StringWidth(title)))
	lines := []string{s.titleFocused.Render(title), scrolled(header, v.left, m.width)}
	for _, l := range body {
		lines = append(lines, scrolled(l, v.left, m.width))
	}
	return lines
}

// scrolled is line without its first left columns, cut to width.
func scrolled(line string, left, width int) string {
	if left == 0 {
		return line
	}
	return ansi.Cut(line, left, left+width)
}

// columns are the new header's columns, or the old one's for a table
// whose rows were all removed.
func columns(d *merge.RowDiff) []string {
	if len(d.NewHeader.Cols) > 0 {
		return d.NewHeader.Cols
	}
	return d.OldHeader.Cols
}

// rowLine is one changed row: + added, - removed, ~ changed, with each
// changed cell shown as [old → new] (and coloured), so that it reads
// without colours too.
func (m Model) rowLine(c merge.RowChange) string {
	s := m.styles
	key := merge.ShowKey(c.Key)
	switch c.Kind {
	case merge.RowAdded:
		return s.added.Render("+ " + key + ": " + strings.Join(c.New.Vals, ","))
	case merge.RowRemoved:
		return s.deleted.Render("- " + key + ": " + strings.Join(c.Old.Vals, ","))
	}
	changed := map[string]bool{}
	for _, col := range c.Columns {
		changed[col] = true
	}
	cells := make([]string, 0, len(c.New.Vals))
	for i, col := range c.New.Cols {
		val := c.New.Vals[i]
		if !changed[col] {
			cells = append(cells, val)
			continue
		}
		old, _ := c.Old.Value(col)
		cells = append(cells, s.changedCell.Render("["+old+" → "+val+"]"))
	}
	return "~ " + key + ": " + strings.Join(cells, ",")
}

// fileSummary is what the drill-down shows for a path that is not a
// table: its change and sizes.
func (m Model) fileSummary(c repo.Change) []string {
	return []string{
		m.changeLine(" ", c),
		"",
		fmt.Sprintf("size: %s -> %s", byteSize(c.OldSize), byteSize(c.NewSize)),
		m.styles.dim.Render("not a table (.dxattributes): no rows to compare"),
	}
}
