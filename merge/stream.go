package merge

import (
	"context"
	"errors"
	"hash/maphash"
	"runtime"
	"slices"
	"sync"
)

// A streamed row diff finds the changes DiffRows finds, but hands them
// over in batches as it goes and holds them as file offsets, not rows:
// a diff of millions of rows shows its first rows at once and costs
// memory for its offsets. It reads what DiffRows reads (the runs of
// chunks that differ; rows equal at their ends and in between are
// skipped unparsed), in two passes. The first indexes the old version's
// differing rows by key; the second reads the new version's in file
// order and tells each, as it is met, added, changed or the same. Rows
// of the index no new row matched are the removed ones, listed last.
//
// Rows are identified by two seeded 64-bit hashes of their key, and
// compared by a seeded hash of their values (the seeds are random per
// diff, so no input can aim at a collision). Keys are checked unique in
// the old version; in the new one, only among rows that match an old
// row: versions in commits were checked whole when committed.

// ChangeRef is one row that differs, by where its versions are in the
// files: byte offsets and lengths, line ends included. A zero length
// means no row on that side.
type ChangeRef struct {
	OldOff, NewOff int64
	OldLen, NewLen uint32
}

// Kind says how the row changed.
func (c ChangeRef) Kind() RowKind {
	switch {
	case c.OldLen == 0:
		return RowAdded
	case c.NewLen == 0:
		return RowRemoved
	}
	return RowChanged
}

// StreamEvent is a batch of a streamed diff's changes: added and changed
// rows in the new version's order, then removed rows in the old one's.
type StreamEvent struct {
	// Reset voids the changes of earlier events: a run proved to end
	// inside a row, and the diff starts again over wider runs.
	Reset   bool
	Changes []ChangeRef
	// Done: this is the last event; Stats counts the diff's work.
	Done  bool
	Stats DiffStats
}

// RowStream is a row diff of two versions of a table, computed by Run and
// read back row by row with Rows, which may be called while Run goes on.
type RowStream struct {
	d      *differ
	seeds  [3]maphash.Seed // of the key's two hashes and of the values'
	mu     sync.Mutex
	header [2]Header
	chunks chunkCache
	// window and first are the window sizes (streamWindow, firstWindow
	// but in tests).
	window, first int
}

// NewRowStream prepares a streamed diff of versions a and b; nothing is
// read before Run.
func NewRowStream(t Table, a, b Source, o DiffOptions) *RowStream {
	d := &differ{table: t, opts: o, seed: maphash.MakeSeed()}
	d.sides[0], d.sides[1] = newSide(a), newSide(b)
	s := &RowStream{d: d, window: streamWindow, first: firstWindow}
	for i := range s.seeds {
		s.seeds[i] = maphash.MakeSeed()
	}
	return s
}

// streamWindow is how many bytes of a run the diff reads and parses at a
// time (a little more when a row crosses its end); the second pass
// starts at firstWindow and doubles up to it, so that the first rows come
// soon.
const (
	streamWindow = 1 << 20
	firstWindow  = 64 << 10
)

// Run computes the diff, calling emit from the calling goroutine with its
// changes in batches, the last one Done. It returns emit's error, if
// any, and stops.
func (s *RowStream) Run(ctx context.Context, emit func(StreamEvent) error) error {
	d := s.d
	d.match()
	if !d.opts.Aligned {
		d.markAll()
	}
	for restart := false; ; restart = true {
		if err := ctx.Err(); err != nil {
			return err
		}
		d.widen()
		if err := d.headers(ctx); err != nil {
			return err
		}
		s.mu.Lock()
		s.header = [2]Header{d.sides[0].header, d.sides[1].header}
		s.mu.Unlock()
		if restart {
			if err := emit(StreamEvent{Reset: true}); err != nil {
				return err
			}
		}
		err := s.pass(ctx, emit)
		var mis misaligned
		if !errors.As(err, &mis) {
			return err
		}
		// A run ends inside a row: take in the next chunk, start again.
		if mis.next >= len(d.sides[mis.side].dirty) {
			return sideErr(mis.side, mis.err)
		}
		d.mark(mis.side, mis.next)
	}
}

// Headers are the two versions' headers, known once Run has emitted.
func (s *RowStream) Headers() (old, new Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.header[0], s.header[1]
}

// pass is one diff over the current runs: the old rows indexed, then the
// new ones streamed.
func (s *RowStream) pass(ctx context.Context, emit func(StreamEvent) error) error {
	d := s.d
	d.mu.Lock()
	d.stats.BytesParsed = 0
	d.mu.Unlock()
	units := d.units()
	d.prefetch(ctx, units)
	idx, spans, err := s.indexOld(ctx, units)
	if err != nil {
		return err
	}
	if err := s.streamNew(ctx, idx, spans, emit); err != nil {
		return err
	}
	removed := idx.unmatched()
	for len(removed) > 0 {
		n := min(len(removed), 1<<16)
		if err := emit(StreamEvent{Changes: removed[:n:n]}); err != nil {
			return err
		}
		removed = removed[n:]
	}
	d.mu.Lock()
	st := d.stats
	d.mu.Unlock()
	st.BytesTotal = d.sides[0].size + d.sides[1].size
	st.Chunks = len(d.sides[0].chunks) + len(d.sides[1].chunks)
	st.FullParse = !d.opts.Aligned
	return emit(StreamEvent{Done: true, Stats: st})
}

// newSpan is a range of the new version whose rows the second pass
// reads, [lo, hi), in the run that ends before chunk runTo.
type newSpan struct {
	lo, hi int64
	runTo  int
}

// oldJob is a window of an old run and the window of the new run beside
// it (either may be nil), or a whole new run with no old rows beside it
// (span).
type oldJob struct {
	w     [2]*window
	runTo [2]int
	span  newSpan
}

// oldResult is what a window pair gives the first pass: the old rows to
// index and the new ranges to read in the second.
type oldResult struct {
	rows  []keyedRow
	spans []newSpan
}

// indexOld is the first pass: it reads the runs of both versions in
// windows, skips the rows equal on both sides, and indexes the old rows
// left; it returns the index and the new version's ranges left.
func (s *RowStream) indexOld(ctx context.Context, units []*unit) (*oldIndex, []newSpan, error) {
	d := s.d
	idx := newOldIndex(d.table.Keyed())
	var spans []newSpan
	produce := func(ctx context.Context, send func(oldJob) bool) error {
		for _, u := range units {
			if u.r[0] == nil {
				lo, hi := d.runRange(1, *u.r[1])
				if !send(oldJob{span: newSpan{lo, hi, u.r[1].to}}) {
					return ctx.Err()
				}
				continue
			}
			ra := d.runReader(0, *u.r[0], s.window)
			var rb *runReader
			if u.r[1] != nil {
				rb = d.runReader(1, *u.r[1], s.window)
			}
			for !ra.done {
				var j oldJob
				j.runTo = [2]int{u.r[0].to, -1}
				var err error
				if j.w[0], err = ra.next(ctx); err != nil {
					return sideErr(0, err)
				}
				if rb != nil && !rb.done {
					if j.w[1], err = rb.next(ctx); err != nil {
						return sideErr(1, err)
					}
					j.runTo[1] = u.r[1].to
				}
				if !send(j) {
					return ctx.Err()
				}
			}
			if rb != nil && !rb.done {
				// The rest of the new run has no old rows beside it: all
				// of it is read in the second pass.
				if !send(oldJob{span: newSpan{rb.pos, rb.hi, u.r[1].to}}) {
					return ctx.Err()
				}
			}
		}
		return nil
	}
	consume := func(r oldResult) error {
		spans = append(spans, r.spans...)
		for i := range r.rows {
			if err := idx.add(&r.rows[i]); err != nil {
				return sideErr(0, err)
			}
		}
		return nil
	}
	if err := ordered(ctx, runtime.GOMAXPROCS(0), produce, s.oldWindow, consume); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(spans, func(a, b newSpan) int { return int(a.lo - b.lo) })
	return idx, spans, nil
}

// oldWindow parses the old rows of a window pair that the new window does
// not hold byte for byte.
func (s *RowStream) oldWindow(ctx context.Context, j oldJob) (oldResult, error) {
	d := s.d
	if j.w[0] == nil && j.w[1] == nil {
		return oldResult{spans: []newSpan{j.span}}, nil
	}
	var data [2][]byte
	var start [2]int64
	for k, w := range j.w {
		if w == nil {
			continue
		}
		if err := w.load(ctx, d); err != nil {
			return oldResult{}, sideErr(k, err)
		}
		data[k], start[k] = w.data, w.off
		defer d.bufs.put(w.buf)
	}
	var spans [2][][2]int
	// Rows equal byte for byte are the same rows on both sides, unless
	// the headers differ (then every row is compared by its columns).
	if j.w[0] != nil && j.w[1] != nil && slices.Equal(d.sides[0].header.Cols, d.sides[1].header.Cols) {
		var cut int
		data[0], data[1], cut = trimCommon(data[0], data[1], cutterOf(d.table))
		start[0] += int64(cut)
		start[1] += int64(cut)
		spans, _ = d.unmatched(data, start, [2]bool{j.w[0].atEOF, j.w[1].atEOF})
	}
	var res oldResult
	for k := range data {
		if spans[k] == nil && j.w[k] != nil {
			spans[k] = [][2]int{{0, len(data[k])}}
		}
	}
	for _, x := range spans[0] {
		if x[1] == x[0] {
			continue
		}
		d.addParsed(x[1] - x[0])
		rows, err := d.parse(ctx, 0, data[0][x[0]:x[1]], start[0]+int64(x[0]), j.w[0].atEOF && x[1] == len(data[0]))
		if errors.Is(err, ErrMisaligned) {
			return res, misaligned{side: 0, next: j.runTo[0], err: err}
		}
		if err != nil {
			return res, err
		}
		for i := range rows {
			res.rows = append(res.rows, s.keyedRow(&rows[i]))
		}
	}
	for _, x := range spans[1] {
		if x[1] > x[0] {
			res.spans = append(res.spans, newSpan{start[1] + int64(x[0]), start[1] + int64(x[1]), j.runTo[1]})
		}
	}
	return res, nil
}

// newJob is a window of the new version and the parts of it to parse.
type newJob struct {
	w     *window
	parts [][2]int // byte ranges of w.data
	runTo int
}

// streamNew is the second pass: it reads the new version's ranges in file
// order, tells each row added, changed or the same against the index,
// and emits the changes a window at a time.
func (s *RowStream) streamNew(ctx context.Context, idx *oldIndex, spans []newSpan, emit func(StreamEvent) error) error {
	d := s.d
	idx.startMatching()
	produce := func(ctx context.Context, send func(newJob) bool) error {
		size := s.first
		for i := 0; i < len(spans); {
			// One reader over the spans of a run that lie close together,
			// so that a chunk holding several is read once.
			j := i + 1
			for j < len(spans) && spans[j].runTo == spans[i].runTo && spans[j].lo-spans[j-1].hi < int64(s.window/8) {
				j++
			}
			group := spans[i:j]
			i = j
			rr := d.rangeReader(1, group[0].lo, group[len(group)-1].hi, size)
			for !rr.done {
				w, err := rr.next(ctx)
				if err != nil {
					return sideErr(1, err)
				}
				rr.size = min(2*rr.size, s.window)
				size = rr.size
				job := newJob{w: w, runTo: group[0].runTo}
				end := w.off + int64(len(w.data))
				for _, sp := range group {
					lo, hi := max(sp.lo, w.off), min(sp.hi, end)
					if lo < hi {
						job.parts = append(job.parts, [2]int{int(lo - w.off), int(hi - w.off)})
					}
				}
				if !send(job) {
					return ctx.Err()
				}
			}
		}
		return nil
	}
	consume := func(rows []keyedRow) error {
		var out []ChangeRef
		for i := range rows {
			c, err := idx.match(&rows[i])
			if err != nil {
				return sideErr(1, err)
			}
			if c.NewLen > 0 {
				out = append(out, c)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return emit(StreamEvent{Changes: out})
	}
	return ordered(ctx, runtime.GOMAXPROCS(0), produce, s.newWindow, consume)
}

// newWindow parses the parts of a window of the new version.
func (s *RowStream) newWindow(ctx context.Context, j newJob) ([]keyedRow, error) {
	d := s.d
	defer d.bufs.put(j.w.buf)
	var out []keyedRow
	for _, x := range j.parts {
		d.addParsed(x[1] - x[0])
		rows, err := d.parse(ctx, 1, j.w.data[x[0]:x[1]], j.w.off+int64(x[0]), j.w.atEOF && x[1] == len(j.w.data))
		if errors.Is(err, ErrMisaligned) {
			return nil, misaligned{side: 1, next: j.runTo, err: err}
		}
		if err != nil {
			return nil, err
		}
		for i := range rows {
			out = append(out, s.keyedRow(&rows[i]))
		}
	}
	return out, nil
}

// keyedRow is a parsed row as the stream keeps it: where it is, its key
// (for error messages) and its hashes.
type keyedRow struct {
	key         string
	off         int64
	len         uint32
	kh, kh2, vh uint64
}

func (s *RowStream) keyedRow(r *Row) keyedRow {
	return keyedRow{
		key: r.Key, off: r.Off, len: uint32(r.End - r.Off),
		kh:  maphash.String(s.seeds[0], r.Key),
		kh2: maphash.String(s.seeds[1], r.Key),
		vh:  valuesHash(s.seeds[2], r),
	}
}

// valuesHash is a hash of a row's values by column name, whatever the
// columns' order: the sum of a hash of each column's name and value.
// Rows whose changedColumns is empty hash the same.
func valuesHash(seed maphash.Seed, r *Row) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	var sum uint64
	for i, c := range r.Cols {
		h.Reset()
		h.WriteString(c)
		h.WriteByte(0)
		h.WriteString(r.Vals[i])
		sum += h.Sum64()
	}
	return sum
}

func (d *differ) addParsed(n int) {
	d.mu.Lock()
	d.stats.BytesParsed += int64(n)
	d.mu.Unlock()
}
