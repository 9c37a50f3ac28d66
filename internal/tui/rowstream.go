package tui

import (
	"context"
	"sync"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/merge"
)

// RowDiffer is what the row-diff drill-down reads: one changed path of a
// commit against its parent (a zero from is the empty tree) and, when it
// is a table, its row diff as a stream. A History that also implements it
// gets the drill-down.
type RowDiffer interface {
	// StreamRows returns the change and, for a fetched table, an open
	// stream of its row diff (else nil).
	StreamRows(ctx context.Context, from, to dag.ID, path string) (repo.TableDiff, RowStream, error)
}

// RowStream is an open row diff (repo.TableStream): Run emits its changes
// and stops when ctx is cancelled; Rows reads some of them back, also
// while Run goes on; Close releases it once Run has returned and no Rows
// call is left.
type RowStream interface {
	Run(ctx context.Context, emit func(merge.StreamEvent) error) error
	Rows(ctx context.Context, refs []merge.ChangeRef) ([]merge.RowChange, error)
	Headers() (old, new merge.Header)
	Close()
}

var _ RowStream = (*repo.TableStream)(nil)

// rowsOpenedMsg answers the opening of a drill-down: the change and,
// for a table, its stream, whose changes collect in box.
type rowsOpenedMsg struct {
	seq    int
	diff   repo.TableDiff
	stream RowStream
	box    *streamBox
	file   *fileChange
	err    error
}

// streamMsg is what a running stream found since the view last looked:
// its changes (after a reset, if it started again) and whether it ended
// (with Run's error, if any).
type streamMsg struct {
	seq     int
	reset   bool
	changes []merge.ChangeRef
	end     bool
	err     error
}

// streamBox collects a running stream's changes until the view takes
// them: the diff never waits for the screen, and the screen takes what
// came meanwhile at once, however many events that was.
type streamBox struct {
	mu   sync.Mutex
	msg  streamMsg
	wake chan struct{} // a message is waiting
}

func (b *streamBox) put(fn func(m *streamMsg)) {
	b.mu.Lock()
	fn(&b.msg)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// startStream runs the stream in the background, its changes collected
// in the box returned; the runner's share of the stream ends with it.
func startStream(ctx context.Context, seq int, s *sharedStream) *streamBox {
	box := &streamBox{msg: streamMsg{seq: seq}, wake: make(chan struct{}, 1)}
	go func() {
		defer s.closeRunner()
		err := s.Run(ctx, func(ev merge.StreamEvent) error {
			box.put(func(m *streamMsg) {
				if ev.Reset {
					m.reset, m.changes = true, nil
				}
				m.changes = append(m.changes, ev.Changes...)
			})
			return nil
		})
		box.put(func(m *streamMsg) { m.end, m.err = true, err })
	}()
	return box
}

// nextEvent waits for the box to hold something and takes it.
func nextEvent(box *streamBox) tea.Cmd {
	return func() tea.Msg {
		<-box.wake
		box.mu.Lock()
		defer box.mu.Unlock()
		msg := box.msg
		box.msg = streamMsg{seq: msg.seq}
		return msg
	}
}

// sharedStream closes a stream once both its runner and its view are done
// with it: the view calls Close (or its context ends: the UI quit), the
// runner closeRunner once Run has returned.
type sharedStream struct {
	RowStream
	mu            sync.Mutex
	view, runner  bool // released
	stopAfterQuit func() bool
}

func share(ctx context.Context, s RowStream) *sharedStream {
	sh := &sharedStream{RowStream: s}
	sh.stopAfterQuit = context.AfterFunc(ctx, sh.Close)
	return sh
}

// Close releases the view's share.
func (s *sharedStream) Close() { s.release(&s.view) }

func (s *sharedStream) closeRunner() { s.release(&s.runner) }

func (s *sharedStream) release(share *bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *share {
		return
	}
	*share = true
	if s.view && s.runner {
		s.stopAfterQuit()
		s.RowStream.Close()
	}
}

// changeList holds a diff's changes as they arrive, in blocks, so that a
// million of them never copy themselves to grow; it counts them by kind.
type changeList struct {
	blocks                  [][]merge.ChangeRef
	n                       int
	added, removed, changed int
}

const changeBlock = 1 << 16

func (l *changeList) add(cs []merge.ChangeRef) {
	for _, c := range cs {
		if l.n%changeBlock == 0 {
			l.blocks = append(l.blocks, make([]merge.ChangeRef, 0, changeBlock))
		}
		b := &l.blocks[len(l.blocks)-1]
		*b = append(*b, c)
		l.n++
		switch c.Kind() {
		case merge.RowAdded:
			l.added++
		case merge.RowRemoved:
			l.removed++
		default:
			l.changed++
		}
	}
}

// slice copies changes [from, to).
func (l *changeList) slice(from, to int) []merge.ChangeRef {
	out := make([]merge.ChangeRef, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, l.blocks[i/changeBlock][i%changeBlock])
	}
	return out
}

// rowPage is the changes on screen, read back from the stream.
type rowPage struct {
	top  int
	rows []merge.RowChange
}

// streamed takes what a stream found, if it is for the open view, and
// waits for more.
func (m *Model) streamed(msg streamMsg) tea.Cmd {
	v := &m.rows
	if !v.open || msg.seq != v.seq {
		return nil
	}
	if msg.reset {
		*v.changes = changeList{}
		v.page = nil
	}
	v.changes.add(msg.changes)
	m.loadPage()
	if msg.end {
		v.loading = false
		if msg.err != nil && v.err == nil {
			v.err = msg.err
		}
		return nil
	}
	return nextEvent(v.box)
}

// loadPage reads back the changes on screen, unless it has them.
func (m *Model) loadPage() {
	v := &m.rows
	if v.stream == nil || v.released || v.err != nil {
		return
	}
	end := min(v.changes.n, v.top+m.rowsHeight())
	if p := v.page; p != nil && p.top == v.top && len(p.rows) == end-v.top || end <= v.top {
		return
	}
	rows, err := v.stream.Rows(m.ctx, v.changes.slice(v.top, end))
	if err != nil {
		v.err = err
		return
	}
	v.page = &rowPage{top: v.top, rows: rows}
}
