package repo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/worktree"
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
	// absent: nothing was at path when the update checked (obstacles).
	absent bool
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
	step   planStep
	tmp    string
	inode  uint64
	n      int64 // bytes written
	copied int64 // of which taken from the file it replaces
	// patch, if set: tmp is a patch, applied to the file in place.
	patch *journalPatch
	// direct: tmp is the file's place in a directory made whole
	// (newtrees.go), which moves with it; stat is its stat entry.
	direct bool
	stat   worktree.StatEntry
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
	for i, s := range plan {
		if err := checkPath(s.path); err != nil {
			return err
		}
		// Renames run in parallel: two steps on one path would race.
		if i > 0 && plan[i-1].path == s.path {
			return fmt.Errorf("update: two changes of %s in one plan", s.path)
		}
	}
	if err := checkObstacles(r.Root, plan, o.Force); err != nil {
		return err
	}
	made := &madeDirs{set: map[string]bool{}}
	trees, err := r.makeDirs(root, plan)
	if err != nil {
		return err
	}
	// The directories the temporaries go in, held open from their
	// writing to their renames.
	handles := newDirHandles(root).withTrash()
	defer handles.close()
	files, err := r.stage(ctx, root, handles, plan, made, trees)
	if err != nil {
		if trees != nil {
			trees.removeAll(root)
			err = errors.Join(err, r.dropJournal())
		}
		return err
	}
	j := &journal{Force: o.Force, IfHead: o.IfHead, IfMergeState: o.IfMergeState, DropMergeState: o.DropMergeState, Head: o.Head, Refs: o.Refs, Why: o.Why}
	for _, s := range plan {
		if s.entry == nil {
			j.Removes = append(j.Removes, s.path)
		}
	}
	if err := trees.renames(root, j); err != nil {
		trees.removeAll(root)
		return errors.Join(err, r.dropJournal())
	}
	for _, f := range files {
		switch {
		case f.direct:
		case f.patch != nil:
			j.Patches = append(j.Patches, *f.patch)
		default:
			j.Renames = append(j.Renames, journalRename{Tmp: f.tmp, Path: f.step.path, Inode: f.inode, New: f.step.absent})
		}
	}
	undo := func() {
		for _, f := range files {
			if !f.direct {
				root.Remove(f.tmp)
			}
		}
		trees.removeAll(root)
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
	cached, err := r.runJournal(ctx, root, handles, j, false)
	if err == nil {
		for _, f := range files {
			if f.direct {
				cached[f.step.path] = f.stat // (its directory's rename changed nothing of it)
			}
		}
	}
	for _, f := range files {
		if e, ok := cached[f.step.path]; ok {
			e.File = f.step.entry.ID
			cached[f.step.path] = e
			res.Written++
			res.Bytes += f.n
			res.Copied += f.copied
			if f.patch != nil {
				res.Patched++
			}
		}
	}
	res.Removed += len(j.Removes)
	settleRacy(r.Store, cached)
	// Record what was written, even after an error, so a retry is cheap.
	if serr := worktree.UpdateStatCache(ctx, r.Store, worktree.Stats(cached), j.Removes); err == nil {
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

// madeDirs remembers the directories prepareParents found in place; it is
// safe for concurrent use.
type madeDirs struct {
	mu  sync.Mutex
	set map[string]bool
}

func (m *madeDirs) has(d string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.set[d]
}

func (m *madeDirs) add(d string) {
	m.mu.Lock()
	m.set[d] = true
	m.mu.Unlock()
}

// checkPath rejects a path that could escape the worktree; tree decoding
// already guarantees this, so failing here means a bug or a hostile store.
func checkPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p {
		return fmt.Errorf("refusing unsafe path %q: %w", p, store.ErrCorrupt)
	}
	for _, c := range strings.Split(p, "/") {
		if err := dag.ValidName(c); err != nil {
			return fmt.Errorf("refusing unsafe path %q: %w", p, store.ErrCorrupt)
		}
	}
	return nil
}

// checkTmpPath rejects a journal's temporary name that is not one of
// dx's, in a safe directory.
func checkTmpPath(p string) error {
	dir, name := path.Split(p)
	if !strings.HasPrefix(name, tmpMarker) || strings.Contains(name, "/") {
		return fmt.Errorf("refusing temporary path %q: %w", p, store.ErrCorrupt)
	}
	if dir != "" {
		return checkPath(strings.TrimSuffix(dir, "/"))
	}
	return nil
}

// prepareParents creates the parent directories of p, refusing to go
// through a symlink and (with force) replacing files that stand in the
// way. made remembers directories already checked.
func prepareParents(root *os.Root, p string, force bool, made *madeDirs) error {
	parts := strings.Split(p, "/")
	cur := ""
	for _, c := range parts[:len(parts)-1] {
		if cur == "" {
			cur = c
		} else {
			cur += "/" + c
		}
		if made.has(cur) {
			continue
		}
		fi, err := root.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := root.Mkdir(cur, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("mkdir %s: %w", cur, err)
			}
			// Another writer may have raced us; re-check what is there.
			if fi, err = root.Lstat(cur); err != nil {
				return err
			}
			if !fi.IsDir() {
				return fmt.Errorf("refusing to write %s: %s is not a directory", p, cur)
			}
		case err != nil:
			return err
		case fi.IsDir():
		case force:
			if err := root.Remove(cur); err != nil {
				return fmt.Errorf("replace %s: %w", cur, err)
			}
			if err := root.Mkdir(cur, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("refusing to write %s through the symlink %s", p, cur)
		default:
			return fmt.Errorf("refusing to write %s: %s is a file", p, cur)
		}
		made.add(cur)
	}
	return nil
}
