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

// scrollColumns is how far one left or right key scrolls a wide row.
const scrollColumns = 8

// rowView is the open drill-down into one changed path.
type rowView struct {
	open    bool
	seq     int // which load the view waits for: older answers are dropped
	change  repo.Change
	cancel  context.CancelFunc
	loading bool // the change, or the table's row diff, is still being read
	diff    *repo.TableDiff
	stream  RowStream   // a table's row diff, nil before it opens
	box     *streamBox  // where the stream's changes collect
	changes *changeList // the changes the stream has found so far
	// released: the stream is closed (the view is left, or the UI quits)
	released bool
	page     *rowPage    // the changes on screen, read back
	file     *fileChange // a file that is not a table, read by a FileReader
	err      error
	top      int // the first change on screen
	left     int // columns scrolled to the right
}

// openRows opens the selected commit's selected path in the background:
// a table's row diff then streams in, a screen at a time, while the view
// answers keys.
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
	m.rows = rowView{open: true, seq: m.rowSeq, change: change, cancel: cancel, loading: true, changes: &changeList{}}
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
		d, stream, err := differ.StreamRows(ctx, from, id, change.Path)
		if err != nil {
			return rowsOpenedMsg{seq: seq, err: err}
		}
		if stream != nil {
			shared := share(m.ctx, stream)
			return rowsOpenedMsg{seq: seq, diff: d, stream: shared, box: startStream(ctx, seq, shared)}
		}
		if files == nil || d.Table || d.NotFetched {
			return rowsOpenedMsg{seq: seq, diff: d}
		}
		f, err := readFileChange(ctx, files, from, id, change)
		return rowsOpenedMsg{seq: seq, diff: d, file: f, err: err}
	}
}

// closeRows leaves the drill-down, cancelling a diff still running.
func (m *Model) closeRows() {
	m.rows.release()
	m.rows = rowView{}
}

// release cancels the view's diff and lets its stream go; the view can
// still draw what it has (the last screen, on quitting).
func (v *rowView) release() {
	if v.cancel != nil {
		v.cancel()
	}
	if v.stream != nil && !v.released {
		v.stream.Close()
	}
	v.released = true
}

// rowsOpened takes the answer to openRows, if it is for the open view;
// a view closed meanwhile closes the stream it no longer wants.
func (m *Model) rowsOpened(msg rowsOpenedMsg) tea.Cmd {
	if !m.rows.open || msg.seq != m.rows.seq {
		if msg.stream != nil {
			msg.stream.Close()
		}
		return nil
	}
	v := &m.rows
	v.diff, v.file, v.err = &msg.diff, msg.file, msg.err
	if msg.stream == nil {
		v.loading = false
		if v.err == nil && v.diff.Change.Path == "" {
			v.diff = &repo.TableDiff{Change: v.change}
		}
		return nil
	}
	v.stream, v.box = msg.stream, msg.box
	return nextEvent(v.box)
}

// rowsKey answers a key in the drill-down: moves, scrolls, and Esc or q
// back to the commit.
func (m Model) rowsKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	page := m.rowsHeight()
	switch {
	case msg.String() == "ctrl+c":
		m.rows.release()
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
	m.loadPage()
	return m, nil
}

// rowCount is how many changed rows, or lines of a text diff, the open
// view has.
func (m Model) rowCount() int {
	if m.rows.file != nil {
		return len(m.rows.file.lines)
	}
	if m.rows.changes == nil {
		return 0
	}
	return m.rows.changes.n
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
	case v.err != nil:
		body = append(body, s.deleted.Render("error: "+v.err.Error()))
	case v.loading && m.rowCount() == 0:
		body = append(body, s.dim.Render("loading row diff… (Esc cancels)"))
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
		l := v.changes
		title += fmt.Sprintf("+%d -%d ~%d rows ", l.added, l.removed, l.changed)
		if l.n == 0 {
			body = append(body, s.dim.Render("no rows differ"))
		}
		if v.stream != nil {
			oldH, newH := v.stream.Headers()
			header = s.dim.Render("  key: " + strings.Join(columns(oldH, newH), ","))
		}
		if v.page != nil {
			for _, c := range v.page.rows {
				body = append(body, m.rowLine(c))
			}
		}
	}
	if n := m.rowCount(); n > 0 {
		more := ""
		if v.loading {
			more = "+" // more may come
		}
		title += fmt.Sprintf("%d-%d/%d%s ", v.top+1, min(n, v.top+m.rowsHeight()), n, more)
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
func columns(old, new merge.Header) []string {
	if len(new.Cols) > 0 {
		return new.Cols
	}
	return old.Cols
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
