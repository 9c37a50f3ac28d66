package repo

import (
	"context"
	"os"
	"slices"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// checkedOut is a worktree file believed to hold a stored File: a merge
// checks that the worktree is clean first, a commit has just read it into
// the store. Reading a chunk of it costs a
// read from the page cache and the hash that checks it, where the store
// would also decompress it; a chunk that does not match is read from the
// store instead.
type checkedOut struct {
	f *os.File
	// trusted: the file is known to hold the File (its stat is the one
	// recorded when it was read into the store, and is checked again
	// after): its chunks are read without hashing them.
	trusted bool
}

// openCheckedOut opens the worktree file at path if its size is the
// File's; else it returns nil (and the store is read).
func openCheckedOut(path string, size uint64) *checkedOut {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || uint64(fi.Size()) != size {
		f.Close()
		return nil
	}
	return &checkedOut{f: f}
}

func (w *checkedOut) Close() {
	if w != nil {
		w.f.Close()
	}
}

// appendChunk appends chunk c, at offset off of the file, to dst if the
// bytes there are c's; ok is false if they are not (dst is then as given).
func (w *checkedOut) appendChunk(c dag.ChunkRef, off int64, dst []byte) (out []byte, ok bool) {
	if w == nil {
		return dst, false
	}
	n := len(dst)
	out = slices.Grow(dst, int(c.Len))[:n+int(c.Len)]
	if _, err := w.f.ReadAt(out[n:], off); err != nil || !w.trusted && dag.Hash(dag.KindChunk, out[n:]) != c.ID {
		return out[:n], false
	}
	return out, true
}

// unchanged reports whether the open file still has the stat entry e.
func (w *checkedOut) unchanged(e store.StatEntry) bool {
	fi, err := w.f.Stat()
	if err != nil {
		return false
	}
	mode, ok := modeOf(fi)
	return ok && e.Matches(statEntry(fi, mode))
}

// backedBy makes src, a stored File's chunks, read them from w where w
// holds them.
func (src *chunkSource) backedBy(w *checkedOut) {
	if w == nil {
		return
	}
	offs := make([]int64, len(src.chunks))
	var off int64
	for i, c := range src.chunks {
		offs[i] = off
		off += int64(c.Len)
	}
	fromStore := src.read
	src.prefetch = nil // its chunks come from the file, not the packs
	src.read = func(ctx context.Context, i int, dst []byte) ([]byte, error) {
		if out, ok := w.appendChunk(src.chunks[i], offs[i], dst); ok {
			return out, nil
		}
		return fromStore(ctx, i, dst)
	}
}
