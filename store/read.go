package store

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/dxdata/dx/dag"
)

// CopyOptions configure CopyFile.
type CopyOptions struct {
	// Sparse: the writer is a fresh *os.File; runs of all-zero chunks are
	// skipped with Seek, leaving holes, and the file is truncated to size.
	Sparse bool
	// Workers decompress chunks in parallel. Zero: GOMAXPROCS.
	Workers int
	// Progress, if set, is called with the bytes of each chunk written.
	Progress func(n int64)
}

// inlineCopy is the size up to which CopyFile decodes a file's chunks one
// after the other on the calling goroutine: for a small file, starting
// the parallel pipeline and allocating its buffers costs more than the
// decoding. A checkout of many small files runs many copies at once.
const inlineCopy = 1 << 20

// CopyFile writes the content of File id to w, verifying every chunk. It
// prefetches and decompresses chunks in parallel and writes them in order
// with bounded memory; a small file is copied on the calling goroutine.
func (s *Store) CopyFile(ctx context.Context, id dag.ID, w io.Writer, o CopyOptions) (int64, error) {
	n, err := dag.LoadFileNode(ctx, s, id)
	if err != nil {
		return 0, err
	}
	out := newChunkWriter(w, o)
	if n.Level == 0 && refsSize(n.Chunks) <= inlineCopy {
		if err := s.copyInline(ctx, n.Chunks, out); err != nil {
			return out.written, err
		}
		return out.written, out.finish()
	}
	if err := s.copyParallel(ctx, n, out, o.Workers); err != nil {
		return out.written, err
	}
	return out.written, out.finish()
}

func refsSize(refs []dag.ChunkRef) int64 {
	var n int64
	for _, c := range refs {
		n += int64(c.Len)
	}
	return n
}

// copyInline writes chunks to out one after the other, in a buffer taken
// from the store's pool.
func (s *Store) copyInline(ctx context.Context, refs []dag.ChunkRef, out *chunkWriter) error {
	bp, _ := s.chunkBufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer s.chunkBufs.Put(bp)
	for _, c := range refs {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := s.AppendObject(ctx, dag.KindChunk, c.ID, (*bp)[:0])
		if err != nil {
			return err
		}
		*bp = b[:0]
		if len(b) != int(c.Len) {
			return fmt.Errorf("chunk %s has %d bytes, file says %d: %w", c.ID.Short(), len(b), c.Len, ErrCorrupt)
		}
		if err := out.write(b); err != nil {
			return err
		}
	}
	return nil
}

// copyParallel writes the chunks below file node root to out, read in
// runs and decompressed on workers ahead of the writes (EachChunk).
func (s *Store) copyParallel(ctx context.Context, root *dag.FileNode, out *chunkWriter, workers int) error {
	var refs []dag.ChunkRef
	if err := dag.WalkFileNode(ctx, s, root, func(c dag.ChunkRef) error {
		refs = append(refs, c)
		return nil
	}); err != nil {
		return err
	}
	return s.EachChunk(ctx, refs, workers, out.write)
}

// chunkWriter writes a file's chunks in order; with CopyOptions.Sparse,
// runs of all-zero chunks are skipped with Seek and the file truncated to
// size at the end.
type chunkWriter struct {
	w        io.Writer
	f        *os.File // set when sparse
	progress func(n int64)
	written  int64
	hole     bool
}

func newChunkWriter(w io.Writer, o CopyOptions) *chunkWriter {
	cw := &chunkWriter{w: w, progress: o.Progress}
	if o.Sparse {
		cw.f, _ = w.(*os.File)
	}
	return cw
}

func (cw *chunkWriter) write(b []byte) error {
	if cw.f != nil && allZero(b) {
		if _, err := cw.f.Seek(int64(len(b)), io.SeekCurrent); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		cw.hole = true
	} else if _, err := cw.w.Write(b); err != nil {
		return fmt.Errorf("write: %w", err)
	} else {
		cw.hole = false
	}
	cw.written += int64(len(b))
	if cw.progress != nil {
		cw.progress(int64(len(b)))
	}
	return nil
}

// finish gives a file that ends in a hole its size.
func (cw *chunkWriter) finish() error {
	if cw.f != nil && cw.hole {
		if err := cw.f.Truncate(cw.written); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	return nil
}

func allZero(b []byte) bool {
	for len(b) >= 8 {
		if b[0]|b[1]|b[2]|b[3]|b[4]|b[5]|b[6]|b[7] != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// ReadAll returns the whole content of a small File (symlink targets, tests).
func (s *Store) ReadAll(ctx context.Context, id dag.ID, limit int64) ([]byte, error) {
	var buf limitedBuffer
	buf.limit = limit
	if _, err := s.CopyFile(ctx, id, &buf, CopyOptions{Workers: 1}); err != nil {
		return nil, err
	}
	return buf.b, nil
}

type limitedBuffer struct {
	b     []byte
	limit int64
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if int64(len(l.b)+len(p)) > l.limit {
		return 0, fmt.Errorf("content larger than %d bytes: %w", l.limit, ErrCorrupt)
	}
	l.b = append(l.b, p...)
	return len(p), nil
}

// Prefetch tells the system that the objects ids will be read soon, so
// that the reads of their packs are issued together, ahead, and overlap:
// read one by one from a cold cache, each waits for the disk in turn.
// Objects not found are skipped (reading them will say so).
func (s *Store) Prefetch(ctx context.Context, ids []dag.ID) {
	type span struct{ off, n int64 }
	byPack := map[dag.ID][]span{}
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		if loc, ok, err := s.objs.find(id); err == nil && ok {
			byPack[loc.Pack] = append(byPack[loc.Pack], span{int64(loc.Offset), int64(loc.Stored)})
		}
	}
	for p, spans := range byPack {
		f, release, err := s.packFile(p)
		if err != nil {
			continue
		}
		for _, sp := range spans {
			willNeed(f, sp.off, sp.n)
		}
		release()
	}
}
