package merge

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// parallelBytes: runs and parses bigger than this are split over cores.
const parallelBytes = 1 << 20

// read appends chunk i of s to dst.
func (d *differ) read(ctx context.Context, s *side, i int, dst []byte) ([]byte, error) {
	if b, ok := s.cache[i]; ok {
		return append(dst, b...), nil
	}
	n := len(dst)
	out, err := s.src.AppendChunk(ctx, i, dst)
	if err != nil {
		return nil, err
	}
	if len(out)-n != int(s.chunks[i].Len) {
		return nil, fmt.Errorf("chunk %d: %d bytes, expected %d", i, len(out)-n, s.chunks[i].Len)
	}
	d.mu.Lock()
	d.stats.BytesRead += int64(len(out) - n)
	d.stats.ChunksRead++
	d.mu.Unlock()
	return out, nil
}

// readRun reads the chunks of a run into one buffer, decompressing each
// straight into its place, in parallel for long runs. The caller gives
// the buffer back to d.bufs once done with it.
func (d *differ) readRun(ctx context.Context, s *side, r span) ([]byte, error) {
	size := s.offs[r.to-1] + int64(s.chunks[r.to-1].Len) - s.offs[r.from]
	buf := d.bufs.get(size)
	if err := d.readInto(ctx, s, r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// readInto reads the chunks of run r into buf, which holds exactly them.
func (d *differ) readInto(ctx context.Context, s *side, r span, buf []byte) error {
	base := s.offs[r.from]
	size := int64(len(buf))
	n := r.to - r.from
	workers := 1
	if size >= parallelBytes {
		workers = min(runtime.GOMAXPROCS(0), n)
	}
	var next atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := r.from + int(next.Add(1)-1)
				if i >= r.to || errs[w] != nil {
					return
				}
				o := s.offs[i] - base
				end := o + int64(s.chunks[i].Len)
				slot := buf[o:o:end]
				out, err := d.read(ctx, s, i, slot)
				if err != nil {
					errs[w] = err
					return
				}
				if len(out) > 0 && &out[0] != &buf[o] {
					copy(buf[o:end], out) // the source did not fill the slot in place
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// prefetch tells the sides' sources which of their chunks the units read.
func (d *differ) prefetch(ctx context.Context, units []*unit) {
	for k, s := range d.sides {
		pf, ok := s.src.(Prefetcher)
		if !ok {
			continue
		}
		var idx []int
		for _, u := range units {
			if r := u.r[k]; r != nil {
				for i := r.from; i < r.to; i++ {
					idx = append(idx, i)
				}
			}
		}
		if len(idx) > 0 {
			pf.Prefetch(ctx, idx)
		}
	}
}

// runBuffers recycles the buffers runs are read into: rows are parsed
// into strings of their own, so a run's buffer is free once its unit is
// parsed (or its rewrite written), and fresh memory costs a page fault
// every 4 KiB, more than decoding the bytes into it. A free list under a
// mutex, not a sync.Pool, which every GC empties.
type runBuffers struct {
	mu   sync.Mutex
	free [][]byte
}

// bufQuantum rounds run buffers up, so that one fits most later runs:
// a run is a chunk or a few, and a line-mode chunk at most 256 KiB.
const bufQuantum = 256 << 10

// get returns a buffer of length size, recycled if one is free.
func (p *runBuffers) get(size int64) []byte {
	p.mu.Lock()
	best := -1
	for i, b := range p.free {
		if int64(cap(b)) >= size && (best < 0 || cap(b) < cap(p.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := p.free[best]
		p.free = slices.Delete(p.free, best, best+1)
		p.mu.Unlock()
		return b[:size]
	}
	p.mu.Unlock()
	return make([]byte, size, (size+bufQuantum-1)/bufQuantum*bufQuantum)
}

// put gives a buffer from get back.
func (p *runBuffers) put(b []byte) {
	p.mu.Lock()
	p.free = append(p.free, b[:0])
	p.mu.Unlock()
}
