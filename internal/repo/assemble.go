package repo

import (
	"context"
	"os"

	"github.com/dxdata/dx/dag"
)

// filePart is a piece of a file being written: a chunk from the store,
// bytes as they are, or (neither) n bytes of a source file at off.
type filePart struct {
	chunk *dag.ChunkRef
	data  []byte
	off   int64
	n     int64
}

// assemble writes parts back to back into f from its start: the runs
// copied from src (see copyRange: extents shared where the file system
// can) on a goroutine of their own, each at its place, while the store's
// chunks are read and decompressed on all cores and written at theirs
// with the bytes given. The two costs overlap, instead of a copy waiting
// for each chunk read cold and each read for the copy before it. copied
// counts the bytes copied from src.
func (r *Repo) assemble(ctx context.Context, f, src *os.File, parts []filePart, bar interface{ Add(int64) }) (n, copied int64, err error) {
	a := layOut(parts)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	copyDone := a.copyRuns(ctx, cancel, f, src, bar, nil)
	err = r.fill(ctx, f, a, bar)
	if err != nil {
		cancel(err)
	}
	// (A failed copy cancels the reads with itself as the cause, which
	// EachChunk returns: the copy's error either way.)
	if cerr := <-copyDone; err == nil {
		err = cerr
	}
	if err != nil {
		return 0, 0, err
	}
	return a.size, a.copied, nil
}

// assembly is a file laid out from parts: the runs to copy from a source
// file, the store's chunks and the bytes given, each at its place.
type assembly struct {
	runs    []copyRun
	chunks  []dag.ChunkRef
	chunkAt []int64
	data    []filePart // parts of bytes, with off set to their place
	size    int64
	copied  int64 // the bytes of the runs
}

// copyRun is n bytes of the source at off, copied to dst in the file.
type copyRun struct{ dst, off, n int64 }

// layOut places parts back to back, joining the runs that follow one
// another in both files.
func layOut(parts []filePart) *assembly {
	a := &assembly{}
	var pos int64
	for _, p := range parts {
		switch {
		case p.chunk != nil:
			a.chunks, a.chunkAt = append(a.chunks, *p.chunk), append(a.chunkAt, pos)
			pos += int64(p.chunk.Len)
		case p.data != nil:
			if len(p.data) > 0 {
				a.data = append(a.data, filePart{data: p.data, off: pos})
			}
			pos += int64(len(p.data))
		case p.n > 0:
			if k := len(a.runs); k > 0 && a.runs[k-1].dst+a.runs[k-1].n == pos && a.runs[k-1].off+a.runs[k-1].n == p.off {
				a.runs[k-1].n += p.n
			} else {
				a.runs = append(a.runs, copyRun{dst: pos, off: p.off, n: p.n})
			}
			a.copied += p.n
			pos += p.n
		}
	}
	a.size = pos
	return a
}

// shareOffsets maps each chunk of a file to its first offset in it.
func shareOffsets(chunks []dag.ChunkRef) map[dag.ID]int64 {
	at := make(map[dag.ID]int64, len(chunks))
	var off int64
	for _, c := range chunks {
		if _, ok := at[c.ID]; !ok {
			at[c.ID] = off
		}
		off += int64(c.Len)
	}
	return at
}

// sharedParts lays chunks out as runs of the file whose chunks are at
// offsets at, where it has them, and chunks from the store.
func sharedParts(chunks []dag.ChunkRef, at map[dag.ID]int64) []filePart {
	parts := make([]filePart, len(chunks))
	for i := range chunks {
		if off, ok := at[chunks[i].ID]; ok {
			parts[i] = filePart{off: off, n: int64(chunks[i].Len)}
		} else {
			parts[i] = filePart{chunk: &chunks[i]}
		}
	}
	return parts
}

// without returns a with only the chunks not done (by index).
func (a *assembly) without(done []bool) *assembly {
	rest := *a
	rest.chunks, rest.chunkAt = nil, nil
	for k, c := range a.chunks {
		if !done[k] {
			rest.chunks, rest.chunkAt = append(rest.chunks, c), append(rest.chunkAt, a.chunkAt[k])
		}
	}
	return &rest
}

// fill writes the store's chunks and the bytes given into f at their
// places.
func (r *Repo) fill(ctx context.Context, f *os.File, a *assembly, bar interface{ Add(int64) }) error {
	w := &offsetWriter{f: f, bar: bar}
	d := 0 // the next part of bytes
	writeData := func(before int64) error {
		for ; d < len(a.data) && a.data[d].off < before; d++ {
			if err := w.writeAt(a.data[d].data, a.data[d].off); err != nil {
				return err
			}
		}
		return nil
	}
	k := 0
	err := r.Store.EachChunk(ctx, a.chunks, 0, func(b []byte) error {
		if err := writeData(a.chunkAt[k]); err != nil {
			return err
		}
		err := w.writeAt(b, a.chunkAt[k])
		k++
		return err
	})
	if err == nil {
		err = writeData(a.size)
	}
	if err == nil {
		err = w.flush()
	}
	return err
}

// offsetWriter gathers writes at offsets that follow one another into
// one write of up to a MiB.
type offsetWriter struct {
	f   *os.File
	bar interface{ Add(int64) }
	buf []byte
	at  int64 // where buf goes
}

func (w *offsetWriter) writeAt(b []byte, off int64) error {
	if len(w.buf) > 0 && (off != w.at+int64(len(w.buf)) || len(w.buf)+len(b) > 1<<20) {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if len(w.buf) == 0 {
		w.at = off
	}
	w.buf = append(w.buf, b...)
	return nil
}

func (w *offsetWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.f.WriteAt(w.buf, w.at)
	w.bar.Add(int64(len(w.buf)))
	w.buf = w.buf[:0]
	return err
}
