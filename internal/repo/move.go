package repo

import (
	"context"
	"fmt"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// branchMove moves HEAD's branch (or a detached HEAD) from one commit to
// another, and the worktree with it from the one's tree to the other's.
type branchMove struct {
	head     store.Head // names the branch that moves, or is detached
	from, to dag.ID     // the commits: the branch moves only if still at from
	// fromTree and toTree are the commits' trees (fromTree: zero for
	// none); the worktree matches fromTree.
	fromTree, toTree dag.ID
	why              string     // the reflog's reason
	pre              prewritten // files of toTree written ahead (nil: none)
}

// moveTo carries out a branch move: the new files are written first, the
// ref moves, then the files move into place (see apply).
func (r *Repo) moveTo(ctx context.Context, m branchMove, res *MergeResult) error {
	changes, err := diffChanges(ctx, r.Store, m.fromTree, m.toTree)
	if err != nil {
		return err
	}
	res.Changes = changes
	opts := updateOptions{IfHead: m.to, BeforeMove: func(ctx context.Context) error {
		if m.head.Detached() {
			return r.Store.Transaction(ctx, nil, &store.Head{ID: m.to}, m.why)
		}
		if err := r.Store.Transaction(ctx, []store.RefUpdate{{Name: m.head.Ref, Old: m.from, New: m.to}}, nil, m.why); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		return nil
	}}
	return r.updateWorktree(ctx, worktreeUpdate{from: m.fromTree, to: m.toTree, pre: m.pre, opts: opts}, res)
}

// worktreeUpdate takes a worktree from one tree to another.
type worktreeUpdate struct {
	from, to dag.ID     // the trees: the worktree matches from
	pre      prewritten // files of to written ahead (nil: none)
	extra    []planStep // written too (conflict reports)
	opts     updateOptions
}

// updateWorktree writes the difference between two trees into a worktree
// that matches the first, and the extra steps; files in pre are written
// already. Untracked and ignored files in the way make it refuse before
// any write.
func (r *Repo) updateWorktree(ctx context.Context, u worktreeUpdate, res *MergeResult) error {
	var plan []planStep
	err := dag.DiffTrees(ctx, r.Store, u.from, u.to, func(p string, a, b *dag.TreeEntry) error {
		st := planStep{path: p, entry: b, old: a, tracked: a != nil} // the worktree matches u.from
		if f, ok := u.pre[p]; ok && b != nil && b.ID == f.id {
			st.pre = f.tmp
		}
		plan = append(plan, st)
		return nil
	})
	if err != nil {
		return err
	}
	plan = append(plan, u.extra...)
	var result CheckoutResult
	if err := r.apply(ctx, plan, u.opts, &result); err != nil {
		return err
	}
	res.Written, res.Removed = result.Written, result.Removed
	return nil
}
