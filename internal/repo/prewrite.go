package repo

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// prewriteMerged writes a merged table, built on ours, into a temporary
// file beside its worktree file p, which holds ours (ourFile): the runs of
// ours' chunks it keeps are copied from p within the kernel, the new
// bytes written. Done while the merge stores the same bytes, it leaves the
// worktree update a rename. The name of the file is returned, "" if p was
// not trusted to hold ours (the worktree update then writes p as usual).
func (r *Repo) prewriteMerged(ctx context.Context, p string, ours *dag.TreeEntry, ourFile *checkedOut, merged mergedPieces) (string, error) {
	var e store.StatEntry
	found := false
	if err := r.Store.LookupStats(ctx, []string{p}, func(_ int, se store.StatEntry) { e, found = se, true }); err != nil {
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
	tmp, err := writeTemp(root, r.tmpName(p), ours.Mode, func(f *os.File) error { return writePieces(ctx, f, ourFile.f, merged) })
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
// side's chunks read with read, runs of chunks contiguous in src (the
// built-on side's file) copied from it.
func writePieces(ctx context.Context, dst, src *os.File, merged mergedPieces) error {
	pieces, read := merged.pieces, merged.read
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
