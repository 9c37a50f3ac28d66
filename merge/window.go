package merge

import (
	"bytes"
	"context"
	"fmt"
	"sync"
)

// window is a piece of one version's file that starts and ends at row
// boundaries: the unit a streamed diff reads and parses.
type window struct {
	data  []byte
	buf   []byte // data's buffer, given back to the differ's bufs when done
	off   int64  // file offset of data[0]
	atEOF bool   // data ends the file
	// lazy: data is not read yet; load reads [off, end), which lies in
	// chunks of side k.
	lazy   bool
	k      int
	end    int64
	chunks span
}

// load reads a lazy window's bytes.
func (w *window) load(ctx context.Context, d *differ) error {
	if !w.lazy {
		return nil
	}
	s := d.sides[w.k]
	base := s.offs[w.chunks.from]
	buf := d.bufs.get(s.offs[w.chunks.to-1] + int64(s.chunks[w.chunks.to-1].Len) - base)
	if err := d.readInto(ctx, s, w.chunks, buf); err != nil {
		d.bufs.put(buf)
		return err
	}
	w.buf, w.data, w.lazy = buf, buf[w.off-base:w.end-base], false
	return nil
}

// runReader reads a byte range of one version, [pos, hi), in windows of
// about size bytes cut at row ends. pos and hi are row boundaries (hi the
// end of a run, which widen made one).
type runReader struct {
	d *differ
	k int
	// lazy: every chunk boundary where a window may end is a row
	// boundary (the file was cut at row ends), so windows are cut at
	// chunk boundaries without reading, and read by whoever loads them.
	lazy    bool
	pos, hi int64  // the next byte to hand out, and the end
	chunk   int    // the next chunk to read
	carry   []byte // bytes from pos on, read but not handed out
	size    int
	done    bool
}

// runRange is the byte range of run r of side k, past the header.
func (d *differ) runRange(k int, r span) (lo, hi int64) {
	s := d.sides[k]
	lo, hi = s.offs[r.from], s.offs[r.to-1]+int64(s.chunks[r.to-1].Len)
	if r.from == 0 {
		lo += int64(s.hdrLen)
	}
	return lo, hi
}

func (d *differ) runReader(k int, r span, size int) *runReader {
	lo, hi := d.runRange(k, r)
	rr := d.rangeReader(k, lo, hi, size)
	rr.lazy = d.opts.Aligned
	return rr
}

func (d *differ) rangeReader(k int, lo, hi int64, size int) *runReader {
	return &runReader{d: d, k: k, pos: lo, hi: hi, chunk: d.sides[k].chunkAt(lo), size: size, done: lo >= hi}
}

// next reads the next window (or, lazy, says where it is). Its buffer
// goes back to d.bufs once the window is done with.
func (r *runReader) next(ctx context.Context) (*window, error) {
	s := r.d.sides[r.k]
	if r.lazy {
		// Chunks up to size bytes and then to a boundary that is a row
		// boundary, or to the run's end (which widen made one).
		from, to := r.chunk, r.chunk
		var n int64
		for to < len(s.chunks) && s.offs[to] < r.hi {
			n += int64(s.chunks[to].Len)
			to++
			if n >= int64(r.size) && r.d.trusted(s, to-1) {
				break
			}
		}
		end := min(s.offs[to-1]+int64(s.chunks[to-1].Len), r.hi)
		w := &window{lazy: true, k: r.k, off: r.pos, end: end, chunks: span{from, to}, atEOF: end == s.size}
		r.pos, r.chunk, r.done = end, to, end >= r.hi
		return w, nil
	}
	for {
		// Read chunks until the window holds size bytes or the range ends.
		from, to := r.chunk, r.chunk
		var n int64
		for to < len(s.chunks) && s.offs[to] < r.hi && (n < int64(r.size) || to == from) {
			n += int64(s.chunks[to].Len)
			to++
		}
		if from == to {
			return nil, fmt.Errorf("range %d-%d: past the file's end", r.pos, r.hi)
		}
		skip := int64(0)
		if s.offs[from] < r.pos+int64(len(r.carry)) {
			skip = r.pos + int64(len(r.carry)) - s.offs[from] // the range starts inside this chunk
		}
		buf := r.d.bufs.get(int64(len(r.carry)) + n)
		copy(buf, r.carry)
		if err := r.d.readInto(ctx, s, span{from, to}, buf[len(r.carry):]); err != nil {
			return nil, err
		}
		if skip > 0 {
			copy(buf[len(r.carry):], buf[int64(len(r.carry))+skip:])
			buf = buf[:int64(len(buf))-skip]
		}
		r.chunk = to
		end := r.pos + int64(len(buf)) // file offset just past buf
		if end >= r.hi {
			buf = buf[:r.hi-r.pos]
			w := &window{data: buf, buf: buf, off: r.pos, atEOF: r.hi == s.size}
			r.pos, r.carry, r.done = r.hi, nil, true
			return w, nil
		}
		cut := lastRowEnd(buf, cutterOf(r.d.table))
		r.carry = append(r.carry[:0], buf[cut:]...)
		if cut == 0 {
			r.d.bufs.put(buf) // no row ends in it yet: read on
			continue
		}
		w := &window{data: buf[:cut], buf: buf, off: r.pos}
		r.pos += int64(cut)
		return w, nil
	}
}

// lastRowEnd is the offset just past the last row end in data, which
// starts at a row boundary; 0 if no row ends in it.
func lastRowEnd(data []byte, c rowCutter) int {
	if !c.quoted {
		return bytes.LastIndexByte(data, '\n') + 1
	}
	last := 0
	for p := 0; p < len(data); {
		if p = c.end(data, p); p < 0 {
			break
		}
		last = p
	}
	return last
}

// ordered runs work on the jobs produce sends, in workers goroutines, and
// hands the results to consume in the order the jobs were sent, from the
// calling goroutine. At most twice workers jobs are in flight. An error
// is met in that order too: the first job's to fail (that of a later job
// is not seen while an earlier one may still fail another way) stops the
// others and is returned.
func ordered[J, R any](ctx context.Context, workers int, produce func(ctx context.Context, send func(J) bool) error, work func(context.Context, J) (R, error), consume func(R) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type item struct {
		seq int
		job J
		res R
		err error
	}
	jobs := make(chan item)
	done := make(chan item, 2*workers)
	slots := make(chan struct{}, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range jobs {
				it.res, it.err = work(ctx, it.job)
				it.job = *new(J)
				done <- it
			}
		}()
	}
	produced := make(chan error, 1)
	go func() {
		seq := 0
		err := produce(ctx, func(j J) bool {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return false
			}
			select {
			case jobs <- item{seq: seq, job: j}:
				seq++
				return true
			case <-ctx.Done():
				return false
			}
		})
		close(jobs)
		if err != nil {
			cancel()
		}
		produced <- err
	}()
	go func() {
		wg.Wait()
		close(done)
	}()
	pending := map[int]item{}
	next := 0
	var err error
	for it := range done {
		if err != nil {
			continue // drain
		}
		pending[it.seq] = it
		for p, ok := pending[next]; ok && err == nil; p, ok = pending[next] {
			delete(pending, next)
			next++
			<-slots
			if err = p.err; err == nil {
				err = consume(p.res)
			}
			if err != nil {
				cancel()
			}
		}
	}
	if perr := <-produced; err == nil {
		err = perr
	}
	return err
}
