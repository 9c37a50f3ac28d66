package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
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

// CopyFile writes the content of File id to w, verifying every chunk. It
// prefetches and decompresses chunks in parallel and writes them in order
// with bounded memory.
func (s *Store) CopyFile(ctx context.Context, id dag.ID, w io.Writer, o CopyOptions) (int64, error) {
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type job struct {
		seq int
		ref dag.ChunkRef
		out chan []byte
	}
	jobs := make(chan job, 2*workers)
	order := make(chan job, 4*workers)
	// Chunk buffers go back to the workers once written: a checkout of a
	// big file then allocates a few of them, not one per chunk.
	free := make(chan []byte, 8*workers)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if ctx.Err() != nil {
					close(j.out)
					continue
				}
				var buf []byte
				select {
				case buf = <-free:
				default:
					buf = make([]byte, 0, j.ref.Len+pack.DecodeSlack)
				}
				b, err := s.AppendObject(ctx, dag.KindChunk, j.ref.ID, buf[:0])
				if err == nil && len(b) != int(j.ref.Len) {
					err = fmt.Errorf("chunk %s has %d bytes, file says %d: %w", j.ref.ID.Short(), len(b), j.ref.Len, ErrCorrupt)
				}
				if err != nil {
					cancel(err)
					close(j.out)
					continue
				}
				j.out <- b
			}
		}()
	}
	go func() {
		defer close(order)
		defer close(jobs)
		seq := 0
		err := dag.WalkFile(ctx, s, id, func(c dag.ChunkRef) error {
			j := job{seq: seq, ref: c, out: make(chan []byte, 1)}
			seq++
			select {
			case order <- j:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			return nil
		})
		if err != nil {
			cancel(err)
		}
	}()
	var written int64
	var f *os.File
	if o.Sparse {
		f, _ = w.(*os.File)
	}
	var hole bool
	var werr error
	for j := range order {
		b, ok := <-j.out
		if !ok || werr != nil {
			continue
		}
		if f != nil && allZero(b) {
			if _, err := f.Seek(int64(len(b)), io.SeekCurrent); err != nil {
				werr = err
			}
			hole = true
		} else if _, err := w.Write(b); err != nil {
			werr = err
		} else {
			hole = false
		}
		written += int64(len(b))
		if o.Progress != nil {
			o.Progress(int64(len(b)))
		}
		select {
		case free <- b:
		default:
		}
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return written, err
	} else if err := ctx.Err(); err != nil && werr == nil {
		return written, err
	}
	if werr != nil {
		return written, fmt.Errorf("write: %w", werr)
	}
	if f != nil && hole {
		if err := f.Truncate(written); err != nil {
			return written, fmt.Errorf("write: %w", err)
		}
	}
	return written, nil
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
	_ = s.viewObjects(func(txn *badger.Txn) error {
		for _, id := range ids {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			it, err := txn.Get(objKey(id))
			if err != nil {
				continue
			}
			_ = it.Value(func(v []byte) error {
				if loc, err := decodeLoc(v); err == nil {
					byPack[loc.Pack] = append(byPack[loc.Pack], span{int64(loc.Offset), int64(loc.Stored)})
				}
				return nil
			})
		}
		return nil
	})
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
