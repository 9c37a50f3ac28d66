package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/progress"
	"github.com/dxdata/dx/internal/table"
	"github.com/dxdata/dx/internal/worktree"
	"github.com/dxdata/dx/merge"
	"github.com/dxdata/dx/store/chunker"
)

// tableMerge is one table both sides of a merge changed.
type tableMerge struct {
	path               string
	spec               table.Spec
	base, ours, theirs *dag.TreeEntry // its versions (base nil: added on both sides)
	// checkedOutOurs: ours is the worktree's, read from there, and the
	// merged table is written ahead beside it.
	checkedOutOurs bool
}

// mergeTable merges one table both sides changed and stores the result.
// When ours is checked out, the result is built on it and the worktree
// file is trusted to hold ours, the merged file is also written ahead,
// beside it, into a temporary file whose name is returned.
func (r *Repo) mergeTable(ctx context.Context, t tableMerge) (*dag.TreeEntry, *merge.RowMerge, string, error) {
	p, spec, ours, theirs := t.path, t.spec, t.ours, t.theirs
	// Ours is checked out: its chunks are read from the worktree file.
	var ourFile *checkedOut
	if t.checkedOutOurs && ours != nil && ours.Mode.IsFile() {
		ourFile = openCheckedOut(filepath.Join(r.Root, filepath.FromSlash(p)), ours.Size)
		defer ourFile.Close()
	}
	// The three versions' chunk lists and first chunks, at once (each is
	// a few reads, cold at first).
	var srcs [3]*chunkSource
	var aligned [3]bool
	learner := &rangeLearner{}
	var errs [3]error
	var opened sync.WaitGroup
	for i, e := range []*dag.TreeEntry{t.base, ours, theirs} {
		opened.Add(1)
		go func() {
			defer opened.Done()
			src, err := r.entrySource(ctx, e, p)
			if err != nil {
				errs[i] = err
				return
			}
			if i == 1 {
				src.backedBy(ourFile)
			}
			src.rangesFrom(r.Store, spec)
			src.learn(learner)
			srcs[i] = src
			aligned[i], errs[i] = src.rowAligned(ctx, spec, r.rowEnds())
		}()
	}
	opened.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, nil, "", err
	}
	rowMerge, err := merge.MergeRows(ctx, table.New(spec), srcs[0], srcs[1], srcs[2], diffOptionsOf(aligned[:]...))
	if err != nil {
		return nil, nil, "", err
	}
	if err := learner.record(ctx, r.Store, srcs[:]...); err != nil {
		return nil, nil, "", err
	}
	if rowMerge.Unchanged {
		if rowMerge.OnTheirs {
			return theirs, rowMerge, "", nil
		}
		return ours, rowMerge, "", nil
	}
	cutMode := chunker.Lines
	if spec.Format == table.CSV {
		cutMode = chunker.CSV
	}
	read := func(ctx context.Context, pc merge.Piece, buf []byte) ([]byte, error) {
		if !rowMerge.OnTheirs && !pc.Other { // the chunk is ours'
			if out, ok := ourFile.appendChunk(*pc.Chunk, pc.Off, buf[:0]); ok {
				return out, nil
			}
		}
		return r.Store.AppendObject(ctx, dag.KindChunk, pc.Chunk.ID, buf[:0])
	}
	merged := mergedPieces{pieces: rowMerge.Pieces, read: read}
	fileMode := ours.Mode
	if rowMerge.OnTheirs {
		fileMode = theirs.Mode
	}
	// The worktree file, written while the same bytes are stored.
	var tmp string
	var prewriteErr error
	var prewriting sync.WaitGroup
	if t.checkedOutOurs && !rowMerge.OnTheirs && r.inSparse(p) && !keepsInPlace(rowMerge.Pieces) {
		prewriting.Add(1)
		go func() {
			defer prewriting.Done()
			tmp, prewriteErr = r.prewriteMerged(ctx, p, ours, ourFile, merged)
		}()
	}
	keys := recordKeys(spec, rowMerge.Header) // the new chunks' key ranges, for later merges
	id, size, err := r.storeMerged(ctx, merged, chunker.DefaultOptions().ForMode(cutMode), keys)
	prewriting.Wait()
	if err == nil {
		err = prewriteErr
	}
	if err != nil {
		if tmp != "" {
			prewritten{p: {tmp: tmp}}.remove(r.Root)
		}
		return nil, nil, "", err
	}
	return &dag.TreeEntry{Name: filepath.Base(p), Mode: fileMode, ID: id, Size: size}, rowMerge, tmp, nil
}

// keepsInPlace reports whether merged pieces, built on ours, leave most
// of ours' bytes where they are in its file (rows changed at the same
// length, rows added at the end): the worktree update then patches the
// file in place (stagePatch, by the same rule), at the cost of the
// change, where writing it ahead would copy it whole.
func keepsInPlace(pieces []merge.Piece) bool {
	var size, moved int64
	for _, pc := range pieces {
		n := int64(len(pc.Data))
		if pc.Chunk != nil {
			n = int64(pc.Chunk.Len)
		}
		if pc.Chunk == nil || pc.Other || pc.Off != size {
			moved += n
		}
		size += n
	}
	return patchable(size, moved)
}

// prewriteMerged writes a merged table, built on ours, into a temporary
// file beside its worktree file p, which holds ours (ourFile): the runs of
// ours' chunks it keeps are copied from p unread, the new
// bytes written. Done while the merge stores the same bytes, it leaves the
// worktree update a rename. The name of the file is returned, "" if p was
// not trusted to hold ours (the worktree update then writes p as usual).
func (r *Repo) prewriteMerged(ctx context.Context, p string, ours *dag.TreeEntry, ourFile *checkedOut, merged mergedPieces) (string, error) {
	var e worktree.StatEntry
	found := false
	if err := worktree.LookupStats(ctx, r.Store, []string{p}, func(_ int, se worktree.StatEntry) { e, found = se, true }); err != nil {
		return "", err
	}
	if ourFile == nil || !found || e.File != ours.ID || !e.Trusted() || !ourFile.unchanged(e) {
		return "", nil
	}
	root, err := os.OpenRoot(r.Root)
	if err != nil {
		return "", err
	}
	defer root.Close()
	tmp := r.tmpName(p)
	_, err = writeTemp(rootFiles{root}, tmp, ours.Mode, func(f *os.File) error { return r.writePieces(ctx, f, ourFile.f, merged.pieces) })
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	if !ourFile.unchanged(e) { // changed while it was copied
		root.Remove(tmp)
		return "", nil
	}
	return tmp, nil
}

// writePieces writes the pieces to dst: new bytes as they are, the other
// side's chunks from the store, runs of chunks contiguous in src (the
// built-on side's file) copied from it (see assemble).
func (r *Repo) writePieces(ctx context.Context, dst, src *os.File, pieces []merge.Piece) error {
	parts := make([]filePart, len(pieces))
	for i, pc := range pieces {
		switch {
		case pc.Chunk == nil:
			parts[i] = filePart{data: pc.Data}
		case pc.Other:
			parts[i] = filePart{chunk: pc.Chunk}
		default:
			parts[i] = filePart{off: pc.Off, n: int64(pc.Chunk.Len)}
		}
	}
	_, _, err := r.assemble(ctx, dst, src, parts, progress.Nop{}.Start("", 0, false))
	return err
}

// prewritten lists merged files written ahead, by worktree path.
type prewritten map[string]prewrittenFile

type prewrittenFile struct {
	tmp string // temporary file beside the path, relative to the root
	id  dag.ID // the File it holds
}

// removeUnmoved removes the files written ahead that a worktree update
// did not rename into place, unless its journal lists them: the next
// command then moves them.
func (r *Repo) removeUnmoved(pw prewritten) {
	if j, err := r.loadJournal(); err == nil && j == nil {
		pw.remove(r.Root)
	}
}

// remove removes the temporary files not renamed into place.
func (pw prewritten) remove(root string) {
	if len(pw) == 0 {
		return
	}
	rt, err := os.OpenRoot(root)
	if err != nil {
		return
	}
	defer rt.Close()
	for _, f := range pw {
		_ = rt.Remove(f.tmp) // gone once renamed into place
	}
}
