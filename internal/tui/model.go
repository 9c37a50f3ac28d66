package tui

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// DefaultPageSize is how many commits one read of the log asks for: the
// first screen needs a few dozen, so a long history is never walked whole
// before it shows.
const DefaultPageSize = 200

// Options configure a Model; the zero value is ready to use.
type Options struct {
	// PageSize is how many commits one read of the log asks for.
	PageSize int
	// Location is the time zone dates are shown in; default time.Local.
	Location *time.Location
	// Renderer draws the colours; default lipgloss's, which reads the
	// terminal and NO_COLOR from stdout.
	Renderer *lipgloss.Renderer
	// Clipboard is where y writes the OSC 52 sequence that sets the
	// terminal's clipboard: the terminal's output. Nil turns y off.
	Clipboard io.Writer
	// Showing names the history shown, in the title line; default HEAD.
	Showing string
}

// pane is which half of the screen the keys move.
type pane int

const (
	listPane pane = iota
	detailPane
)

// Model is the UI's whole state. It is a value, as bubbletea wants:
// Update returns the next one.
type Model struct {
	ctx     context.Context
	history History
	opts    Options
	keys    keyMap
	styles  styles
	help    help.Model

	showing   string // which refs the list shows
	listSeq   int    // logs started so far: pages of older ones are dropped
	commits   []repo.LogEntry
	graph     graph
	trainedOn map[dag.ID][]string // model versions (NAME@VERSION) by data commit
	exhausted bool                // the log has no more commits
	loading   bool                // a page is being read
	toEnd     bool                // G was pressed: keep loading and follow the end
	err       error               // why the log could not be read further, shown in the hint line

	cursor, offset int // the selected commit, and the first one on screen
	details        map[dag.ID]*repo.ShowResult
	failed         map[dag.ID]error // Show calls that failed, shown in the detail pane
	pending        map[dag.ID]bool  // Show calls in flight
	detail         viewport.Model
	detailFor      dag.ID // the commit the viewport shows

	pathCursor int    // the changed path selected in the detail pane
	pathsFor   dag.ID // the commit pathCursor belongs to
	pathsStart int    // the detail pane's line of the first changed path
	rows       rowView
	rowSeq     int // loads of the drill-down started so far

	menu    menu // the branch picker or the models view, when open
	menuSeq int  // menus opened so far
	search  search
	// pendingJump is a commit to move to once the first page of a new log
	// is in: a jump that did not find it in the refs shown before.
	pendingJump dag.ID
	status      string // a one-line message in the hint line, until the next key

	focus         pane
	showHelp      bool
	width, height int
}

// New is a Model over history; ctx bounds every read it starts.
func New(ctx context.Context, history History, opts Options) Model {
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Renderer == nil {
		// A renderer of its own, made now: the default one was made by
		// bubbletea's init while TERM was hidden (internal/termstart),
		// so it knows neither the colours nor the background. It becomes
		// the default, for the bubbles' styles too.
		opts.Renderer = lipgloss.NewRenderer(os.Stdout)
		lipgloss.SetDefaultRenderer(opts.Renderer)
	}
	// The adaptive colours need the terminal's background: ask now, before
	// bubbletea reads the terminal's input, where the answer would arrive
	// as keys.
	opts.Renderer.HasDarkBackground()
	if opts.Showing == "" {
		opts.Showing = "HEAD"
	}
	st := newStyles(opts.Renderer)
	return Model{
		ctx: ctx, history: history, opts: opts, showing: opts.Showing,
		keys: newKeyMap(), styles: st, help: st.help(),
		details: map[dag.ID]*repo.ShowResult{}, failed: map[dag.ID]error{}, pending: map[dag.ID]bool{},
		detail: viewport.New(0, 0),
		width:  80, height: 24,
		loading: true,
	}
}

// Loaded is how many commits have been read so far.
func (m Model) Loaded() int { return len(m.commits) }

// Messages that the commands return.
type (
	commitsMsg struct {
		seq     int // the log the page belongs to
		entries []repo.LogEntry
		done    bool
		err     error
	}
	detailMsg struct {
		id     dag.ID
		result *repo.ShowResult
		err    error
	}
)

// Init reads the first page of the log, and the model versions for the
// markers on the commits they were trained on.
func (m Model) Init() tea.Cmd { return tea.Batch(m.readPage(), m.readTrained()) }

func (m Model) readPage() tea.Cmd {
	ctx, history, n, seq := m.ctx, m.history, m.opts.PageSize, m.listSeq
	return func() tea.Msg {
		entries, done, err := history.NextCommits(ctx, n)
		return commitsMsg{seq: seq, entries: entries, done: done, err: err}
	}
}

func (m Model) readDetail(id dag.ID) tea.Cmd {
	ctx, history := m.ctx, m.history
	return func() tea.Msg {
		res, err := history.Show(ctx, id)
		return detailMsg{id: id, result: res, err: err}
	}
}

// Update turns one message into the next state.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.Width = msg.Width
		m.layout()
		if m.rows.open {
			m.rows.top = max(0, min(m.rows.top, m.rowCount()-m.rowsHeight()))
			m.loadPage()
		}
		return m, m.follow()
	case commitsMsg:
		if msg.seq != m.listSeq {
			return m, nil // a page of a log the list no longer shows
		}
		m.loading = false
		if msg.err != nil {
			m.err = msg.err
			m.exhausted = true
			return m, m.pageLoaded()
		}
		m.commits = append(m.commits, msg.entries...)
		m.graph.add(msg.entries)
		m.exhausted = msg.done
		if m.toEnd {
			m.cursor = len(m.commits) - 1
			m.toEnd = !m.exhausted
		}
		m.clampOffset()
		if id := m.pendingJump; !id.IsZero() {
			m.pendingJump = dag.ID{}
			next, jump := m.jumpTo(id)
			cmd := tea.Batch(jump, next.follow())
			return next, cmd
		}
		search := m.pageLoaded()
		return m, tea.Batch(search, m.follow())
	case searchMsg:
		return m.searchAnswer(msg)
	case menuMsg:
		m.menuLoaded(msg)
		return m, nil
	case trainedMsg:
		m.trainedLoaded(msg)
		return m, nil
	case copyFailedMsg:
		m.status = "copy: " + msg.err.Error()
		return m, nil
	case detailMsg:
		delete(m.pending, msg.id)
		if msg.err != nil {
			m.failed[msg.id] = msg.err
		} else {
			m.details[msg.id] = msg.result
		}
		m.refreshDetail()
		return m, nil
	case rowsOpenedMsg:
		return m, m.rowsOpened(msg)
	case streamMsg:
		return m, m.streamed(msg)
	case tea.KeyMsg:
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			return m.eachKey(msg)
		}
		if msg.Type != tea.KeyCtrlC { // the last screen keeps its message
			m.status = ""
		}
		switch {
		case m.search.typing:
			return m.promptKey(msg)
		case m.showHelp:
			return m.handleKey(msg)
		case key.Matches(msg, m.keys.Help):
			m.showHelp = true
			return m, nil
		case m.menu.kind != noMenu:
			return m.menuKey(msg)
		case m.rows.open:
			return m.rowsKey(msg)
		}
		return m.handleKey(msg)
	}
	return m, nil
}

// eachKey answers keys typed faster than the terminal is read, which
// arrive as one message ("/notes" is / then n, o, t, e, s), one by one.
func (m Model) eachKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	var next tea.Model = m
	var cmds []tea.Cmd
	for _, r := range msg.Runes {
		var cmd tea.Cmd
		next, cmd = next.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt})
		cmds = append(cmds, cmd)
	}
	return next, tea.Batch(cmds...)
}

// handleKey answers one key press.
func (m Model) handleKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m, tea.Quit
	case key.Matches(msg, m.keys.Help):
		m.showHelp = !m.showHelp
		return m, nil
	case m.showHelp:
		if msg.Type == tea.KeyEsc {
			m.showHelp = false
		}
		return m, nil
	case key.Matches(msg, m.keys.Focus):
		m.focus = 1 - m.focus
		m.refreshDetail()
		return m, nil
	case msg.Type == tea.KeyEsc && m.search.running:
		m.stopSearch()
		m.status = "search cancelled"
		return m, nil
	case key.Matches(msg, m.keys.Search):
		return m.openPrompt()
	case key.Matches(msg, m.keys.Next):
		return m.again(true)
	case key.Matches(msg, m.keys.Prev):
		return m.again(false)
	case key.Matches(msg, m.keys.Refs):
		return m.openRefs()
	case key.Matches(msg, m.keys.All):
		return m.showAll()
	case key.Matches(msg, m.keys.Models):
		return m.openModels()
	case key.Matches(msg, m.keys.Lineage):
		return m.openLineage()
	case key.Matches(msg, m.keys.Copy):
		return m.copySelected()
	}
	if m.focus == detailPane {
		return m.detailKey(msg)
	}
	cursor, ok := m.keys.move(msg, m.cursor, m.listHeight(), len(m.commits))
	if !ok {
		return m, nil
	}
	m.cursor = cursor
	m.toEnd = key.Matches(msg, m.keys.Bottom) && !m.exhausted // any move but G stops following the end
	m.clampOffset()
	return m, m.follow()
}

// follow starts what the cursor's position needs: the next page when the
// cursor nears the end of what is loaded, and the selected commit's
// details. It also points the detail pane at the selected commit.
func (m *Model) follow() tea.Cmd {
	var cmds []tea.Cmd
	if !m.loading && !m.exhausted && (m.toEnd || m.cursor+2*m.listHeight() >= len(m.commits)) {
		m.loading = true
		cmds = append(cmds, m.readPage())
	}
	if id, ok := m.selected(); ok && m.details[id] == nil && m.failed[id] == nil && !m.pending[id] {
		m.pending[id] = true
		cmds = append(cmds, m.readDetail(id))
	}
	m.refreshDetail()
	return tea.Batch(cmds...)
}

// selected is the commit under the cursor, if any.
func (m Model) selected() (dag.ID, bool) {
	if m.cursor < 0 || m.cursor >= len(m.commits) {
		return dag.ID{}, false
	}
	return m.commits[m.cursor].ID, true
}

// clampOffset scrolls the list so the cursor stays on screen.
func (m *Model) clampOffset() {
	h := m.listHeight()
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+h {
		m.offset = m.cursor - h + 1
	}
	m.offset = max(0, min(m.offset, len(m.commits)-h))
}

// refreshDetail puts the selected commit's details in the viewport,
// keeping the scroll position while it stays the same commit.
func (m *Model) refreshDetail() {
	id, ok := m.selected()
	if !ok {
		return
	}
	res := m.details[id]
	if res == nil {
		text := m.styles.dim.Render("loading…")
		if err := m.failed[id]; err != nil {
			text = m.styles.deleted.Render("error: " + err.Error())
		}
		m.detail.SetContent(text)
		m.detailFor = dag.ID{}
		return
	}
	if m.pathsFor != id {
		m.pathsFor, m.pathCursor = id, 0
	}
	// Re-rendered each time: the selected path's marker moves with the
	// cursor and the focus, and one commit's text is short.
	m.detail.SetContent(m.detailText(res))
	if m.detailFor != id {
		m.detail.GotoTop()
	}
	m.detailFor = id
}

// detailKey answers a key while the detail pane has the focus: up and
// down select a changed path (scrolling to it), Enter opens it, and the
// other keys scroll the pane.
func (m Model) detailKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	id, _ := m.selected()
	res := m.details[id]
	paths := 0
	if res != nil {
		paths = len(res.Changes)
	}
	switch {
	case key.Matches(msg, m.keys.Open):
		return m.openRows()
	case paths > 0 && (key.Matches(msg, m.keys.Up) || key.Matches(msg, m.keys.Down)):
		if key.Matches(msg, m.keys.Up) {
			m.pathCursor = max(0, m.pathCursor-1)
		} else {
			m.pathCursor = min(paths-1, m.pathCursor+1)
		}
		m.refreshDetail()
		line := m.pathsStart + m.pathCursor
		if line < m.detail.YOffset {
			m.detail.SetYOffset(line)
		} else if line >= m.detail.YOffset+m.detail.Height {
			m.detail.SetYOffset(line - m.detail.Height + 1)
		}
		return m, nil
	}
	var cmd tea.Cmd
	m.detail, cmd = m.detail.Update(msg)
	if key.Matches(msg, m.keys.Top) {
		m.detail.GotoTop()
	} else if key.Matches(msg, m.keys.Bottom) {
		m.detail.GotoBottom()
	}
	return m, cmd
}

// layout sizes the panes to the window.
func (m *Model) layout() {
	m.detail.Width = m.width
	m.detail.Height = m.detailHeight()
	m.detailFor = dag.ID{} // re-render: the width changed
	m.clampOffset()
}
