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
	type run struct{ dst, off, n int64 }
	var runs []run
	var chunks []dag.ChunkRef
	var chunkAt []int64
	var data []filePart // parts of bytes, with off set to their place in f
	var pos int64
	for _, p := range parts {
		switch {
		case p.chunk != nil:
			chunks, chunkAt = append(chunks, *p.chunk), append(chunkAt, pos)
			pos += int64(p.chunk.Len)
		case p.data != nil:
			if len(p.data) > 0 {
				data = append(data, filePart{data: p.data, off: pos})
			}
			pos += int64(len(p.data))
		case p.n > 0:
			if k := len(runs); k > 0 && runs[k-1].dst+runs[k-1].n == pos && runs[k-1].off+runs[k-1].n == p.off {
				runs[k-1].n += p.n
			} else {
				runs = append(runs, run{dst: pos, off: p.off, n: p.n})
			}
			copied += p.n
			pos += p.n
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	copyDone := make(chan error, 1)
	go func() {
		var c rangeCopier
		for _, rn := range runs {
			if ctx.Err() != nil {
				copyDone <- context.Cause(ctx)
				return
			}
			if err := c.copyRange(f, src, rn.dst, rn.off, rn.n); err != nil {
				cancel(err)
				copyDone <- err
				return
			}
			bar.Add(rn.n)
		}
		copyDone <- nil
	}()
	w := &offsetWriter{f: f, bar: bar}
	d := 0 // the next part of bytes
	writeData := func(before int64) error {
		for ; d < len(data) && data[d].off < before; d++ {
			if err := w.writeAt(data[d].data, data[d].off); err != nil {
				return err
			}
		}
		return nil
	}
	k := 0
	err = r.Store.EachChunk(ctx, chunks, 0, func(b []byte) error {
		if err := writeData(chunkAt[k]); err != nil {
			return err
		}
		err := w.writeAt(b, chunkAt[k])
		k++
		return err
	})
	if err == nil {
		err = writeData(pos)
	}
	if err == nil {
		err = w.flush()
	}
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
	return pos, copied, nil
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
