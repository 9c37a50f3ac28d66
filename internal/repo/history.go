package repo

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/store"
)

// LogEntry is one commit in a log.
type LogEntry struct {
	ID      dag.ID            `json:"id"`
	Parents []dag.ID          `json:"parents"`
	Author  string            `json:"author"`
	Time    time.Time         `json:"time"`
	Message string            `json:"message"`
	Meta    map[string]string `json:"meta,omitempty"`
	Refs    []string          `json:"refs,omitempty"`
	Tree    dag.ID            `json:"tree"`
	// Shallow: the history is cut below this commit (its parents were
	// collected on the remote it came from).
	Shallow bool `json:"shallow,omitempty"`
}

// Unverified reports whether the commit was made with --no-verify: its
// tables were stored without being checked.
func (e LogEntry) Unverified() bool { return e.Meta[unverifiedMeta] != "" }

// AllRevs names every ref (full names) but models and their stages, and
// HEAD if it points at a commit: the starting points of log --all.
func (r *Repo) AllRevs(ctx context.Context) ([]string, error) {
	_, all, err := r.Store.Refs(ctx, "refs/")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range all {
		if remote.RefKind(n) == dag.KindCommit { // not model versions or stage moves
			names = append(names, n)
		}
	}
	if id, _, err := r.Store.ResolveHead(ctx); err == nil && !id.IsZero() {
		names = append(names, "HEAD")
	}
	return names, nil
}

// Log lists commits reachable from the revisions (HEAD when none), newest
// first (by generation, then time), each once. limit ≤ 0 means all.
func (r *Repo) Log(ctx context.Context, revs []string, limit int) ([]LogEntry, error) {
	w, err := r.WalkLog(ctx, revs)
	if err != nil {
		return nil, err
	}
	return w.Next(ctx, r, limit)
}

// LogWalker hands out the commits of a log a page at a time, in the order
// Log lists them, so that a reader showing the newest commits first need
// not walk the whole history. It holds no store: each page reads through
// the repository it is given, so a long-lived reader may close the
// repository between pages and reopen it. It is not safe for concurrent
// use.
type LogWalker struct {
	decor map[dag.ID][]string
	queue *commitQueue
	seen  map[dag.ID]bool
}

// WalkLog starts a log of the revisions (HEAD when none); Next pages it.
func (r *Repo) WalkLog(ctx context.Context, revs []string) (*LogWalker, error) {
	if len(revs) == 0 {
		revs = []string{"HEAD"}
	}
	decor, err := r.decorations(ctx)
	if err != nil {
		return nil, err
	}
	w := &LogWalker{decor: decor, queue: &commitQueue{}, seen: map[dag.ID]bool{}}
	for _, rev := range revs {
		res, err := r.Resolve(ctx, rev)
		if err != nil {
			return nil, err
		}
		if !w.seen[res.ID] {
			w.seen[res.ID] = true
			heap.Push(w.queue, queued{res.ID, res.Commit})
		}
	}
	return w, nil
}

// Next returns up to limit more commits (limit ≤ 0: all that are left),
// read through r, an open of the repository WalkLog was given; fewer than
// limit, or none, once the history is exhausted.
func (w *LogWalker) Next(ctx context.Context, r *Repo, limit int) ([]LogEntry, error) {
	var out []LogEntry
	for w.queue.Len() > 0 && (limit <= 0 || len(out) < limit) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		it := heap.Pop(w.queue).(queued)
		c := it.c
		out = append(out, LogEntry{ID: it.id, Parents: append([]dag.ID{}, c.Parents...), Author: c.Author, Time: c.Time, Message: c.Message, Meta: c.Meta, Refs: w.decor[it.id], Tree: c.Tree})
		for _, p := range c.Parents {
			if w.seen[p] {
				continue
			}
			w.seen[p] = true
			pc, err := dag.LoadCommit(ctx, r.Store, p)
			if errors.Is(err, dag.ErrShallow) {
				out[len(out)-1].Shallow = true
				continue
			}
			if err != nil {
				return nil, err
			}
			heap.Push(w.queue, queued{p, pc})
		}
	}
	return out, nil
}

// Done reports whether every commit of the log has been handed out.
func (w *LogWalker) Done() bool { return w.queue.Len() == 0 }

type queued struct {
	id dag.ID
	c  *dag.Commit
}

// commitQueue pops the highest generation first (children before parents),
// newest first among equals.
type commitQueue []queued

func (q commitQueue) Len() int { return len(q) }
func (q commitQueue) Less(i, j int) bool {
	if q[i].c.Generation != q[j].c.Generation {
		return q[i].c.Generation > q[j].c.Generation
	}
	if !q[i].c.Time.Equal(q[j].c.Time) {
		return q[i].c.Time.After(q[j].c.Time)
	}
	return q[i].id.Compare(q[j].id) < 0
}
func (q commitQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *commitQueue) Push(x any)   { *q = append(*q, x.(queued)) }
func (q *commitQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// decorations maps commits to the short names of refs pointing at them.
func (r *Repo) decorations(ctx context.Context) (map[dag.ID][]string, error) {
	refs, names, err := r.Store.Refs(ctx, "refs/")
	if err != nil {
		return nil, err
	}
	out := map[dag.ID][]string{}
	headID, h, err := r.Store.ResolveHead(ctx)
	if err != nil {
		return nil, err
	}
	if !headID.IsZero() {
		if h.Detached() {
			out[headID] = append(out[headID], "HEAD")
		} else {
			out[headID] = append(out[headID], "HEAD -> "+ShortRef(h.Ref))
		}
	}
	for _, n := range names {
		if !h.Detached() && n == h.Ref {
			continue
		}
		if remote.RefKind(n) != dag.KindCommit {
			continue
		}
		out[refs[n]] = append(out[refs[n]], ShortRef(n))
	}
	return out, nil
}

// ShortRef strips refs/heads/ and turns refs/tags/x into "tag: x".
func ShortRef(n string) string {
	switch {
	case strings.HasPrefix(n, "refs/heads/"):
		return strings.TrimPrefix(n, "refs/heads/")
	case strings.HasPrefix(n, "refs/tags/"):
		return "tag: " + strings.TrimPrefix(n, "refs/tags/")
	case strings.HasPrefix(n, "refs/remotes/"):
		return strings.TrimPrefix(n, "refs/remotes/")
	}
	return n
}

// ShowResult is a commit and its changes against its first parent.
type ShowResult struct {
	LogEntry
	Changes []Change `json:"changes"`
}

// Show returns a commit and what it changed.
func (r *Repo) Show(ctx context.Context, rev string) (*ShowResult, error) {
	res, err := r.Resolve(ctx, rev)
	if err != nil {
		return nil, err
	}
	decor, err := r.decorations(ctx)
	if err != nil {
		return nil, err
	}
	c := res.Commit
	var parentTree dag.ID
	shallow := false
	if len(c.Parents) > 0 {
		pc, err := dag.LoadCommit(ctx, r.Store, c.Parents[0])
		switch {
		case errors.Is(err, dag.ErrShallow):
			shallow = true // shown as a root: all it holds is new
		case err != nil:
			return nil, err
		default:
			parentTree = pc.Tree
		}
	}
	ch, err := diffChanges(ctx, r.Store, parentTree, c.Tree)
	if err != nil {
		return nil, err
	}
	return &ShowResult{
		LogEntry: LogEntry{ID: res.ID, Parents: c.Parents, Author: c.Author, Time: c.Time, Message: c.Message, Meta: c.Meta, Refs: decor[res.ID], Tree: c.Tree, Shallow: shallow},
		Changes:  ch,
	}, nil
}

// Diff compares two revisions. With one revision, the worktree is the new
// side; with none, HEAD against the worktree.
func (r *Repo) Diff(ctx context.Context, revs []string) ([]Change, error) {
	s, err := r.diffSides(ctx, revs)
	if err != nil {
		return nil, err
	}
	return diffChanges(ctx, s.getter, s.old, s.new)
}

// Cat streams the file at REV:PATH to w.
func (r *Repo) Cat(ctx context.Context, spec string, w io.Writer) error {
	if !strings.Contains(spec, ":") {
		return fmt.Errorf("cat: %q: expected REV:PATH", spec)
	}
	_, p, e, err := r.ResolveTreePath(ctx, spec)
	if err != nil {
		return err
	}
	if e.Mode == dag.ModeDir {
		return fmt.Errorf("cat: %s is a directory", p)
	}
	n, err := r.Store.CopyFile(ctx, e.ID, w, store.CopyOptions{})
	if err != nil {
		return fmt.Errorf("cat %s: %w", p, err)
	}
	if n != int64(e.Size) {
		return fmt.Errorf("cat %s: %d bytes, tree says %d: %w", p, n, e.Size, store.ErrCorrupt)
	}
	return nil
}

// WriteFile writes the content of a file entry to w.
func (r *Repo) WriteFile(ctx context.Context, e *dag.TreeEntry, w io.Writer) error {
	n, err := r.Store.CopyFile(ctx, e.ID, w, store.CopyOptions{})
	if err != nil {
		return err
	}
	if n != int64(e.Size) {
		return fmt.Errorf("%d bytes, tree says %d: %w", n, e.Size, store.ErrCorrupt)
	}
	return nil
}
