package repo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// ErrMergeInProgress: a merge stopped on conflicts and is not finished.
var ErrMergeInProgress = errors.New("a merge is in progress (finish it with dx merge --continue, or dx merge --abort)")

// ErrNoMerge: --continue or --abort without a merge in progress.
var ErrNoMerge = errors.New("no merge in progress")

// ErrUnresolved: --continue while conflicts are not marked resolved.
var ErrUnresolved = errors.New("unresolved conflicts")

// UnresolvedError lists the conflicts --continue found unresolved. It
// wraps ErrUnresolved.
type UnresolvedError struct{ Paths []string }

func (e *UnresolvedError) Error() string {
	return fmt.Sprintf("%s in %s: take a side with dx checkout --ours|--theirs PATH, or edit the file and run dx merge --resolved PATH; nothing was committed", ErrUnresolved, listPaths(e.Paths))
}

func (e *UnresolvedError) Unwrap() error { return ErrUnresolved }

// mergeStateFile, in the store directory, records a merge stopped on
// conflicts.
const mergeStateFile = "MERGE_STATE"

// MergeState is a merge stopped on conflicts.
type MergeState struct {
	Rev     string `json:"rev"`
	Ours    dag.ID `json:"ours"`
	Theirs  dag.ID `json:"theirs"`
	Base    dag.ID `json:"base"`
	Message string `json:"message"`
	// Tree is the merge's result, with ours' side of each conflict: the
	// paths it holds stay versioned even where .dxignore matches them.
	Tree      dag.ID   `json:"tree,omitzero"`
	Conflicts []string `json:"conflicts"`
	// Resolved lists the conflicts marked resolved (dx checkout --ours or
	// --theirs, dx merge --resolved); --continue waits for all of them.
	Resolved []string `json:"resolved,omitempty"`
	// Created lists files the merge wrote that HEAD does not have, and
	// Reports the conflict reports: --abort removes them. Reports are
	// never versioned, and are removed once the merge is committed.
	Created []string `json:"created,omitempty"`
	Reports []string `json:"reports,omitempty"`
}

// Unresolved lists the conflicts not marked resolved.
func (st *MergeState) Unresolved() []string {
	var out []string
	for _, c := range st.Conflicts {
		if !slices.Contains(st.Resolved, c) {
			out = append(out, c)
		}
	}
	return out
}

func (r *Repo) statePath() string { return filepath.Join(r.Root, DirName, mergeStateFile) }

// LoadMergeState returns the merge in progress, or nil.
func (r *Repo) LoadMergeState() (*MergeState, error) {
	var st MergeState
	if found, err := LoadStateFile(r.statePath(), &st); !found || err != nil {
		return nil, err
	}
	return &st, nil
}

func (r *Repo) saveMergeState(st *MergeState) error { return SaveStateFile(r.statePath(), st) }

// MarkResolved marks the conflicts at or below the given paths resolved
// (the worktree holds what the user wants there) and returns them. A
// path that names no conflict is an error.
func (r *Repo) MarkResolved(paths []string) ([]string, error) {
	st, err := r.LoadMergeState()
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, ErrNoMerge
	}
	marked, err := st.conflictsUnder(paths)
	if err != nil {
		return nil, err
	}
	st.Resolved = append(st.Resolved, marked...)
	sort.Strings(st.Resolved)
	st.Resolved = dedupe(st.Resolved)
	if err := r.saveMergeState(st); err != nil {
		return nil, err
	}
	return marked, nil
}

// conflictsUnder lists the conflicts at or below the given paths ("" is
// the whole worktree). A path that names no conflict is an error.
func (st *MergeState) conflictsUnder(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		n := 0
		for _, c := range st.Conflicts {
			if p == "" || c == p || strings.HasPrefix(c, p+"/") {
				out = append(out, c)
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: not a conflict of the merge in progress: %w", displayPath(p), ErrPathspec)
		}
	}
	return sortedUnique(out), nil
}

// ResolveWithSide takes one side's version (ours: HEAD's; else theirs')
// of the conflicts at or below the given paths into the worktree, and
// marks them resolved. A path that names no conflict is an error.
func (r *Repo) ResolveWithSide(ctx context.Context, theirs bool, paths []string) (*CheckoutResult, error) {
	st, err := r.LoadMergeState()
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, ErrNoMerge
	}
	side := st.Ours
	if theirs {
		side = st.Theirs
	}
	// Only the conflicts: what merged cleanly under a directory named
	// stays as the merge left it (or as the user edited it).
	conflicts, err := st.conflictsUnder(paths)
	if err != nil {
		return nil, err
	}
	res, err := r.Checkout(ctx, side.String(), CheckoutOptions{Force: true, Paths: conflicts})
	if err != nil {
		return nil, err
	}
	if _, err := r.MarkResolved(conflicts); err != nil {
		return nil, err
	}
	return res, nil
}

// MergeContinue commits a merge that stopped on conflicts, once every
// conflict is marked resolved: the whole worktree (without the conflict
// reports, which are then removed) becomes the merge commit.
func (r *Repo) MergeContinue(ctx context.Context) (*CommitResult, error) {
	st, err := r.LoadMergeState()
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, ErrNoMerge
	}
	headID, _, _, err := r.headCommit(ctx)
	if err != nil {
		return nil, err
	}
	var res *CommitResult
	if r.mergeCommitted(ctx, st, headID) {
		// Committed already, by a --continue killed before it removed the
		// state: only the cleanup is left.
		res = &CommitResult{ID: headID}
	} else {
		if headID != st.Ours {
			return nil, fmt.Errorf("merge --continue: HEAD moved since the merge started (was %s, now %s); use --abort", st.Ours.Short(), headID.Short())
		}
		if un := st.Unresolved(); len(un) > 0 {
			return nil, &UnresolvedError{Paths: un}
		}
		if res, err = r.commit(ctx, CommitOptions{Message: st.Message, ExtraParents: []dag.ID{st.Theirs}, AllowEmpty: true}); err != nil {
			return nil, err
		}
	}
	// Committed: the reports and the state go.
	if err := r.removeReports(st); err != nil {
		return nil, err
	}
	if err := os.Remove(r.statePath()); err != nil {
		return nil, err
	}
	return res, nil
}

// mergeCommitted reports whether HEAD is the commit of the stopped merge
// st (a --continue was killed before it removed the state).
func (r *Repo) mergeCommitted(ctx context.Context, st *MergeState, headID dag.ID) bool {
	c, err := dag.LoadCommit(ctx, r.Store, headID)
	return err == nil && slices.Equal(c.Parents, []dag.ID{st.Ours, st.Theirs})
}

// finishContinue removes what a --continue killed after its commit left:
// the reports and the state. Every command that writes calls it when it
// opens the repository.
func (r *Repo) finishContinue(ctx context.Context) error {
	st, err := r.LoadMergeState()
	if err != nil || st == nil {
		return err
	}
	headID, _, err := r.Store.ResolveHead(ctx)
	if err != nil || !r.mergeCommitted(ctx, st, headID) {
		return err
	}
	if err := r.removeReports(st); err != nil {
		return err
	}
	return dropStateFile(r.statePath())
}

// removeReports removes a merge's conflict reports (scans leave them out).
func (r *Repo) removeReports(st *MergeState) error {
	root, err := os.OpenRoot(r.Root)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, p := range st.Reports {
		if err := root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// MergeAbort puts the files the merge wrote back as HEAD has them (files
// it created and its reports removed) and forgets the merge. Edits made
// meanwhile to files the merge did not write are kept: the merge started
// from a clean worktree, so they are the user's.
func (r *Repo) MergeAbort(ctx context.Context) error {
	st, err := r.LoadMergeState()
	if err != nil {
		return err
	}
	if st == nil {
		return ErrNoMerge
	}
	_, head, _, err := r.headCommit(ctx)
	if err != nil {
		return err
	}
	snap, err := r.takeSnapshot(ctx, store.IngestHash, nil, "scanning", dag.ZeroID, false)
	if err != nil {
		return err
	}
	remove := map[string]bool{}
	for _, p := range append(append([]string(nil), st.Created...), st.Reports...) {
		remove[p] = true
	}
	wrote, err := r.mergeWrote(ctx, st, treeOf(head))
	if err != nil {
		return err
	}
	var plan []planStep
	err = dag.DiffTrees(ctx, snap.getter, treeOf(head), emptyToZero(snap), func(p string, a, b *dag.TreeEntry) error {
		switch {
		case wrote != nil && !wrote(p):
			// the user's
		case a != nil:
			plan = append(plan, planStep{path: p, entry: a}) // back to HEAD's
		case remove[p]:
			plan = append(plan, planStep{path: p}) // the merge made it
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The reports (which scans leave out) go too, and the state once the
	// files are in place, in one journal.
	for _, p := range st.Reports {
		if checkPath(p) == nil {
			plan = append(plan, planStep{path: p})
		}
	}
	var result CheckoutResult
	return r.apply(ctx, plan, updateOptions{Force: true, DropMergeState: true}, &result)
}

// mergeWrote tells the paths a stopped merge wrote into the worktree: its
// result's changes from HEAD, its conflicts and the files it created. Nil
// for a merge state without its result tree (written by an older dx):
// then every path counts.
func (r *Repo) mergeWrote(ctx context.Context, st *MergeState, headTree dag.ID) (func(string) bool, error) {
	if st.Tree.IsZero() {
		return nil, nil
	}
	set := map[string]bool{}
	for _, p := range append(append(append([]string(nil), st.Conflicts...), st.Created...), st.Reports...) {
		set[p] = true
	}
	if err := dag.DiffTrees(ctx, r.Store, headTree, st.Tree, func(p string, _, _ *dag.TreeEntry) error {
		set[p] = true
		return nil
	}); err != nil {
		return nil, err
	}
	return func(p string) bool {
		for q := p; ; {
			if set[q] {
				return true
			}
			i := strings.LastIndexByte(q, '/')
			if i < 0 {
				return false
			}
			q = q[:i]
		}
	}, nil
}
