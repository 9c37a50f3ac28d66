package serve

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
	"github.com/dxdata/dx/store"
	"github.com/dxdata/dx/store/pack"
)

// The body of a GET (see doc.go): the chunks of its range are located in
// the index under the request's view, by a goroutine that never waits for
// the client, and hold their packs open; the view is released once they
// are located. Workers then decode batches of neighbouring chunks (a pack
// run read at once) ahead of the writes, through the shared cache, and the
// handler writes the batches in order.
// streamLimits are the sizes a body is streamed in.
type streamLimits struct {
	// batchBytes are the decoded bytes of one batch (at least one chunk):
	// the unit of a worker's job and of a write to the socket.
	batchBytes int64
	// window bounds the batches of one response decoded or waiting to be
	// written.
	window int
	// ahead bounds the batches decoded ahead, beyond each response's
	// first, in all responses at once.
	ahead int
	// locateWindow is how many chunks are located at a time.
	locateWindow int
	// inline: a range of this many chunks at most is located by the
	// handler itself rather than in the background.
	inline int
}

var defaultStreamLimits = streamLimits{batchBytes: 256 << 10, window: 4, ahead: 64, locateWindow: 1024, inline: 16}

const (
	// maxRunBytes bounds the stored bytes read from a pack at once.
	maxRunBytes = 1 << 20
)

// body is the chunks of a GET's range.
type body struct {
	lim  streamLimits
	loc  *store.Located
	lens []uint32 // each chunk's size, as the file says
	file dag.ID
	big  bool  // a range too big for the cache: cached only if others stream it
	base int64 // offset in the file of the first chunk (-1: none)

	cancel  context.CancelFunc
	located atomic.Int64  // chunks [0, located) are located
	notify  chan struct{} // a token when located moves on
	done    chan struct{} // closed when locating ended
	err     error         // why locating stopped, set before done
}

// rangeBody returns the body of bytes [from, to) of File id, read from r
// (the request's view): its chunks are located in the background for a
// long range, and the view is retained until they are. Call close when
// done.
func (b *bucket) rangeBody(ctx context.Context, r *repo.Repo, id dag.ID, from, to int64) (*body, error) {
	bd := &body{lim: b.srv.limits, file: id, base: -1, notify: make(chan struct{}, 1), done: make(chan struct{})}
	var ids []dag.ID
	err := walkSpans(ctx, r.Store, id, from, to, func(sp span) {
		if bd.base < 0 {
			bd.base = sp.off
		}
		ids, bd.lens = append(ids, sp.ref.ID), append(bd.lens, sp.ref.Len)
	})
	if err != nil {
		return nil, err
	}
	bd.loc = r.Store.NewLocated(dag.KindChunk, ids)
	ctx, bd.cancel = context.WithCancel(ctx)
	if len(ids) <= bd.lim.inline {
		defer close(bd.done)
		if err := bd.loc.Locate(ctx, 0, len(ids)); err != nil {
			bd.cancel()
			bd.loc.Close()
			return nil, err
		}
		bd.located.Store(int64(len(ids)))
		return bd, nil
	}
	b.view.retain()
	go func() {
		defer close(bd.done)
		defer b.view.release()
		for i := 0; i < len(ids); i += bd.lim.locateWindow {
			j := min(i+bd.lim.locateWindow, len(ids))
			if err := bd.loc.Locate(ctx, i, j); err != nil {
				bd.err = err
				return
			}
			bd.located.Store(int64(j))
			select {
			case bd.notify <- struct{}{}:
			default:
			}
		}
	}()
	return bd, nil
}

// close stops locating and releases the packs.
func (bd *body) close() {
	bd.cancel()
	<-bd.done
	bd.loc.Close()
}

// waitLocated waits until chunks [0, j) are located.
func (bd *body) waitLocated(ctx context.Context, j int) error {
	for bd.located.Load() < int64(j) {
		select {
		case <-bd.notify:
		case <-bd.done:
			if bd.located.Load() < int64(j) {
				if bd.err != nil {
					return bd.err
				}
				return context.Canceled // close stopped it
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// batch is chunks [i, j) of a body, decoded: parts are their bytes in
// order (neighbours decoded together share one part).
type batch struct {
	i, j    int
	off     int64 // offset in the file of chunk i
	parts   [][]byte
	err     error
	done    chan struct{}
	own     []*[]byte // the buffers of parts not cached, back to the pool once written
	token   bool      // holds one of the server's ahead tokens
	counted bool      // in Stats.BatchesAhead
}

// batchEnd returns the end of the batch that starts at chunk i.
func (bd *body) batchEnd(i int) (int, int64) {
	j, size := i, int64(0)
	for j < len(bd.lens) && (j == i || size+int64(bd.lens[j]) <= bd.lim.batchBytes) {
		size += int64(bd.lens[j])
		j++
	}
	return j, size
}

// writeBody writes bytes [from, to) of the file to w from bd's chunks.
func (b *bucket) writeBody(ctx context.Context, w io.Writer, bd *body, from, to int64) error {
	n := bd.loc.Len()
	if n == 0 {
		return nil
	}
	if to-from > b.srv.cache.max/4 {
		defer b.srv.streams.add(bd.file)()
		bd.big = true
	}
	if j, _ := bd.batchEnd(0); j == n { // one batch: no workers
		bt := &batch{i: 0, j: n, off: bd.base}
		if err := bd.waitLocated(ctx, n); err != nil {
			return err
		}
		defer b.putBatchBuf(bt)
		if b.decodeBatch(ctx, bd, bt); bt.err != nil {
			return bt.err
		}
		return bt.write(w, from, to)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	window := bd.lim.window
	order := make(chan *batch, window)
	jobs := make(chan *batch, window)
	// The writer signals each batch written; unread signals never exceed
	// the batches the producer counts in flight, at most window.
	written := make(chan struct{}, window)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), window) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for bt := range jobs {
				if bt.err = ctx.Err(); bt.err == nil {
					b.decodeBatch(ctx, bd, bt)
				}
				close(bt.done)
			}
		}()
	}
	go func() {
		defer close(order)
		defer close(jobs)
		inflight := 0
		for i, off := 0, bd.base; i < n; {
			j, size := bd.batchEnd(i)
			bt := &batch{i: i, j: j, off: off, done: make(chan struct{})}
			if err := bd.waitLocated(ctx, j); err != nil {
				bt.err = err
				close(bt.done)
				order <- bt // the writer drains order until it is closed
				return
			}
			// At most window in flight, and beyond the first a token
			// of the server's budget.
			for inflight >= window || (inflight > 0 && !bt.token) {
				var ahead chan struct{}
				if inflight < window {
					ahead = b.srv.ahead
				}
				select {
				case ahead <- struct{}{}:
					bt.token = true
				case <-written:
					inflight--
				case <-ctx.Done():
					return // holding no token: taking one ends the loop
				}
			}
			bt.counted = true
			b.srv.stats.batchDispatched()
			order <- bt
			jobs <- bt
			inflight++
			i, off = j, off+size
		}
	}()
	var werr error
	for bt := range order {
		<-bt.done
		if werr == nil {
			if werr = bt.err; werr == nil {
				werr = bt.write(w, from, to)
			}
			if werr != nil {
				cancel()
			}
		}
		b.putBatchBuf(bt)
		if bt.token {
			<-b.srv.ahead
		}
		if bt.counted {
			b.srv.stats.BatchesAhead.Add(-1)
		}
		select {
		case written <- struct{}{}:
		default:
		}
	}
	wg.Wait()
	return werr
}

// write writes the batch's bytes that fall in [from, to) to w.
func (bt *batch) write(w io.Writer, from, to int64) error {
	pos := bt.off
	for _, p := range bt.parts {
		lo, hi := max(from-pos, 0), min(to-pos, int64(len(p)))
		if lo < hi {
			if _, err := w.Write(p[lo:hi]); err != nil {
				return err
			}
		}
		pos += int64(len(p))
	}
	return nil
}

// decodeBatch fills bt.parts with its chunks, from the cache or decoded
// (into one buffer, from pack runs read at once) and cached, unless the
// range is too big for the cache and no other response streams the file.
func (b *bucket) decodeBatch(ctx context.Context, bd *body, bt *batch) {
	// A big range read by one response alone is not cached: it would
	// evict every other chunk, and nobody would read it back in time.
	cached := !bd.big || b.srv.streams.shared(bd.file)
	var buf []byte // the chunks this batch decodes, back to back
	seg := -1      // where the last part starts in buf, if it is there
	var runs []store.Run
	var held []*[]byte // the runs' buffers, back to the pool when done
	defer func() {
		for _, p := range held {
			b.srv.runBufs.Put(p)
		}
	}()
	for k := bt.i; k < bt.j; k++ {
		if got := bd.loc.Raw(k); got != int(bd.lens[k]) {
			bt.err = fmt.Errorf("chunk %s has %d bytes, file says %d: %w", bd.loc.ID(k).Short(), got, bd.lens[k], store.ErrCorrupt)
			return
		}
		start, decoded := len(buf), false
		load := func(context.Context) ([]byte, error) {
			run := -1
			for x := range runs {
				if runs[x].Has(k) {
					run = x
					break
				}
			}
			if run < 0 {
				p, _ := b.srv.runBufs.Get().(*[]byte)
				if p == nil {
					p = new([]byte)
				}
				r, err := bd.loc.ReadRun(k, bt.j, maxRunBytes, *p)
				if err != nil {
					b.srv.runBufs.Put(p)
					return nil, err
				}
				*p = r.Bytes()
				held, runs, run = append(held, p), append(runs, r), len(runs)
			}
			if cap(buf)-len(buf) < int(bd.lens[k])+pack.DecodeSlack { // the first chunk decoded
				var rest int
				for _, l := range bd.lens[k:bt.j] {
					rest += int(l)
				}
				if cached {
					buf = make([]byte, 0, rest+pack.DecodeSlack)
				} else {
					buf = b.getBatchBuf(bt, rest+pack.DecodeSlack)
				}
				seg, start = -1, 0
			}
			// Decoded into an empty slice with room for it, a chunk is
			// written in place (appended to bytes, it would be copied).
			out, err := runs[run].Append(k, buf[start:start])
			if err != nil {
				return nil, err
			}
			buf, decoded = buf[:start+len(out)], true
			b.srv.stats.ChunksDecoded.Add(1)
			b.srv.stats.ChunkBytesDecoded.Add(int64(len(out)))
			return buf[start:len(buf):len(buf)], nil
		}
		var data []byte
		var err error
		ref := dag.ChunkRef{ID: bd.loc.ID(k), Len: bd.lens[k]}
		if cached {
			data, err = b.cachedChunk(ctx, ref, load)
		} else if data = b.srv.cache.peek(ref.ID); data != nil {
			b.srv.stats.CacheHits.Add(1)
		} else {
			data, err = load(ctx)
		}
		if err != nil {
			bt.err = err
			return
		}
		if decoded && seg >= 0 && len(bt.parts) > 0 && seg+len(bt.parts[len(bt.parts)-1]) == start {
			bt.parts[len(bt.parts)-1] = buf[seg:len(buf)]
			continue
		}
		bt.parts = append(bt.parts, data)
		if seg = -1; decoded {
			seg = start
		}
	}
}

// getBatchBuf returns an empty buffer of n bytes at least, recycled if it
// can be, for chunks not cached; bt owns it until written.
func (b *bucket) getBatchBuf(bt *batch, n int) []byte {
	p, _ := b.srv.batchBufs.Get().(*[]byte)
	if p == nil || cap(*p) < n {
		p = &[]byte{}
		*p = make([]byte, 0, max(n, int(b.srv.limits.batchBytes)+pack.DecodeSlack))
	}
	bt.own = append(bt.own, p)
	return (*p)[:0]
}

// putBatchBuf recycles bt's own buffers, once its parts are written.
func (b *bucket) putBatchBuf(bt *batch) {
	bt.parts = nil
	for _, p := range bt.own {
		b.srv.batchBufs.Put(p)
	}
	bt.own = nil
}

// streams counts the responses streaming each file with a range too big
// for the cache.
type streams struct {
	mu sync.Mutex
	n  map[dag.ID]int
}

// add counts one more response streaming file; call the function it
// returns when it ends.
func (s *streams) add(file dag.ID) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[dag.ID]int{}
	}
	s.n[file]++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.n[file]--; s.n[file] == 0 {
			delete(s.n, file)
		}
	}
}

// shared reports whether several responses stream file.
func (s *streams) shared(file dag.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[file] > 1
}
