package tui

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// History is what the UI reads: the log a page at a time, newest first,
// and one commit with the files it changed. NextCommits is called by one
// command at a time (a RefBrowser's Restart may start a new log while a
// page of the old one is still being read); Show may run beside it and
// beside itself.
type History interface {
	// NextCommits returns up to n more commits of the log, and whether the
	// log is exhausted after them.
	NextCommits(ctx context.Context, n int) (entries []repo.LogEntry, done bool, err error)
	// Show returns a commit and its changes against its first parent.
	Show(ctx context.Context, id dag.ID) (*repo.ShowResult, error)
}

// Opener opens the repository for reading.
type Opener func(ctx context.Context) (*repo.Repo, error)

// IdleClose is how long RepoHistory keeps the repository open after its
// last read: long enough that moving through the list reuses one open,
// short enough that a command writing to the repository from another
// terminal, which waits for readers to let go, is hardly held up.
const IdleClose = 500 * time.Millisecond

// RepoHistory serves History from a repository with the calls dx log and
// dx show use. A UI stays open for as long as its user looks, and an open
// reader keeps writers out, so it opens the repository for its reads only
// and closes it once they have been idle for IdleClose.
type RepoHistory struct {
	open   Opener
	walker *repo.LogWalker

	mu       sync.Mutex
	idleRead *sync.Cond // signalled on mu when the last read in progress ends
	repo     *repo.Repo // nil while closed
	users    int        // reads in progress
	idle     *time.Timer
	closed   bool  // Close was called: no more reads
	closeErr error // the first failed close, returned by Close
}

// ErrClosed is returned by a read after Close.
var ErrClosed = errors.New("tui: history closed")

var (
	_ History     = (*RepoHistory)(nil)
	_ RowDiffer   = (*RepoHistory)(nil)
	_ RefBrowser  = (*RepoHistory)(nil)
	_ ModelReader = (*RepoHistory)(nil)
	_ FileReader  = (*RepoHistory)(nil)
)

// NewRepoHistory is the history of revs (HEAD when none) in r, which it
// takes over (Close closes it); open reopens the repository after an idle
// close.
func NewRepoHistory(ctx context.Context, r *repo.Repo, open Opener, revs []string) (*RepoHistory, error) {
	w, err := r.WalkLog(ctx, revs)
	if err != nil {
		return nil, errors.Join(err, r.Close())
	}
	h := &RepoHistory{open: open, walker: w, repo: r}
	h.idleRead = sync.NewCond(&h.mu)
	h.idle = time.AfterFunc(IdleClose, h.closeIfIdle)
	return h, nil
}

// NextCommits reads the next page of the log.
func (h *RepoHistory) NextCommits(ctx context.Context, n int) ([]repo.LogEntry, bool, error) {
	r, err := h.acquire(ctx)
	if err != nil {
		return nil, false, err
	}
	defer h.release()
	h.mu.Lock()
	w := h.walker // Restart may replace it meanwhile: this page reads the old log
	h.mu.Unlock()
	entries, err := w.Next(ctx, r, n)
	if err != nil {
		return nil, false, err
	}
	return entries, w.Done(), nil
}

// read runs fn on the open repository, opening it if need be.
func (h *RepoHistory) read(ctx context.Context, fn func(r *repo.Repo) error) error {
	r, err := h.acquire(ctx)
	if err != nil {
		return err
	}
	defer h.release()
	return fn(r)
}

// Show reads one commit and its changes.
func (h *RepoHistory) Show(ctx context.Context, id dag.ID) (res *repo.ShowResult, err error) {
	err = h.read(ctx, func(r *repo.Repo) error {
		res, err = r.Show(ctx, id.String())
		return err
	})
	return res, err
}

// StreamRows opens the change of one path from from to to and, for a
// table, its row diff as a stream (repo.Repo.StreamRows). The repository
// stays open until the stream is closed.
func (h *RepoHistory) StreamRows(ctx context.Context, from, to dag.ID, path string) (repo.TableDiff, RowStream, error) {
	r, err := h.acquire(ctx)
	if err != nil {
		return repo.TableDiff{}, nil, err
	}
	s, err := r.StreamRows(ctx, from, to, path)
	if err != nil {
		h.release()
		return repo.TableDiff{}, nil, err
	}
	if !s.Table || s.NotFetched {
		s.Close()
		h.release()
		return s.TableDiff, nil, nil
	}
	return s.TableDiff, &heldStream{TableStream: s, release: h.release}, nil
}

// heldStream is a stream that holds its repository open until closed.
type heldStream struct {
	*repo.TableStream
	release func()
}

func (s *heldStream) Close() {
	s.TableStream.Close()
	s.release()
}

// Close waits for the reads in progress (cancel their context to hurry
// them) and closes the repository; reads after it fail with ErrClosed.
func (h *RepoHistory) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	h.idle.Stop()
	for h.users > 0 {
		h.idleRead.Wait()
	}
	h.closeLocked()
	return h.closeErr
}

// acquire returns the open repository, opening it if need be, for one
// read; release ends the read.
func (h *RepoHistory) acquire(ctx context.Context) (*repo.Repo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	h.idle.Stop()
	if h.repo == nil {
		r, err := h.open(ctx)
		if err != nil {
			return nil, err
		}
		h.repo = r
	}
	h.users++
	return h.repo, nil
}

func (h *RepoHistory) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.users--
	if h.users == 0 {
		h.idleRead.Broadcast()
		if !h.closed {
			h.idle.Reset(IdleClose)
		}
	}
}

// closeIfIdle closes the repository if no read started since the timer
// was set.
func (h *RepoHistory) closeIfIdle() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.users == 0 {
		h.closeLocked()
	}
}

func (h *RepoHistory) closeLocked() {
	if h.repo == nil {
		return
	}
	if err := h.repo.Close(); err != nil && h.closeErr == nil {
		h.closeErr = err
	}
	h.repo = nil
}
