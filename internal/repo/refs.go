package repo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// RefInfo is one branch or tag.
type RefInfo struct {
	Name    string `json:"name"`
	ID      dag.ID `json:"id"`
	Current bool   `json:"current,omitempty"`
	Subject string `json:"subject"`
}

func validShortName(kind, name string) error {
	if name == "" {
		return fmt.Errorf("empty %s name: %w", kind, ErrBadName)
	}
	for _, c := range strings.Split(name, "/") {
		if err := store.ValidRefComponent(c); err != nil {
			return fmt.Errorf("%s name %q: %v: %w", kind, name, err, ErrBadName)
		}
	}
	return nil
}

// Branches lists branches.
func (r *Repo) Branches(ctx context.Context) ([]RefInfo, error) {
	return r.listRefs(ctx, "refs/heads/")
}

// RemoteBranches lists remote-tracking branches as REMOTE/BRANCH.
func (r *Repo) RemoteBranches(ctx context.Context) ([]RefInfo, error) {
	return r.listRefs(ctx, "refs/remotes/")
}

// Tags lists tags.
func (r *Repo) Tags(ctx context.Context) ([]RefInfo, error) {
	return r.listRefs(ctx, "refs/tags/")
}

func (r *Repo) listRefs(ctx context.Context, prefix string) ([]RefInfo, error) {
	refs, names, err := r.Store.Refs(ctx, prefix)
	if err != nil {
		return nil, err
	}
	h, err := r.Store.Head(ctx)
	if err != nil {
		return nil, err
	}
	var out []RefInfo
	for _, n := range names {
		ri := RefInfo{Name: strings.TrimPrefix(n, prefix), ID: refs[n], Current: !h.Detached() && h.Ref == n}
		if c, err := dag.LoadCommit(ctx, r.Store, refs[n]); err == nil {
			ri.Subject = dag.Subject(c.Message)
		}
		out = append(out, ri)
	}
	return out, nil
}

// CreateBranch creates a branch at rev (HEAD when empty).
func (r *Repo) CreateBranch(ctx context.Context, name, rev string) (dag.ID, error) {
	return r.createRef(ctx, "branch", "refs/heads/", name, rev)
}

// CreateTag creates a tag at rev (HEAD when empty).
func (r *Repo) CreateTag(ctx context.Context, name, rev string) (dag.ID, error) {
	return r.createRef(ctx, "tag", "refs/tags/", name, rev)
}

func (r *Repo) createRef(ctx context.Context, kind, prefix, name, rev string) (dag.ID, error) {
	if err := validShortName(kind, name); err != nil {
		return dag.ZeroID, err
	}
	if rev == "" {
		rev = "HEAD"
	}
	res, err := r.Resolve(ctx, rev)
	if err != nil {
		return dag.ZeroID, err
	}
	err = r.Store.Transaction(ctx, []store.RefUpdate{{Name: prefix + name, New: res.ID}}, nil, kind+": created from "+rev)
	if errors.Is(err, store.ErrRefChanged) {
		return dag.ZeroID, fmt.Errorf("%s %s: %w", kind, name, ErrExists)
	}
	return res.ID, err
}

// AdvanceBranch moves the branch name forward to the commit to, creating
// it if missing, and returns where it was. A branch holding commits that to
// does not contain is left alone (store.ErrRefChanged). The checked-out
// branch moves with its files, as a fast-forward merge, when the worktree
// is clean, and is left alone (ErrLocalChanges) when it is not.
func (r *Repo) AdvanceBranch(ctx context.Context, name string, to dag.ID) (dag.ID, error) {
	if err := validShortName("branch", name); err != nil {
		return dag.ZeroID, err
	}
	ref := "refs/heads/" + name
	cur, err := r.Store.Ref(ctx, ref)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return dag.ZeroID, err
	}
	if cur == to {
		return cur, nil
	}
	if !cur.IsZero() {
		ok, err := r.IsAncestor(ctx, cur, to)
		if err != nil {
			return cur, err
		}
		if !ok {
			return cur, fmt.Errorf("branch %s (%s) has commits %s lacks: %w", name, cur.Short(), to.Short(), store.ErrRefChanged)
		}
	}
	h, err := r.Store.Head(ctx)
	if err != nil {
		return dag.ZeroID, err
	}
	if !h.Detached() && h.Ref == ref {
		return cur, r.fastForwardCheckedOut(ctx, h, cur, to)
	}
	return cur, r.Store.Transaction(ctx, []store.RefUpdate{{Name: ref, Old: cur, New: to}}, nil, "subscribe: fast-forward")
}

// fastForwardCheckedOut moves the checked-out branch from cur to to, a
// descendant, and the worktree's files with it, as a fast-forward merge
// does. A worktree with changes, or a merge in progress, is refused
// before anything moves.
func (r *Repo) fastForwardCheckedOut(ctx context.Context, h store.Head, cur, to dag.ID) error {
	name := strings.TrimPrefix(h.Ref, "refs/heads/")
	if st, err := r.LoadMergeState(); err != nil {
		return err
	} else if st != nil {
		return fmt.Errorf("branch %s is checked out: %w", name, ErrMergeInProgress)
	}
	if err := r.requireClean(ctx, "branch "+name+" is checked out and its files would move, but"); err != nil {
		return err
	}
	var fromTree dag.ID
	if !cur.IsZero() {
		c, err := dag.LoadCommit(ctx, r.Store, cur)
		if err != nil {
			return err
		}
		fromTree = c.Tree
	}
	next, err := dag.LoadCommit(ctx, r.Store, to)
	if err != nil {
		return err
	}
	move := branchMove{head: h, from: cur, to: to, fromTree: fromTree, toTree: next.Tree, why: "subscribe: fast-forward"}
	return r.moveTo(ctx, move, &MergeResult{})
}

// DeleteBranch deletes a branch. Unless force, it refuses to delete the
// current branch or one whose commits are not reachable from HEAD.
func (r *Repo) DeleteBranch(ctx context.Context, name string, force bool) (dag.ID, error) {
	ref := "refs/heads/" + name
	id, err := r.Store.Ref(ctx, ref)
	if err != nil {
		return dag.ZeroID, fmt.Errorf("branch %s: %w", name, err)
	}
	headID, h, err := r.Store.ResolveHead(ctx)
	if err != nil {
		return dag.ZeroID, err
	}
	if !h.Detached() && h.Ref == ref {
		return dag.ZeroID, fmt.Errorf("cannot delete the current branch %s (check out another first)", name)
	}
	if !force {
		merged := false
		if !headID.IsZero() {
			if merged, err = r.IsAncestor(ctx, id, headID); err != nil {
				return dag.ZeroID, err
			}
		}
		if !merged {
			return dag.ZeroID, fmt.Errorf("branch %s is not merged into HEAD; its commits would become unreachable (use -D to delete it anyway)", name)
		}
	}
	return id, r.Store.Transaction(ctx, []store.RefUpdate{{Name: ref, Old: id}}, nil, "branch: deleted")
}

// RenameBranch renames a branch (and HEAD with it, if current).
func (r *Repo) RenameBranch(ctx context.Context, old, new string) error {
	if err := validShortName("branch", new); err != nil {
		return err
	}
	oref, nref := "refs/heads/"+old, "refs/heads/"+new
	id, err := r.Store.Ref(ctx, oref)
	if err != nil {
		return fmt.Errorf("branch %s: %w", old, err)
	}
	h, err := r.Store.Head(ctx)
	if err != nil {
		return err
	}
	var nh *store.Head
	if !h.Detached() && h.Ref == oref {
		nh = &store.Head{Ref: nref}
	}
	err = r.Store.Transaction(ctx, []store.RefUpdate{{Name: oref, Old: id}, {Name: nref, New: id}}, nh, "branch: renamed "+old+" to "+new)
	if errors.Is(err, store.ErrRefChanged) {
		return fmt.Errorf("branch %s: %w", new, ErrExists)
	}
	return err
}

// DeleteTag deletes a tag.
func (r *Repo) DeleteTag(ctx context.Context, name string) (dag.ID, error) {
	ref := "refs/tags/" + name
	id, err := r.Store.Ref(ctx, ref)
	if err != nil {
		return dag.ZeroID, fmt.Errorf("tag %s: %w", name, err)
	}
	return id, r.Store.Transaction(ctx, []store.RefUpdate{{Name: ref, Old: id}}, nil, "tag: deleted")
}

// IsAncestor reports whether a is b or an ancestor of b.
func (r *Repo) IsAncestor(ctx context.Context, a, b dag.ID) (bool, error) {
	return dag.IsAncestor(ctx, r.Store, a, b)
}

// Descends is IsAncestor, and whether, a not found, the history between
// them is cut (a shallow history): then nobody can tell.
func (r *Repo) Descends(ctx context.Context, a, b dag.ID) (ok, cut bool, err error) {
	return dag.Descends(ctx, r.Store, a, b)
}

// Fsck checks the store, and that the stat cache names no missing File.
func (r *Repo) Fsck(ctx context.Context, full bool) (*store.FsckReport, error) {
	bar := func(label string, total int64) (func(int64), func()) {
		b := r.opts.Progress.Start(label, total, true)
		return b.Add, b.Done
	}
	return r.Store.Fsck(ctx, store.FsckOptions{Full: full, Referrers: r.referrers(), Progress: bar})
}

// RepairIndex rebuilds the store's object index from its packs.
func (r *Repo) RepairIndex(ctx context.Context) (*store.RepairReport, error) {
	return r.Store.RepairIndex(ctx)
}
