package repo

import (
	"context"
	"errors"
	"fmt"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store"
)

// mergeInto merges o.Rev into the branch o.Into, which is not checked
// out, as lakeFS merges branches: in the store alone. It reads nothing
// from the worktree and writes nothing to it, nor to the index or the
// merge state; the branch moves by compare-and-swap, so a commit to it
// meanwhile makes the merge fail rather than be lost. On conflicts
// nothing is stored and the result lists them, with ErrMergeConflicts:
// they are resolved by checking the branch out and merging there.
func (r *Repo) mergeInto(ctx context.Context, o MergeOptions) (*MergeResult, error) {
	ref := "refs/heads/" + o.Into
	if err := store.ValidRefName(ref); err != nil {
		return nil, fmt.Errorf("merge --into %s: %w", o.Into, err)
	}
	oursID, err := r.Store.Ref(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("merge --into %s: no such branch: %w", o.Into, ErrUnknownRevision)
	}
	if err != nil {
		return nil, err
	}
	if h, err := r.Store.Head(ctx); err != nil {
		return nil, err
	} else if !h.Detached() && h.Ref == ref {
		return nil, fmt.Errorf("merge --into %s: %s is checked out here; run dx merge %s", o.Into, o.Into, o.Rev)
	}
	theirs, err := r.Resolve(ctx, o.Rev)
	if err != nil {
		return nil, err
	}
	ours, err := dag.LoadCommit(ctx, r.Store, oursID)
	if err != nil {
		return nil, err
	}
	base, err := merge.Base(ctx, r.Store, oursID, theirs.ID)
	if err != nil {
		return nil, err
	}
	res := &MergeResult{Theirs: theirs.ID, Base: base, Commit: oursID}
	why, to := "merge "+o.Rev, theirs.Commit.Tree
	switch {
	case base == theirs.ID:
		res.UpToDate = true
		return res, nil
	case base == oursID:
		res.FastForward, res.Commit = true, theirs.ID
		why += ": fast-forward"
	default:
		attrs, err := r.treeAttributes(ctx, ours.Tree)
		if err != nil {
			attrs = r.noTables(err)
		}
		tree, treeMerge, err := r.threeWay(ctx, threeWayMerge{attrs: attrs, base: base, ours: ours.Tree, theirs: theirs.Commit.Tree}, res)
		if err != nil {
			return nil, err
		}
		if len(treeMerge.Conflicts) > 0 {
			// The merged objects are left unreferenced, for gc.
			return res, fmt.Errorf("merge --into %s: %w in %d paths; nothing was written (to resolve them, check out %s and run dx merge %s)", o.Into, ErrMergeConflicts, len(treeMerge.Conflicts), o.Into, o.Rev)
		}
		if err := r.Store.Flush(ctx); err != nil {
			return nil, err
		}
		msg := o.Message
		if msg == "" {
			msg = fmt.Sprintf("Merge %s into %s", o.Rev, o.Into)
		}
		if err := r.verifyMerge(ctx, ours.Tree, tree); err != nil {
			return nil, err
		}
		if res.Commit, err = r.putMergeCommit(ctx, tree, Resolved{ID: oursID, Commit: ours}, theirs, msg); err != nil {
			return nil, err
		}
		to = tree
	}
	changes, err := diffChanges(ctx, r.Store, ours.Tree, to)
	if err != nil {
		return nil, err
	}
	res.Changes = changes
	if err := r.Store.Transaction(ctx, []store.RefUpdate{{Name: ref, Old: oursID, New: res.Commit}}, nil, why); err != nil {
		return nil, fmt.Errorf("merge --into %s: %w", o.Into, err)
	}
	return res, nil
}
