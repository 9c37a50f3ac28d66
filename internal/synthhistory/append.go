package synthhistory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// Store is what Append reads and writes: objects, HEAD and refs.
type Store interface {
	dag.Getter
	dag.Putter
	ResolveHead(ctx context.Context) (dag.ID, store.Head, error)
	Transaction(ctx context.Context, updates []store.RefUpdate, head *store.Head, message string) error
}

var _ Store = (*store.Store)(nil)

// Options say what Append writes.
type Options struct {
	Commits int       // how many commits to append, ≥ 1
	Author  string    // the author of every commit
	Start   time.Time // the time of the first commit; each next one is a second later
	Path    string    // the file each commit rewrites; default "steps.txt"
}

// ErrDetached is returned when HEAD names no branch to append to.
var ErrDetached = errors.New("synthhistory: HEAD is detached: check out a branch")

// Validate checks the options.
func (o Options) Validate() error {
	if o.Commits < 1 {
		return fmt.Errorf("synthhistory: %d commits: want at least 1", o.Commits)
	}
	if o.Author == "" {
		return errors.New("synthhistory: no author")
	}
	return nil
}

// Append writes o.Commits commits on top of the current branch (its first
// commit when the branch is unborn) and moves the branch to the last one,
// which it returns. It fails with an error wrapping store.ErrRefChanged
// when the branch moved meanwhile (nothing is then reachable from what it
// wrote).
func Append(ctx context.Context, st Store, o Options) (dag.ID, error) {
	if err := o.Validate(); err != nil {
		return dag.ZeroID, err
	}
	if o.Path == "" {
		o.Path = "steps.txt"
	}
	start, head, err := st.ResolveHead(ctx)
	if err != nil {
		return dag.ZeroID, err
	}
	if head.Detached() {
		return dag.ZeroID, ErrDetached
	}
	parent, err := parentOf(ctx, st, start)
	if err != nil {
		return dag.ZeroID, err
	}
	id := start
	for i := range o.Commits {
		if err := ctx.Err(); err != nil {
			return dag.ZeroID, err
		}
		step := parent.Generation + 1
		tree, err := rewrite(ctx, st, parent.Tree, o.Path, fmt.Sprintf("step %d\n", step))
		if err != nil {
			return dag.ZeroID, err
		}
		c := &dag.Commit{Tree: tree, Generation: step, Author: o.Author,
			Time: o.Start.Add(time.Duration(i) * time.Second), Message: fmt.Sprintf("Step %d", step)}
		if !id.IsZero() {
			c.Parents = []dag.ID{id}
		}
		enc, err := c.Encode()
		if err != nil {
			return dag.ZeroID, err
		}
		if id, err = st.Put(ctx, dag.KindCommit, enc); err != nil {
			return dag.ZeroID, err
		}
		parent = c
	}
	// Transaction flushes the packs before it moves the branch.
	err = st.Transaction(ctx, []store.RefUpdate{{Name: head.Ref, Old: start, New: id}}, nil,
		fmt.Sprintf("debug history: %d commits", o.Commits))
	if err != nil {
		return dag.ZeroID, fmt.Errorf("synthhistory: move %s: %w", head.Ref, err)
	}
	return id, nil
}

// parentOf is the commit id, or on an unborn branch a commit of
// generation 0 with the empty tree for the first commit to build on.
func parentOf(ctx context.Context, st Store, id dag.ID) (*dag.Commit, error) {
	if id.IsZero() {
		tree, err := dag.EmptyTree(ctx, st)
		return &dag.Commit{Tree: tree}, err
	}
	b, err := st.Get(ctx, dag.KindCommit, id)
	if err != nil {
		return nil, err
	}
	return dag.DecodeCommit(b)
}

// rewrite returns tree with the file at path holding content, one chunk.
func rewrite(ctx context.Context, st Store, tree dag.ID, path, content string) (dag.ID, error) {
	chunk, err := st.Put(ctx, dag.KindChunk, []byte(content))
	if err != nil {
		return dag.ZeroID, err
	}
	fb := dag.NewFileBuilder(ctx, st)
	if err := fb.Add(dag.ChunkRef{ID: chunk, Len: uint32(len(content))}); err != nil {
		return dag.ZeroID, err
	}
	fileID, _, err := fb.Finish()
	if err != nil {
		return dag.ZeroID, err
	}
	entry := &dag.TreeEntry{Mode: dag.ModeFile, ID: fileID, Size: uint64(len(content))}
	return dag.EditTree(ctx, st, st, tree, map[string]*dag.TreeEntry{path: entry})
}
