package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store"
	"github.com/dxdata/dx/store/chunker"
)

// MergeOptions configure Merge.
type MergeOptions struct {
	Rev     string
	Message string // default "Merge REV into BRANCH"
	// Into names a branch, not the one checked out, to merge Rev into
	// instead of HEAD: the worktree is not touched, and a conflict stops
	// the merge with nothing written.
	Into string
	// pre: files of Rev's tree written ahead (a pull's), for a
	// fast-forward.
	pre prewritten
}

// ErrMergeConflicts: a merge into a branch that is not checked out met
// conflicts, and wrote nothing.
var ErrMergeConflicts = errors.New("conflicts")

// TableMerged describes a table merged row by row.
type TableMerged struct {
	Path      string `json:"path"`
	Added     int    `json:"added"`
	Changed   int    `json:"changed"`
	Removed   int    `json:"removed"`
	Conflicts int    `json:"conflicts"`
	// UnreadRuns counts the runs of changed chunks taken whole from the
	// merged revision without reading them, their rows not counted above:
	// their key ranges showed no key changed on both sides.
	UnreadRuns int `json:"unread_runs"`
}

// MergeResult says what a merge did.
type MergeResult struct {
	UpToDate    bool                 `json:"up_to_date"`
	FastForward bool                 `json:"fast_forward"`
	Commit      dag.ID               `json:"commit"`
	Base        dag.ID               `json:"base"`
	Theirs      dag.ID               `json:"theirs"`
	Changes     []Change             `json:"changes"` // HEAD before → after
	Tables      []TableMerged        `json:"tables,omitempty"`
	Conflicts   []merge.PathConflict `json:"-"`
	Reports     []string             `json:"reports,omitempty"`
	Written     int                  `json:"written"`
	Removed     int                  `json:"removed"`
}

// Merge merges a revision into HEAD: nothing when it is already
// contained, a fast-forward when HEAD is behind, else a three-way merge
// from their lowest common ancestor, committed with two parents. Tables
// changed on both sides merge row by row by key. On conflicts nothing is
// committed: the worktree holds everything that merged, conflicting
// tables get a report of each conflicting key next to them, and the
// merge state waits for --continue or --abort.
func (r *Repo) Merge(ctx context.Context, o MergeOptions) (*MergeResult, error) {
	if o.Into != "" {
		return r.mergeInto(ctx, o)
	}
	if st, err := r.LoadMergeState(); err != nil {
		return nil, err
	} else if st != nil {
		return nil, ErrMergeInProgress
	}
	theirs, err := r.Resolve(ctx, o.Rev)
	if err != nil {
		return nil, err
	}
	headID, head, h, err := r.headCommit(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.requireClean(ctx, "merge:"); err != nil {
		return nil, err
	}
	res := &MergeResult{Theirs: theirs.ID}
	base := dag.ZeroID
	if head != nil {
		if base, err = merge.Base(ctx, r.Store, headID, theirs.ID); err != nil {
			return nil, err
		}
	}
	res.Base = base
	switch {
	case head != nil && base == theirs.ID:
		res.UpToDate, res.Commit = true, headID
		return res, nil
	case head == nil || base == headID:
		// Fast-forward: the worktree, then the ref.
		res.FastForward, res.Commit = true, theirs.ID
		move := branchMove{head: h, from: headID, to: theirs.ID, fromTree: treeOf(head), toTree: theirs.Commit.Tree, why: "merge " + o.Rev + ": fast-forward", pre: o.pre}
		if err := r.moveTo(ctx, move, res); err != nil {
			return nil, err
		}
		return res, nil
	}
	attrs, err := r.worktreeAttributes(ctx)
	if err != nil {
		attrs = r.noTables(err)
	}
	// Merged tables written ahead into temporary worktree files: the
	// worktree update renames them into place. Those left are removed.
	pre := prewritten{}
	defer r.removeUnmoved(pre)
	tree, treeMerge, err := r.threeWay(ctx, threeWayMerge{attrs: attrs, base: base, ours: head.Tree, theirs: theirs.Commit.Tree, pre: pre}, res)
	if err != nil {
		return nil, err
	}
	if err := r.Store.Flush(ctx); err != nil {
		return nil, err
	}
	msg := o.Message
	if msg == "" {
		into := "HEAD"
		if !h.Detached() {
			into = strings.TrimPrefix(h.Ref, "refs/heads/")
		}
		msg = fmt.Sprintf("Merge %s into %s", o.Rev, into)
	}
	if len(treeMerge.Conflicts) == 0 {
		if err := r.verifyMerge(ctx, head.Tree, tree); err != nil {
			return nil, err
		}
		id, err := r.putMergeCommit(ctx, tree, Resolved{ID: headID, Commit: head}, theirs, msg)
		if err != nil {
			return nil, err
		}
		res.Commit = id
		move := branchMove{head: h, from: headID, to: id, fromTree: head.Tree, toTree: tree, why: "merge " + o.Rev, pre: pre}
		if err := r.moveTo(ctx, move, res); err != nil {
			return nil, err
		}
		return res, nil
	}
	// Conflicts: the worktree gets what merged; HEAD stays.
	st := &MergeState{Rev: o.Rev, Ours: headID, Theirs: theirs.ID, Base: base, Message: msg, Tree: tree}
	changes, err := diffChanges(ctx, r.Store, head.Tree, tree)
	if err != nil {
		return nil, err
	}
	for _, c := range changes {
		if c.Old == nil && c.New != nil {
			st.Created = append(st.Created, c.Path)
		}
	}
	for _, c := range treeMerge.Conflicts {
		st.Conflicts = append(st.Conflicts, c.Path)
	}
	// The conflict reports are stored, and written with the merged files:
	// one worktree update, after which the state is saved, so a crash
	// leaves the merge stopped on its conflicts or not begun (see apply).
	reports, reportPaths, err := r.storeReports(ctx, attrs, treeMerge.Conflicts)
	if err != nil {
		return nil, err
	}
	st.Reports = reportPaths
	if err := r.Store.Flush(ctx); err != nil {
		return nil, err
	}
	update := worktreeUpdate{from: head.Tree, to: tree, pre: pre, extra: reports,
		opts: updateOptions{IfMergeState: true, BeforeMove: func(context.Context) error { return r.saveMergeState(st) }}}
	if err := r.updateWorktree(ctx, update, res); err != nil {
		return nil, err
	}
	res.Reports = st.Reports
	res.Changes = changes
	return res, nil
}

// threeWayMerge is what a three-way merge merges.
type threeWayMerge struct {
	attrs        *table.Attributes // which paths are tables
	base         dag.ID            // the commit merged from (zero: none)
	ours, theirs dag.ID            // the trees merged
	// pre, if non-nil, says ours is checked out: its tables are read
	// from the worktree where it holds them, and merged tables are
	// written ahead beside them into pre.
	pre prewritten
}

// threeWay merges tree m.theirs into tree m.ours from commit m.base: the
// merged tree (stored, with ours' side of each conflicting table's rows)
// and the tree merge with its conflicts; res gets the tables merged by
// rows and the conflicts.
func (r *Repo) threeWay(ctx context.Context, m threeWayMerge, res *MergeResult) (dag.ID, *merge.TreeMerge, error) {
	var tables []TableMerged
	// mergeByRows merges a keyed table both sides changed (see
	// merge.FileMerge); any other path merges as a file.
	mergeByRows := func(ctx context.Context, p string, base, ours, theirs *dag.TreeEntry) (*dag.TreeEntry, *merge.PathConflict, bool, error) {
		spec, ok := m.attrs.RowTable(p)
		if !ok || len(spec.Key) == 0 {
			return nil, nil, false, nil
		}
		if !r.inSparse(p) {
			return nil, nil, false, fmt.Errorf("merge: table %s changed on both sides but lies outside the sparse paths; dx pull --path %s first: %w", p, p, ErrPathspec)
		}
		if spec.Format == table.Parquet {
			merged, pm, handled, err := r.mergeParquet(ctx, p, spec, base, ours, theirs)
			if !handled || err != nil {
				return nil, nil, false, err
			}
			tables = append(tables, TableMerged{Path: p, Added: pm.Added, Changed: pm.Changed, Removed: pm.Removed, Conflicts: len(pm.Conflicts)})
			if len(pm.Conflicts) > 0 {
				return nil, &merge.PathConflict{Kind: merge.ConflictRows, Rows: pm.Conflicts, Merged: merged}, true, nil
			}
			return merged, nil, true, nil
		}
		merged, rowMerge, tmp, err := r.mergeTable(ctx, tableMerge{path: p, spec: spec, base: base, ours: ours, theirs: theirs, checkedOutOurs: m.pre != nil})
		if tmp != "" {
			m.pre[p] = prewrittenFile{tmp: tmp, id: merged.ID}
		}
		if errors.Is(err, merge.ErrHeaderConflict) {
			return nil, &merge.PathConflict{Kind: merge.ConflictHeader}, true, nil
		}
		if errors.Is(err, merge.ErrInvalidRows) {
			// A version that is not a table (committed with --no-verify)
			// merges as a file.
			r.warn(fmt.Sprintf("%s: merged as a file, not by rows: %v", p, err))
			return nil, nil, false, nil
		}
		if err != nil {
			return nil, nil, false, fmt.Errorf("merge %s: %w", p, err)
		}
		tables = append(tables, TableMerged{Path: p, Added: rowMerge.Added, Changed: rowMerge.Changed, Removed: rowMerge.Removed, Conflicts: len(rowMerge.Conflicts), UnreadRuns: rowMerge.Unread})
		if len(rowMerge.Conflicts) > 0 {
			return nil, &merge.PathConflict{Kind: merge.ConflictRows, Rows: rowMerge.Conflicts, Merged: merged}, true, nil
		}
		return merged, nil, true, nil
	}
	baseTree := dag.ZeroID
	if !m.base.IsZero() {
		baseCommit, err := dag.LoadCommit(ctx, r.Store, m.base)
		if err != nil {
			return dag.ZeroID, nil, err
		}
		baseTree = baseCommit.Tree
	}
	treeMerge, err := merge.MergeTrees(ctx, r.Store, baseTree, m.ours, m.theirs, mergeByRows)
	if err != nil {
		return dag.ZeroID, nil, err
	}
	res.Tables, res.Conflicts = tables, treeMerge.Conflicts
	for _, c := range treeMerge.Conflicts {
		if c.Merged != nil {
			treeMerge.Edits[c.Path] = c.Merged // the table, with ours' side of each conflict
		}
	}
	tree, err := dag.EditTree(ctx, r.Store, r.Store, m.ours, treeMerge.Edits)
	if err != nil {
		return dag.ZeroID, nil, err
	}
	return tree, treeMerge, nil
}

// putMergeCommit stores the commit of a merge of theirs into ours (its
// two parents) with the merged tree.
func (r *Repo) putMergeCommit(ctx context.Context, tree dag.ID, ours, theirs Resolved, msg string) (dag.ID, error) {
	c := &dag.Commit{Tree: tree, Parents: []dag.ID{ours.ID, theirs.ID}, Author: r.opts.Author, Time: r.opts.Now().UTC(), Message: msg,
		Generation: max(ours.Commit.Generation, theirs.Commit.Generation) + 1}
	enc, err := c.Encode()
	if err != nil {
		return dag.ZeroID, err
	}
	return r.Store.Put(ctx, dag.KindCommit, enc)
}

// storeReports stores the conflict report of each table whose rows
// conflict (written by internal/table), and returns the worktree steps
// that write them beside their tables and their paths. A merge stopped on
// conflicts writes them with the merged files, in one worktree update.
func (r *Repo) storeReports(ctx context.Context, attrs *table.Attributes, conflicts []merge.PathConflict) ([]planStep, []string, error) {
	var steps []planStep
	var paths []string
	for _, c := range conflicts {
		if c.Kind != merge.ConflictRows {
			continue
		}
		spec, _ := attrs.RowTable(c.Path)
		reportPath, data, err := table.ConflictReport(c, spec)
		if err != nil {
			return nil, nil, err
		}
		id, size, err := r.putBytes(ctx, reportPath, data)
		if err != nil {
			return nil, nil, err
		}
		steps = append(steps, planStep{path: reportPath, entry: &dag.TreeEntry{Name: path.Base(reportPath), Mode: dag.ModeFile, ID: id, Size: size}})
		paths = append(paths, reportPath)
	}
	return steps, paths, nil
}

// putBytes stores data as the File at name, chunked as a commit would
// chunk it.
func (r *Repo) putBytes(ctx context.Context, name string, data []byte) (dag.ID, uint64, error) {
	ck, err := chunker.New(nil, chunker.DefaultOptions())
	if err != nil {
		return dag.ZeroID, 0, err
	}
	ck.ResetSniff(bytes.NewReader(data), name)
	fb := dag.NewFileBuilder(ctx, r.Store)
	var buf []byte
	for {
		c, err := ck.Next(buf[:0])
		if err == io.EOF {
			return fb.Finish()
		}
		if err != nil {
			return dag.ZeroID, 0, err
		}
		buf = c
		id, err := r.Store.Put(ctx, dag.KindChunk, c)
		if err != nil {
			return dag.ZeroID, 0, err
		}
		if err := fb.Add(dag.ChunkRef{ID: id, Len: uint32(len(c))}); err != nil {
			return dag.ZeroID, 0, err
		}
	}
}

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
		step := planStep{path: p, entry: b, old: a, tracked: a != nil} // the worktree matches u.from
		if f, ok := u.pre[p]; ok && b != nil && b.ID == f.id {
			step.pre = f.tmp
		}
		plan = append(plan, step)
		return nil
	})
	if err != nil {
		return err
	}
	plan = withExtraSteps(plan, u.extra)
	var result CheckoutResult
	if err := r.apply(ctx, plan, u.opts, &result); err != nil {
		return err
	}
	res.Written, res.Removed = result.Written, result.Removed
	return nil
}

// withExtraSteps adds the extra steps (conflict reports) to a plan. A report
// whose path the merged tree also writes (theirs added a file by that name)
// replaces that step: two steps on one path would be renamed into place in
// any order.
func withExtraSteps(plan, extra []planStep) []planStep {
	if len(extra) == 0 {
		return plan
	}
	at := make(map[string]int, len(extra))
	for i, e := range extra {
		at[e.path] = i
	}
	kept := plan[:0]
	for _, s := range plan {
		if i, ok := at[s.path]; ok {
			extra[i].tracked = extra[i].tracked || s.tracked
			continue
		}
		kept = append(kept, s)
	}
	return append(kept, extra...)
}

// requireClean refuses, with ErrLocalChanges, a worktree that has
// changes, naming a few; what says who refuses ("merge:").
func (r *Repo) requireClean(ctx context.Context, what string) error {
	status, err := r.Status(ctx)
	if err != nil {
		return err
	}
	if status.Clean() {
		return nil
	}
	paths := make([]string, 0, 3)
	for i, c := range status.Changes {
		if i == 3 {
			paths = append(paths, fmt.Sprintf("and %d more", len(status.Changes)-3))
			break
		}
		paths = append(paths, c.Path)
	}
	return fmt.Errorf("%s the worktree has changes (%s); commit your changes first: %w", what, strings.Join(paths, ", "), ErrLocalChanges)
}
