package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
)

// Reading many chunks in order (a checkout of a big file): they are
// located in the index a window at a time, in one pass each, not looked up
// one by one; a batch of neighbours is read from its pack in runs (one
// read for the chunks that lie back to back there) and decoded on a
// worker; the batches are handed on in order, with bounded memory.
const (
	eachLocateWindow = 4096    // chunks located in one pass
	eachBatchBytes   = 1 << 20 // decoded bytes of a batch (at least one chunk)
	eachRunBytes     = 1 << 20 // stored bytes read at once
)

// eachBatch is a run of chunks [from, to) decoded into out, chunk by
// chunk (ends: each chunk's end in out).
type eachBatch struct {
	from, to int
	out      []byte
	ends     []int
	err      error
	done     chan struct{}
}

// EachChunk calls fn with each chunk of refs, in order, verified; b is
// valid only during fn. Chunks are read and decompressed on workers
// goroutines (zero: GOMAXPROCS) ahead of fn. An error of fn ends it and is
// returned.
func (s *Store) EachChunk(ctx context.Context, refs []dag.ChunkRef, workers int, fn func(b []byte) error) error {
	if len(refs) == 0 {
		return nil
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ids := make([]dag.ID, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	l := s.NewLocated(dag.KindChunk, ids)
	defer l.Close()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan *eachBatch, 2*workers)
	order := make(chan *eachBatch, 4*workers)
	free := make(chan []byte, 8*workers) // batch buffers back from fn
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var run []byte
			for b := range jobs {
				if ctx.Err() == nil {
					select {
					case b.out = <-free:
					default:
					}
					run, b.err = s.decodeBatch(l, refs, b, run)
				} else {
					b.err = context.Cause(ctx)
				}
				close(b.done)
			}
		})
	}
	go func() {
		defer close(order)
		defer close(jobs)
		for w := 0; w < len(refs); w += eachLocateWindow {
			end := min(w+eachLocateWindow, len(refs))
			if err := l.Locate(ctx, w, end); err != nil {
				cancel(err)
				return
			}
			for i := w; i < end; {
				b := &eachBatch{from: i, done: make(chan struct{})}
				n := 0
				for i < end && (i == b.from || n+int(refs[i].Len) <= eachBatchBytes) {
					n += int(refs[i].Len)
					i++
				}
				b.to = i
				// Hinted as it is queued: a few batches ahead of
				// its decoding.
				l.WillNeed(b.from, b.to)
				select {
				case order <- b:
				case <-ctx.Done():
					return
				}
				select {
				case jobs <- b:
				case <-ctx.Done():
					close(b.done)
					return
				}
			}
		}
	}()
	var ferr error
	for b := range order {
		<-b.done
		if ferr != nil {
			continue
		}
		if b.err != nil {
			ferr = b.err
			cancel(ferr)
			continue
		}
		at := 0
		for _, e := range b.ends {
			if ferr = fn(b.out[at:e]); ferr != nil {
				cancel(ferr)
				break
			}
			at = e
		}
		select {
		case free <- b.out[:0]:
		default:
		}
	}
	wg.Wait()
	if ferr != nil {
		return ferr
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// decodeBatch reads batch b's chunks from their packs in runs and decodes
// them into b.out; run is a buffer for the stored bytes, returned for the
// next batch.
func (s *Store) decodeBatch(l *Located, refs []dag.ChunkRef, b *eachBatch, run []byte) ([]byte, error) {
	// Room for every chunk of the batch at once: grown chunk by chunk,
	// each decode would copy the chunks before it to a new buffer. A new
	// buffer fits any batch, so that recycled ones are never outgrown.
	need := pack.DecodeSlack
	for _, r := range refs[b.from:b.to] {
		need += int(r.Len)
	}
	if cap(b.out) < need {
		b.out = make([]byte, 0, max(need, eachBatchBytes+pack.DecodeSlack))
	}
	b.out, b.ends = b.out[:0], make([]int, 0, b.to-b.from)
	for k := b.from; k < b.to; {
		r, err := l.ReadRun(k, b.to, eachRunBytes, run)
		if err != nil {
			return run, err
		}
		if r.pack != pendingPack {
			run = r.Bytes()
		}
		for ; k < b.to && r.Has(k); k++ {
			before := len(b.out)
			if b.out, err = r.Append(k, b.out); err != nil {
				return run, err
			}
			if n := len(b.out) - before; n != int(refs[k].Len) {
				return run, fmt.Errorf("chunk %s has %d bytes, file says %d: %w", refs[k].ID.Short(), n, refs[k].Len, ErrCorrupt)
			}
			b.ends = append(b.ends, len(b.out))
		}
	}
	return run, nil
}
