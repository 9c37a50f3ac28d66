package tui

import (
	"context"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// History is what the UI reads: the log a page at a time, newest first,
// and one commit with the files it changed. Calls come from one command at
// a time for NextCommits, but Show may run beside it.
type History interface {
	// NextCommits returns up to n more commits of the log, and whether the
	// log is exhausted after them.
	NextCommits(ctx context.Context, n int) (entries []repo.LogEntry, done bool, err error)
	// Show returns a commit and its changes against its first parent.
	Show(ctx context.Context, id dag.ID) (*repo.ShowResult, error)
}

// repoHistory serves History from an open repository.
type repoHistory struct {
	repo   *repo.Repo
	walker *repo.LogWalker
}

var _ History = (*repoHistory)(nil)

// RepoHistory is the history of revs (HEAD when none) in r, read with the
// calls dx log and dx show use.
func RepoHistory(ctx context.Context, r *repo.Repo, revs []string) (History, error) {
	w, err := r.WalkLog(ctx, revs)
	if err != nil {
		return nil, err
	}
	return &repoHistory{repo: r, walker: w}, nil
}

func (h *repoHistory) NextCommits(ctx context.Context, n int) ([]repo.LogEntry, bool, error) {
	entries, err := h.walker.Next(ctx, n)
	if err != nil {
		return nil, false, err
	}
	return entries, h.walker.Done(), nil
}

func (h *repoHistory) Show(ctx context.Context, id dag.ID) (*repo.ShowResult, error) {
	return h.repo.Show(ctx, id.String())
}
