package repo

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/worktree"
	"github.com/dxdata/dx/merge"
)

// checkedOut is a worktree file believed to hold a stored File: a merge
// checks that the worktree is clean first. Reading a chunk of it costs a
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

// unchanged reports whether the open file still has the stat entry e.
func (w *checkedOut) unchanged(e worktree.StatEntry) bool {
	fi, err := w.f.Stat()
	if err != nil {
		return false
	}
	mode, ok := modeOf(fi)
	return ok && e.Matches(statEntry(fi, mode))
}

// prewriteMerged writes a merged table, built on ours, into a temporary
// file beside its worktree file p, which holds ours (w): the runs of
// ours' chunks it keeps are copied from p within the kernel, the new
// bytes written. Done while the merge stores the same bytes, it leaves the
// worktree update a rename. The name of the file is returned, "" if p was
// not trusted to hold ours (the worktree update then writes p as usual).
func (r *Repo) prewriteMerged(ctx context.Context, p string, mode dag.Mode, ours dag.ID, pieces []merge.Piece, w *checkedOut, read pieceRead) (string, error) {
	var e worktree.StatEntry
	found := false
	if err := worktree.LookupStats(ctx, r.Store, []string{p}, func(_ int, se worktree.StatEntry) { e, found = se, true }); err != nil {
		return "", err
	}
	if w == nil || !found || e.File != ours || !e.Trusted() || !w.unchanged(e) {
		return "", nil
	}
	root, err := os.OpenRoot(r.Root)
	if err != nil {
		return "", err
	}
	defer root.Close()
	tmp, err := writeTemp(root, r.tmpName(p), mode, func(f *os.File) error { return writePieces(ctx, f, w.f, pieces, read) })
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	if !w.unchanged(e) { // changed while it was copied
		root.Remove(tmp)
		return "", nil
	}
	return tmp, nil
}

// writePieces writes the pieces to dst: new bytes as they are, the other
// side's chunks read with read, runs of chunks contiguous in src (the
// built-on side's file) copied from it.
func writePieces(ctx context.Context, dst, src *os.File, pieces []merge.Piece, read pieceRead) error {
	var buf []byte
	for i := 0; i < len(pieces); {
		if err := ctx.Err(); err != nil {
			return err
		}
		pc := pieces[i]
		if pc.Chunk == nil || pc.Other {
			data := pc.Data
			if pc.Chunk != nil {
				var err error
				if buf, err = read(ctx, pc, buf); err != nil {
					return err
				}
				data = buf
			}
			if _, err := dst.Write(data); err != nil {
				return err
			}
			i++
			continue
		}
		off, end := pc.Off, pc.Off+int64(pc.Chunk.Len)
		for i++; i < len(pieces) && pieces[i].Chunk != nil && !pieces[i].Other && pieces[i].Off == end; i++ {
			end += int64(pieces[i].Chunk.Len)
		}
		if err := copyRange(dst, src, off, end-off); err != nil {
			return err
		}
	}
	return nil
}

// copyRangeFallback copies n bytes of src from off to dst's offset through
// a buffer.
func copyRangeFallback(dst, src *os.File, off, n int64) error {
	got, err := io.Copy(dst, io.NewSectionReader(src, off, n))
	if err == nil && got != n {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// prewritten lists merged files written ahead, by worktree path.
type prewritten map[string]prewrittenFile

type prewrittenFile struct {
	tmp string // temporary file beside the path, relative to the root
	id  dag.ID // the File it holds
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
