package repo

import (
	"context"
	"errors"
	"path/filepath"
	"sync"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/table"
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
			src.ranges = func(ctx context.Context, h merge.Header, idx []int) ([]dag.KeyRange, []bool, error) {
				return keyRanges(ctx, r.Store, spec, src, h, idx)
			}
			src.learn(learner)
			srcs[i] = src
			aligned[i], errs[i] = src.rowAligned(ctx, spec.Format)
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
		return r.Store.GetInto(ctx, dag.KindChunk, pc.Chunk.ID, buf)
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
	if t.checkedOutOurs && !rowMerge.OnTheirs && r.inSparse(p) {
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
