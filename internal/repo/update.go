package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// planStep is one path of a worktree update.
type planStep struct {
	path  string
	entry *dag.TreeEntry // nil: remove
	// old, if set, is what the worktree file holds now (it matched the
	// tree the plan starts from): chunks the new content shares with it
	// are copied from the file instead of decompressed from the store.
	old *dag.TreeEntry
	// tracked: the tree the worktree is updated from has this path, so
	// a file there is the user's only if it differs (which the caller
	// has checked); an untracked file there is in the way.
	tracked bool
	// pre, if set, names a temporary file in the worktree that holds the
	// new entry already: it is renamed into place.
	pre string
}

// updateOptions say how apply carries out a plan.
type updateOptions struct {
	// Force replaces untracked files and directories that stand in the
	// way; without it they make the update refuse before any write.
	Force bool
	// BeforeMove, if set, runs once every new file is written and the
	// journal is durable, before the first file moves; if it fails, the
	// update is undone. A merge moves its branch there to the merge
	// commit (IfHead: the update then goes ahead only if HEAD resolves to
	// it), or saves its stopped state (IfMergeState: only if the state is
	// there); a crash before it leaves nothing changed.
	BeforeMove   func(ctx context.Context) error
	IfHead       dag.ID
	IfMergeState bool
	// DropMergeState: the merge state goes once the files are in place
	// (--abort).
	DropMergeState bool
	// Head and Refs move once the files are in place (a checkout).
	Head *store.Head
	Refs []store.RefUpdate
	Why  string
}

// staged is a new file written under a temporary name.
type staged struct {
	step  planStep
	tmp   string
	inode uint64
	n     int64 // bytes written
}

// apply carries out a worktree update in three steps, so that a refusal
// or an error leaves the worktree as it was, and a crash leaves it
// before or after, never in between:
//  1. every refusal is decided (files in the way, files that cannot be
//     replaced) before the first write;
//  2. every new file is written under a temporary name beside its path,
//     and the journal listing the moves is made durable;
//  3. files are removed and the temporaries renamed into place; then
//     the journal is removed. A killed command's journal is finished
//     by the next (finishUpdate).
//
// Every write goes through an os.Root of the worktree and checks that no
// parent is a symlink, so nothing is written outside the worktree or
// through a link, whatever the tree says.
func (r *Repo) apply(ctx context.Context, plan []planStep, o updateOptions, res *CheckoutResult) error {
	root, err := os.OpenRoot(r.Root)
	if err != nil {
		return err
	}
	defer root.Close()
	kept := plan[:0]
	for _, s := range plan {
		// A sparse worktree holds its sparse paths only.
		if r.inSparse(s.path) {
			kept = append(kept, s)
		}
	}
	plan = kept
	sort.Slice(plan, func(i, j int) bool { return plan[i].path < plan[j].path })
	for _, s := range plan {
		if err := checkPath(s.path); err != nil {
			return err
		}
	}
	if err := checkObstacles(r.Root, plan, o.Force); err != nil {
		return err
	}
	files, err := r.stage(ctx, root, plan)
	if err != nil {
		return err
	}
	j := &journal{Force: o.Force, IfHead: o.IfHead, IfMergeState: o.IfMergeState, DropMergeState: o.DropMergeState, Head: o.Head, Refs: o.Refs, Why: o.Why}
	for _, s := range plan {
		if s.entry == nil {
			j.Removes = append(j.Removes, s.path)
		}
	}
	for _, f := range files {
		j.Renames = append(j.Renames, journalRename{Tmp: f.tmp, Path: f.step.path, Inode: f.inode})
	}
	undo := func() {
		for _, f := range files {
			root.Remove(f.tmp)
		}
	}
	if err := r.saveJournal(j); err != nil {
		// It may be in place all the same (a failed sync of its
		// directory): no journal may outlive its temporaries.
		undo()
		return errors.Join(err, r.dropJournal())
	}
	var beforeErr error
	if o.BeforeMove != nil {
		if beforeErr = o.BeforeMove(ctx); beforeErr != nil {
			// It may have done its work all the same (a ref moved, a
			// state written, and then a sync failed): the update goes
			// ahead exactly when the next command would finish it.
			if ahead, err := r.goesAhead(ctx, j); err != nil || !ahead {
				undo()
				return errors.Join(beforeErr, err, r.dropJournal())
			}
		}
	}
	cached, err := r.runJournal(ctx, root, j, false)
	for _, f := range files {
		if e, ok := cached[f.step.path]; ok {
			e.File = f.step.entry.ID
			cached[f.step.path] = e
			res.Written++
			res.Bytes += f.n
		}
	}
	res.Removed += len(j.Removes)
	settleRacy(cached)
	// Record what was written, even after an error, so a retry is cheap.
	if serr := r.Store.UpdateStatCache(ctx, cached, j.Removes); err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("%w: %v (run the command again to finish it)", ErrIncompleteUpdate, err)
	}
	if err := r.afterMove(ctx, j, false); err != nil {
		return err
	}
	return errors.Join(beforeErr, r.dropJournal())
}
