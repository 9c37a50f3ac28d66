package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

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
	status, err := r.Status(ctx)
	if err != nil {
		return nil, err
	}
	if !status.Clean() {
		paths := make([]string, 0, 3)
		for i, c := range status.Changes {
			if i == 3 {
				paths = append(paths, fmt.Sprintf("and %d more", len(status.Changes)-3))
				break
			}
			paths = append(paths, c.Path)
		}
		return nil, fmt.Errorf("merge: the worktree has changes (%s); commit your changes first: %w", strings.Join(paths, ", "), ErrLocalChanges)
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
		if err := r.moveTo(ctx, h, headID, treeOf(head), theirs.ID, theirs.Commit.Tree, "merge "+o.Rev+": fast-forward", nil, res); err != nil {
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
	defer func() {
		if j, err := r.loadJournal(); err == nil && j == nil {
			pre.remove(r.Root) // else the journal's: the next command moves them
		}
	}()
	tree, tm, err := r.threeWay(ctx, attrs, base, head.Tree, theirs.Commit.Tree, pre, res)
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
	if len(tm.Conflicts) == 0 {
		id, err := r.putMergeCommit(ctx, tree, headID, head, theirs, msg)
		if err != nil {
			return nil, err
		}
		res.Commit = id
		if err := r.moveTo(ctx, h, headID, head.Tree, id, tree, "merge "+o.Rev, pre, res); err != nil {
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
	for _, c := range tm.Conflicts {
		st.Conflicts = append(st.Conflicts, c.Path)
	}
	// The conflict reports are stored, and written with the merged files:
	// one worktree update, after which the state is saved, so a crash
	// leaves the merge stopped on its conflicts or not begun (see apply).
	var reports []planStep
	for _, c := range tm.Conflicts {
		if c.Kind != merge.ConflictRows {
			continue
		}
		spec, _ := attrs.Table(c.Path)
		rp, data, err := table.ConflictReport(c, spec)
		if err != nil {
			return nil, err
		}
		id, size, err := r.putBytes(ctx, data)
		if err != nil {
			return nil, err
		}
		reports = append(reports, planStep{path: rp, entry: &dag.TreeEntry{Name: path.Base(rp), Mode: dag.ModeFile, ID: id, Size: size}})
		st.Reports = append(st.Reports, rp)
	}
	if err := r.Store.Flush(ctx); err != nil {
		return nil, err
	}
	uo := updateOptions{IfMergeState: true, BeforeMove: func(context.Context) error { return r.saveMergeState(st) }}
	if err := r.updateWorktree(ctx, head.Tree, tree, pre, reports, uo, res); err != nil {
		return nil, err
	}
	res.Reports = st.Reports
	res.Changes = changes
	return res, nil
}

// putBytes stores data as a File, chunked as a commit would chunk it.
func (r *Repo) putBytes(ctx context.Context, data []byte) (dag.ID, uint64, error) {
	ck, err := chunker.New(bytes.NewReader(data), chunker.DefaultOptions())
	if err != nil {
		return dag.ZeroID, 0, err
	}
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

// noTables stands for a .dxattributes that does not parse (committed with
// --no-verify): a merge then merges every path as a file.
func (r *Repo) noTables(err error) *table.Attributes {
	r.warn(fmt.Sprintf("%v; every path merges as a file", err))
	return nil
}

// threeWay merges tree theirs into tree ours from commit base: the merged
// tree (stored, with ours' side of each conflicting table's rows) and the
// tree merge with its conflicts; res gets the tables merged by rows and
// the conflicts. With pre non-nil, ours is checked out: its tables are
// read from the worktree where it holds them, and merged tables are
// written ahead beside them into pre.
func (r *Repo) threeWay(ctx context.Context, attrs *table.Attributes, base, ours, theirs dag.ID, pre prewritten, res *MergeResult) (dag.ID, *merge.TreeMerge, error) {
	var tables []TableMerged
	fm := func(ctx context.Context, p string, b, o, th *dag.TreeEntry) (*dag.TreeEntry, *merge.PathConflict, bool, error) {
		spec, ok := attrs.Table(p)
		if !ok || len(spec.Key) == 0 {
			return nil, nil, false, nil
		}
		if !r.inSparse(p) {
			return nil, nil, false, fmt.Errorf("merge: table %s changed on both sides but lies outside the sparse paths; dx pull --path %s first: %w", p, p, ErrPathspec)
		}
		e, rm, tmp, err := r.mergeTable(ctx, p, spec, b, o, th, pre != nil)
		if tmp != "" {
			pre[p] = prewrittenFile{tmp: tmp, id: e.ID}
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
		tables = append(tables, TableMerged{Path: p, Added: rm.Added, Changed: rm.Changed, Removed: rm.Removed, Conflicts: len(rm.Conflicts), UnreadRuns: rm.Unread})
		if len(rm.Conflicts) > 0 {
			return nil, &merge.PathConflict{Kind: merge.ConflictRows, Rows: rm.Conflicts, Merged: e}, true, nil
		}
		return e, nil, true, nil
	}
	baseTree := dag.ZeroID
	if !base.IsZero() {
		bc, err := dag.LoadCommit(ctx, r.Store, base)
		if err != nil {
			return dag.ZeroID, nil, err
		}
		baseTree = bc.Tree
	}
	tm, err := merge.MergeTrees(ctx, r.Store, baseTree, ours, theirs, fm)
	if err != nil {
		return dag.ZeroID, nil, err
	}
	res.Tables, res.Conflicts = tables, tm.Conflicts
	for _, c := range tm.Conflicts {
		if c.Merged != nil {
			tm.Edits[c.Path] = c.Merged // the table, with ours' side of each conflict
		}
	}
	tree, err := editTree(ctx, r.Store, r.Store, ours, tm.Edits)
	if err != nil {
		return dag.ZeroID, nil, err
	}
	return tree, tm, nil
}

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
		tree, tm, err := r.threeWay(ctx, attrs, base, ours.Tree, theirs.Commit.Tree, nil, res)
		if err != nil {
			return nil, err
		}
		if len(tm.Conflicts) > 0 {
			// The merged objects are left unreferenced, for gc.
			return res, fmt.Errorf("merge --into %s: %w in %d paths; nothing was written (to resolve them, check out %s and run dx merge %s)", o.Into, ErrMergeConflicts, len(tm.Conflicts), o.Into, o.Rev)
		}
		if err := r.Store.Flush(ctx); err != nil {
			return nil, err
		}
		msg := o.Message
		if msg == "" {
			msg = fmt.Sprintf("Merge %s into %s", o.Rev, o.Into)
		}
		if res.Commit, err = r.putMergeCommit(ctx, tree, oursID, ours, theirs, msg); err != nil {
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

// putMergeCommit stores the commit of a merge of theirs into ours (its
// two parents) with the merged tree.
func (r *Repo) putMergeCommit(ctx context.Context, tree, oursID dag.ID, ours *dag.Commit, theirs Resolved, msg string) (dag.ID, error) {
	c := &dag.Commit{Tree: tree, Parents: []dag.ID{oursID, theirs.ID}, Author: r.opts.Author, Time: r.opts.Now().UTC(), Message: msg,
		Generation: max(ours.Generation, theirs.Commit.Generation) + 1}
	enc, err := c.Encode()
	if err != nil {
		return dag.ZeroID, err
	}
	return r.Store.Put(ctx, dag.KindCommit, enc)
}

func (r *Repo) worktreeAttributes(ctx context.Context) (*table.Attributes, error) {
	if r.sparse != nil && !withinAny(table.AttributesFile, r.sparse) {
		// Outside the sparse paths, the worktree is HEAD.
		_, head, _, err := r.headCommit(ctx)
		if err != nil {
			return nil, err
		}
		return r.treeAttributes(ctx, treeOf(head))
	}
	b, err := os.ReadFile(filepath.Join(r.Root, table.AttributesFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return table.ParseAttributes(bytes.NewReader(b), table.AttributesFile)
}

// moveTo points HEAD's branch (or a detached HEAD) at commit id, if it
// is still old, and updates the worktree from tree `from` to `to`: the
// new files are written first, the ref moves, then the files move into
// place (see apply).
func (r *Repo) moveTo(ctx context.Context, h store.Head, old dag.ID, from dag.ID, id, to dag.ID, why string, pre prewritten, res *MergeResult) error {
	changes, err := diffChanges(ctx, r.Store, from, to)
	if err != nil {
		return err
	}
	res.Changes = changes
	uo := updateOptions{IfHead: id, BeforeMove: func(ctx context.Context) error {
		if h.Detached() {
			return r.Store.Transaction(ctx, nil, &store.Head{ID: id}, why)
		}
		if err := r.Store.Transaction(ctx, []store.RefUpdate{{Name: h.Ref, Old: old, New: id}}, nil, why); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		return nil
	}}
	return r.updateWorktree(ctx, from, to, pre, nil, uo, res)
}

// updateWorktree writes the difference between two trees into a worktree
// that matches the first, and the extra steps; files in pre are written
// already. Untracked and ignored files in the way make it refuse before
// any write.
func (r *Repo) updateWorktree(ctx context.Context, from, to dag.ID, pre prewritten, extra []planStep, uo updateOptions, res *MergeResult) error {
	var plan []planStep
	err := dag.DiffTrees(ctx, r.Store, from, to, func(p string, a, b *dag.TreeEntry) error {
		st := planStep{path: p, entry: b, old: a, tracked: a != nil} // the worktree matches `from`
		if f, ok := pre[p]; ok && b != nil && b.ID == f.id {
			st.pre = f.tmp
		}
		plan = append(plan, st)
		return nil
	})
	if err != nil {
		return err
	}
	plan = append(plan, extra...)
	var cr CheckoutResult
	if err := r.apply(ctx, plan, uo, &cr); err != nil {
		return err
	}
	res.Written, res.Removed = cr.Written, cr.Removed
	return nil
}

// mergeTable merges one table both sides changed and stores the result.
// When ours is checked out, the result is built on it and the worktree
// file is trusted to hold ours, the merged file is also written ahead,
// beside it, into a temporary file whose name is returned.
func (r *Repo) mergeTable(ctx context.Context, p string, spec table.Spec, b, ours, theirs *dag.TreeEntry, checkedOutOurs bool) (*dag.TreeEntry, *merge.RowMerge, string, error) {
	// Ours is checked out: its chunks are read from the worktree file.
	var wt *checkedOut
	if checkedOutOurs && ours != nil && ours.Mode.IsFile() {
		wt = openCheckedOut(filepath.Join(r.Root, filepath.FromSlash(p)), ours.Size)
		defer wt.Close()
	}
	// The three versions' chunk lists and first chunks, at once (each is
	// a few reads, cold at first).
	var srcs [3]*chunkSource
	var aligned [3]bool
	learner := &rangeLearner{}
	var errs [3]error
	var swg sync.WaitGroup
	for i, e := range []*dag.TreeEntry{b, ours, theirs} {
		swg.Add(1)
		go func() {
			defer swg.Done()
			src, err := r.entrySource(ctx, e, p)
			if err != nil {
				errs[i] = err
				return
			}
			if i == 1 {
				src.backedBy(wt)
			}
			src.ranges = func(ctx context.Context, h merge.Header, idx []int) ([]dag.KeyRange, []bool, error) {
				return keyRanges(ctx, r.Store, spec, src, h, idx)
			}
			src.learn(learner)
			srcs[i] = src
			aligned[i], errs[i] = src.rowAligned(ctx, spec.Format)
		}()
	}
	swg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, nil, "", err
	}
	o := diffOptionsOf(aligned[:]...)
	rm, err := merge.MergeRows(ctx, table.New(spec), srcs[0], srcs[1], srcs[2], o)
	if err != nil {
		return nil, nil, "", err
	}
	if err := learner.record(ctx, r.Store, srcs[:]...); err != nil {
		return nil, nil, "", err
	}
	if rm.Unchanged {
		if rm.OnTheirs {
			return theirs, rm, "", nil
		}
		return ours, rm, "", nil
	}
	mode := chunker.Lines
	if spec.Format == table.CSV {
		mode = chunker.CSV
	}
	read := func(ctx context.Context, pc merge.Piece, buf []byte) ([]byte, error) {
		if !rm.OnTheirs && !pc.Other { // the chunk is ours'
			if out, ok := wt.appendChunk(*pc.Chunk, pc.Off, buf[:0]); ok {
				return out, nil
			}
		}
		return r.Store.AppendObject(ctx, dag.KindChunk, pc.Chunk.ID, buf[:0])
	}
	mode2 := ours.Mode
	if rm.OnTheirs {
		mode2 = theirs.Mode
	}
	// The worktree file, written while the same bytes are stored.
	var tmp string
	var perr error
	var wg sync.WaitGroup
	if checkedOutOurs && !rm.OnTheirs && r.inSparse(p) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tmp, perr = r.prewriteMerged(ctx, p, mode2, ours.ID, rm.Pieces, wt, read)
		}()
	}
	keys := recordKeys(spec, rm.Header) // the new chunks' key ranges, for later merges
	id, size, err := r.storeMerged(ctx, rm.Pieces, read, chunker.DefaultOptions().ForMode(mode), keys)
	wg.Wait()
	if err == nil {
		err = perr
	}
	if err != nil {
		if tmp != "" {
			prewritten{p: {tmp: tmp}}.remove(r.Root)
		}
		return nil, nil, "", err
	}
	return &dag.TreeEntry{Name: filepath.Base(p), Mode: mode2, ID: id, Size: size}, rm, tmp, nil
}
