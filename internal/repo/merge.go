package repo

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

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
		return nil, err
	}
	// Merged tables written ahead into temporary worktree files: the
	// worktree update renames them into place. Those left are removed.
	pre := prewritten{}
	defer pre.remove(r.Root)
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
	// The state first: a crash after it leaves a merge to --abort.
	if err := r.saveMergeState(st); err != nil {
		return nil, err
	}
	if err := r.updateWorktree(ctx, head.Tree, tree, pre, updateOptions{}, res); err != nil {
		if j, jerr := r.loadJournal(); jerr == nil && j == nil {
			// Refused or failed before the first change: no merge
			// is in progress after all.
			_ = os.Remove(r.statePath())
		}
		return nil, err
	}
	for _, c := range tm.Conflicts {
		if c.Kind != merge.ConflictRows {
			continue
		}
		spec, _ := attrs.Table(c.Path)
		p, err := r.writeConflictReport(c, spec)
		if err != nil {
			return nil, err
		}
		st.Reports = append(st.Reports, p)
	}
	res.Reports = st.Reports
	res.Changes = changes
	if err := r.saveMergeState(st); err != nil {
		return nil, err
	}
	return res, nil
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
			return nil, err
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
	uo := updateOptions{IfHead: id, MoveRefs: func(ctx context.Context) error {
		if h.Detached() {
			return r.Store.Transaction(ctx, nil, &store.Head{ID: id}, why)
		}
		if err := r.Store.Transaction(ctx, []store.RefUpdate{{Name: h.Ref, Old: old, New: id}}, nil, why); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		return nil
	}}
	return r.updateWorktree(ctx, from, to, pre, uo, res)
}

// updateWorktree writes the difference between two trees into a worktree
// that matches the first; files in pre are written already. Untracked
// and ignored files in the way make it refuse before any write.
func (r *Repo) updateWorktree(ctx context.Context, from, to dag.ID, pre prewritten, uo updateOptions, res *MergeResult) error {
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
			src.ranges = func(ctx context.Context, h merge.Header, idx []int) ([]merge.KeyRange, []bool, error) {
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
		return r.Store.GetInto(ctx, dag.KindChunk, pc.Chunk.ID, buf)
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
	var keys *store.ChunkKeys // the new chunks' key ranges, for later merges
	if tag, rangeOf, ok := table.New(spec).ChunkKeys(rm.Header); ok {
		keys = &store.ChunkKeys{Tag: tag, Range: func(c []byte, first bool) (string, string, bool) {
			kr, ok := rangeOf(c, first)
			return kr.Lo, kr.Hi, ok
		}}
	}
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

// storeMerged stores a merged file given as pieces, chunked exactly as
// ingesting its bytes would chunk them (so that the worktree file hashes
// to the same File). Unchanged chunks are kept as they are; from the start
// of each run of new bytes (a chunk boundary of the original, so a cut
// point) the chunker runs on, through the original chunks that follow,
// until one of its cuts falls where an original chunk ends: from there on
// the original cuts are the cuts. So only a chunk or two beyond each
// change is read back. The runs are cut on all cores; a run that reaches
// past the start of the next one (two changes a chunk apart) makes that
// one's work unused, as cutting them in order would have.
func (r *Repo) storeMerged(ctx context.Context, pieces []merge.Piece, read pieceRead, copts chunker.Options, keys *store.ChunkKeys) (dag.ID, uint64, error) {
	type region struct {
		chunks []dag.ChunkRef
		next   int // the piece after the region
		err    error
	}
	regions := map[int]*region{}
	var starts []int
	for i, pc := range pieces {
		if pc.Chunk == nil && (i == 0 || pieces[i-1].Chunk != nil) {
			starts = append(starts, i)
			regions[i] = &region{}
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(starts)) {
		ck, err := chunker.New(nil, copts)
		if err != nil {
			return dag.ZeroID, 0, err
		}
		ck.SetLazy(true)
		// One reader and buffers per worker: chunks are at most Max bytes,
		// so they are never regrown (fresh memory costs a page fault every
		// 4 KiB, more than reading the chunk).
		cu := &cutter{keys: keys, ck: ck, pr: pieceReader{ctx: ctx, read: read, pieces: pieces, ends: map[int64]int{}, buf: make([]byte, 0, ck.Options().Max)}, cbuf: make([]byte, 0, ck.Options().Max)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= len(starts) || ctx.Err() != nil {
					return
				}
				reg := regions[starts[k]]
				reg.chunks, reg.next, reg.err = r.cutRegion(ctx, starts[k], cu)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return dag.ZeroID, 0, err
	}
	fb := dag.NewFileBuilder(ctx, r.Store)
	for i := 0; i < len(pieces); {
		if pieces[i].Chunk != nil {
			if err := fb.Add(*pieces[i].Chunk); err != nil {
				return dag.ZeroID, 0, err
			}
			i++
			continue
		}
		reg := regions[i] // i follows an original chunk: a region starts here
		if reg.err != nil {
			return dag.ZeroID, 0, reg.err
		}
		for _, c := range reg.chunks {
			if err := fb.Add(c); err != nil {
				return dag.ZeroID, 0, err
			}
		}
		i = reg.next
	}
	return fb.Finish()
}

// cutRegion chunks and stores the pieces from start on until a cut falls
// where an original chunk ends; it returns the chunks and the index of the
// piece after that chunk (len(pieces) at the end).
func (r *Repo) cutRegion(ctx context.Context, start int, cu *cutter) ([]dag.ChunkRef, int, error) {
	pr, ck := &cu.pr, cu.ck
	pr.next, pr.cur, pr.off = start, nil, 0
	clear(pr.ends)
	ck.Reset(pr)
	var out []dag.ChunkRef
	var pos int64
	for {
		c, err := ck.Next(cu.cbuf[:0])
		cu.cbuf = c // Put keeps no reference to a chunk's bytes
		if err == io.EOF {
			return out, len(pr.pieces), nil
		}
		if err != nil {
			return nil, 0, err
		}
		id, err := r.Store.Put(ctx, dag.KindChunk, c)
		if err != nil {
			return nil, 0, err
		}
		if k := cu.keys; k != nil {
			first := start == 0 && len(out) == 0
			if lo, hi, ok := k.Range(c, first); ok {
				e := store.KeyRangeEntry{KeyRangeRef: store.KeyRangeRef{ID: id, First: first}, Lo: lo, Hi: hi}
				if err := r.Store.RecordKeyRanges(k.Tag, []store.KeyRangeEntry{e}); err != nil {
					return nil, 0, err
				}
			}
		}
		out = append(out, dag.ChunkRef{ID: id, Len: uint32(len(c))})
		pos += int64(len(c))
		if j, ok := pr.ends[pos]; ok {
			return out, j, nil // back on the original cuts
		}
	}
}

// cutter is what one worker of storeMerged cuts regions with.
type cutter struct {
	keys *store.ChunkKeys // records the key ranges of the chunks cut, if set
	ck   *chunker.Chunker
	pr   pieceReader
	cbuf []byte
}

// pieceRead reads the chunk of a piece into buf (reused).
type pieceRead func(ctx context.Context, pc merge.Piece, buf []byte) ([]byte, error)

// pieceReader reads pieces from one on: new bytes as they are, original
// chunks with read, noting where each original chunk ends.
type pieceReader struct {
	ctx    context.Context
	read   pieceRead
	pieces []merge.Piece
	next   int
	cur    []byte
	buf    []byte // what cur's original chunks are read into
	off    int64
	ends   map[int64]int // offset where an original chunk ends → index of the piece after it
}

func (p *pieceReader) Read(b []byte) (int, error) {
	for len(p.cur) == 0 {
		if p.next == len(p.pieces) {
			return 0, io.EOF
		}
		pc := p.pieces[p.next]
		p.next++
		if pc.Chunk == nil {
			p.cur = pc.Data
			continue
		}
		// One buffer, reused: cur is empty again before the next read.
		data, err := p.read(p.ctx, pc, p.buf)
		if err != nil {
			return 0, err
		}
		p.cur, p.buf = data, data[:0]
		p.ends[p.off+int64(len(data))] = p.next
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	p.off += int64(n)
	return n, nil
}

// conflictReportPath is where the report of a table's conflicts goes.
func conflictReportPath(p string, f table.Format) string {
	if f == table.JSONL {
		return p + ".conflicts.jsonl"
	}
	return p + ".conflicts.csv"
}

// writeConflictReport writes, next to a table, each conflicting key with
// its base, ours and theirs rows.
func (r *Repo) writeConflictReport(c merge.PathConflict, spec table.Spec) (string, error) {
	rp := conflictReportPath(c.Path, spec.Format)
	var b bytes.Buffer
	sides := []struct {
		name string
		row  func(rc merge.RowConflict) *merge.Row
	}{
		{"base", func(rc merge.RowConflict) *merge.Row { return rc.Base }},
		{"ours", func(rc merge.RowConflict) *merge.Row { return rc.Ours }},
		{"theirs", func(rc merge.RowConflict) *merge.Row { return rc.Theirs }},
	}
	if spec.Format == table.JSONL {
		for _, rc := range c.Rows {
			line := map[string]any{"key": spec.KeyParts(rc.Key)}
			for _, s := range sides {
				if row := s.row(rc); row != nil {
					line[s.name] = table.OrderedRow{Cols: row.Cols, Vals: row.Vals, JSON: true}
				} else {
					line[s.name] = nil
				}
			}
			enc, err := json.Marshal(line)
			if err != nil {
				return "", err
			}
			b.Write(enc)
			b.WriteByte('\n')
		}
	} else {
		var cols []string
		seen := map[string]bool{}
		for _, rc := range c.Rows {
			for _, s := range sides {
				if row := s.row(rc); row != nil {
					for _, col := range row.Cols {
						if !seen[col] {
							seen[col] = true
							cols = append(cols, col)
						}
					}
				}
			}
		}
		w := csv.NewWriter(&b)
		w.Write(append([]string{"_key", "_side"}, cols...))
		for _, rc := range c.Rows {
			for _, s := range sides {
				rec := []string{strings.Join(spec.KeyParts(rc.Key), ","), s.name}
				row := s.row(rc)
				if row == nil {
					rec[1] += " (absent)"
				}
				for _, col := range cols {
					v := ""
					if row != nil {
						v, _ = row.Value(col)
					}
					rec = append(rec, v)
				}
				w.Write(rec)
			}
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return "", err
		}
	}
	root, err := os.OpenRoot(r.Root)
	if err != nil {
		return "", err
	}
	defer root.Close()
	if err := writeReport(root, rp, b.Bytes()); err != nil {
		return "", fmt.Errorf("write %s: %w", rp, err)
	}
	return rp, nil
}

// writeReport writes a new file at p in root, replacing what stands there.
// It never writes through a symlink: the merged tree may put one there
// (from a remote), pointing at .git/config or .dx, which the root's
// writer would follow because it stays inside the root.
func writeReport(root *os.Root, p string, data []byte) error {
	if err := root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	// O_EXCL: never follows a symlink put there since.
	f, err := root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
