package merge

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dxdata/dx/dag"
)

// Source is one version of a table file: its chunks in order and a way to
// read one. AppendChunk appends chunk i's bytes to dst; it may be called
// from several goroutines.
type Source interface {
	Chunks() []dag.ChunkRef
	AppendChunk(ctx context.Context, i int, dst []byte) ([]byte, error)
}

// Prefetcher is a Source that can be told which chunks will be read, so
// that it can start reading them all at once.
type Prefetcher interface {
	Prefetch(ctx context.Context, chunks []int)
}

// prefetch tells the sides' sources which of their chunks the units read.
func (d *differ) prefetch(ctx context.Context, us []*unit) {
	for k, s := range d.sides {
		pf, ok := s.src.(Prefetcher)
		if !ok {
			continue
		}
		var idx []int
		for _, u := range us {
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

// RowKind says how a row changed.
type RowKind string

// Row change kinds.
const (
	RowAdded   RowKind = "added"
	RowRemoved RowKind = "removed"
	RowChanged RowKind = "changed"
)

// RowChange is one row that differs. Old is nil for an added row, New for
// a removed one. Columns lists the changed columns of a changed row.
type RowChange struct {
	Kind    RowKind
	Key     string
	Old     *Row
	New     *Row
	Columns []string
}

// DiffStats count the work a row diff did.
type DiffStats struct {
	BytesTotal  int64 `json:"bytes_total"`  // both versions' sizes
	BytesRead   int64 `json:"bytes_read"`   // chunk bytes read (both sides)
	BytesParsed int64 `json:"bytes_parsed"` // bytes handed to the parser
	Chunks      int   `json:"chunks"`       // chunks in both versions
	ChunksRead  int   `json:"chunks_read"`
	FullParse   bool  `json:"full_parse"` // chunk boundaries could not be trusted
}

// RowDiff is the row-level difference of two versions of a table.
type RowDiff struct {
	OldHeader, NewHeader Header
	Changes              []RowChange // removed (old order), then changed and added (new order)
	Stats                DiffStats

	d  *differ // how the chunks of the two versions correspond (for merges)
	us []*unit
}

// DiffOptions tell DiffRows what it may assume about chunk boundaries.
type DiffOptions struct {
	// Aligned: the files were cut only at row ends, except after a chunk
	// of exactly MaxChunk bytes (the chunker found no row end in range).
	// Without it both files are parsed whole.
	Aligned  bool
	MaxChunk int
}

// DiffRows compares two versions of a table by rows. Chunks present in
// both versions hold the same rows and are not read: only the runs of
// chunks that differ are read and parsed (widened where a boundary may
// not be a row boundary), and rows equal at the start and end of paired
// runs are skipped without parsing. The cost follows the change.
func DiffRows(ctx context.Context, t Table, a, b Source, o DiffOptions) (*RowDiff, error) {
	return diffRows(ctx, t, a, b, o, nil)
}

// diffRows is DiffRows; with only set, it reads and compares only the runs
// of changed chunks whose chunks of a, [from, to), only accepts (and the
// runs of b that replace none of a's): the result lists the changes in
// those alone.
func diffRows(ctx context.Context, t Table, a, b Source, o DiffOptions, only func(from, to int) bool) (*RowDiff, error) {
	d := &differ{t: t, o: o, seed: maphash.MakeSeed(), only: only}
	d.sides[0] = newSide(a)
	d.sides[1] = newSide(b)
	d.match()
	if !o.Aligned {
		d.markAll()
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d.widen()
		if err := d.headers(ctx); err != nil {
			return nil, err
		}
		res, err := d.run(ctx)
		if errors.Is(err, errWiden) {
			continue // some run was widened; try again
		}
		if err != nil {
			return nil, err
		}
		return res, nil
	}
}

var errWiden = errors.New("widen")

type side struct {
	src     Source
	chunks  []dag.ChunkRef
	offs    []int64 // offset of each chunk
	size    int64
	dirty   []bool
	partner []int // index of the same chunk on the other side, or -1
	header  Header
	hdrLen  int
	cache   map[int][]byte // chunks read for the header
}

func newSide(src Source) *side {
	cs := src.Chunks()
	s := &side{src: src, chunks: cs, offs: make([]int64, len(cs)), dirty: make([]bool, len(cs)), partner: make([]int, len(cs)), cache: map[int][]byte{}}
	for i, c := range cs {
		s.offs[i] = s.size
		s.size += int64(c.Len)
		s.partner[i] = -1
	}
	return s
}

type differ struct {
	t     Table
	o     DiffOptions
	sides [2]*side
	mu    sync.Mutex
	stats DiffStats
	// bufs recycles the buffers runs are read into: rows are parsed
	// into strings of their own, so a run's buffer is free once its unit
	// is parsed, and fresh memory costs a page fault every 4 KiB (on the
	// machines measured, ~14 µs: more than decoding the bytes). A free
	// list under mu, not a sync.Pool, which every GC empties.
	bufs [][]byte
	seed maphash.Seed
	only func(from, to int) bool // see diffRows
}

// match pairs equal chunks of the two sides (the k-th occurrence of an ID
// on one side with its k-th on the other) and marks the rest dirty.
func (d *differ) match() {
	a, b := d.sides[0], d.sides[1]
	occ := map[dag.ID][]int{}
	for i, c := range b.chunks {
		occ[c.ID] = append(occ[c.ID], i)
	}
	for i, c := range a.chunks {
		if js := occ[c.ID]; len(js) > 0 {
			a.partner[i], b.partner[js[0]] = js[0], i
			occ[c.ID] = js[1:]
		}
	}
	for _, s := range d.sides {
		for i := range s.chunks {
			s.dirty[i] = s.partner[i] < 0
		}
	}
}

func (d *differ) markAll() {
	for _, s := range d.sides {
		for i := range s.dirty {
			s.dirty[i] = true
		}
	}
}

// trusted reports whether the boundary after chunk i of s is a row boundary.
func (d *differ) trusted(s *side, i int) bool {
	return d.o.Aligned && (d.o.MaxChunk <= 0 || int(s.chunks[i].Len) < d.o.MaxChunk)
}

// mark makes chunk i of side k dirty, and its partner on the other side,
// so that the rows of a shared chunk are parsed on both sides or neither.
func (d *differ) mark(k, i int) bool {
	s := d.sides[k]
	if s.dirty[i] {
		return false
	}
	s.dirty[i] = true
	if j := s.partner[i]; j >= 0 {
		d.sides[1-k].dirty[j] = true
	}
	return true
}

// widen grows dirty runs over boundaries that may not be row boundaries,
// until every run starts and ends at one.
func (d *differ) widen() {
	for changed := true; changed; {
		changed = false
		for k, s := range d.sides {
			for i := range s.dirty {
				if !s.dirty[i] {
					continue
				}
				if i > 0 && !s.dirty[i-1] && !d.trusted(s, i-1) {
					changed = d.mark(k, i-1) || changed
				}
				if i+1 < len(s.dirty) && !s.dirty[i+1] && !d.trusted(s, i) {
					changed = d.mark(k, i+1) || changed
				}
			}
		}
	}
}

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

// headers parses both sides' headers from their first chunks. If they
// differ, every row must be compared by column name: both sides are
// parsed whole.
func (d *differ) headers(ctx context.Context) error {
	for k, s := range d.sides {
		if len(s.chunks) == 0 {
			s.header, s.hdrLen = Header{}, 0
			continue
		}
		var buf []byte
		for i := 0; i < len(s.chunks); i++ {
			n := len(buf)
			var err error
			if buf, err = d.read(ctx, s, i, buf); err != nil {
				return err
			}
			s.cache[i] = buf[n:len(buf):len(buf)]
			h, n, err := d.t.Header(buf, i == len(s.chunks)-1)
			if errors.Is(err, ErrMisaligned) {
				continue
			}
			if err != nil {
				return sideErr(k, err)
			}
			// A header longer than the first chunk ends in a chunk cut
			// off mid-row, so widen keeps it in the first run.
			s.header, s.hdrLen = h, n
			break
		}
	}
	if !slices.Equal(d.sides[0].header.Cols, d.sides[1].header.Cols) {
		d.markAll()
	}
	return nil
}

// absLine makes the line of a LineError count from the start of the file,
// given the file offset where the parsed bytes began. It reads the chunks
// before that offset: errors are rare, and only they pay for this.
func (d *differ) absLine(ctx context.Context, k int, off int64, err error) error {
	var le *LineError
	if !errors.As(err, &le) || off == 0 {
		return err
	}
	s := d.sides[k]
	lines := 0
	for i := 0; i < len(s.chunks) && s.offs[i] < off; i++ {
		b, rerr := d.read(ctx, s, i, nil)
		if rerr != nil {
			return err
		}
		if end := s.offs[i] + int64(len(b)); end > off {
			b = b[:off-s.offs[i]]
		}
		lines += bytes.Count(b, []byte{'\n'})
	}
	return &LineError{Line: le.Line + lines, Err: le.Err}
}

// span is a run of dirty chunks [from, to) on one side.
type span struct{ from, to int }

func runs(s *side) []span {
	var out []span
	for i := 0; i < len(s.dirty); {
		if !s.dirty[i] {
			i++
			continue
		}
		j := i
		for j < len(s.dirty) && s.dirty[j] {
			j++
		}
		out = append(out, span{i, j})
		i = j
	}
	return out
}

// unit is work for one goroutine: a run on each side that belong together
// (the same clean chunk before both), or a lone run.
type unit struct {
	r [2]*span
	// parsed rows, in order
	rows [2][]Row
	// mid is, per side, the file range parsed: of paired runs, the
	// rows between those equal at the start and at the end.
	mid [2][2]int64
	// same lists the rows of the middles equal on both sides (not
	// parsed), by their offset in the old file.
	same []pair
	err  error
}

func (d *differ) units() []*unit {
	a, b := d.sides[0], d.sides[1]
	ra, rb := runs(a), runs(b)
	// A run on b is found by the clean chunk just before it.
	byPrev := map[int]int{} // index of b's chunk before the run (-1: start) → run
	for i := range rb {
		byPrev[rb[i].from-1] = i
	}
	used := make([]bool, len(rb))
	var out []*unit
	for i := range ra {
		u := &unit{}
		u.r[0] = &ra[i]
		prevB := -1
		if ra[i].from > 0 {
			prevB = a.partner[ra[i].from-1] // clean, so it has a partner
		}
		if j, ok := byPrev[prevB]; ok && !used[j] && (prevB >= 0 || ra[i].from == 0) {
			u.r[1] = &rb[j]
			used[j] = true
		}
		out = append(out, u)
	}
	for j := range rb {
		if !used[j] {
			out = append(out, &unit{r: [2]*span{nil, &rb[j]}})
		}
	}
	return out
}

// run reads and parses every unit and compares the rows.
func (d *differ) run(ctx context.Context) (*RowDiff, error) {
	d.stats.BytesParsed = 0
	us := d.units()
	todo := us
	if d.only != nil {
		todo = nil
		for _, u := range us {
			if u.r[0] == nil || d.only(u.r[0].from, u.r[0].to) {
				todo = append(todo, u)
			}
		}
	}
	d.prefetch(ctx, todo)
	var wg sync.WaitGroup
	next := make(chan *unit)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range next {
				u.err = d.doUnit(ctx, u)
			}
		}()
	}
	for _, u := range todo {
		next <- u
	}
	close(next)
	wg.Wait()
	widened := false
	for _, u := range us {
		if u.err == nil {
			continue
		}
		var mis misaligned
		if errors.As(u.err, &mis) {
			// The run ends inside a row: take in the next chunk.
			if mis.next < len(d.sides[mis.side].dirty) {
				d.mark(mis.side, mis.next)
				widened = true
				continue
			}
			return nil, sideErr(mis.side, mis.err)
		}
		return nil, u.err
	}
	if widened {
		return nil, errWiden
	}
	res, err := d.compare(us)
	if err != nil {
		return nil, err
	}
	res.d, res.us = d, us
	return res, nil
}

type misaligned struct {
	side, next int
	err        error
}

func (m misaligned) Error() string { return m.err.Error() }

func (d *differ) doUnit(ctx context.Context, u *unit) error {
	var data [2][]byte
	for k, r := range u.r {
		if r == nil {
			continue
		}
		buf, err := d.readRun(ctx, d.sides[k], *r)
		if err != nil {
			return sideErr(k, err)
		}
		defer d.putBuf(buf)
		if r.from == 0 {
			buf = buf[d.sides[k].hdrLen:]
		}
		data[k] = buf
	}
	// Rows equal at the start and at the end of paired runs are the same
	// rows on both sides: skip them unparsed.
	var start [2]int64 // file offset of data[k]
	for k, r := range u.r {
		if r != nil {
			start[k] = d.sides[k].offs[r.from]
			if r.from == 0 {
				start[k] += int64(d.sides[k].hdrLen)
			}
		}
	}
	if u.r[0] != nil && u.r[1] != nil {
		var cut int
		data[0], data[1], cut = trimCommon(data[0], data[1], d.t.Quoted())
		start[0] += int64(cut)
		start[1] += int64(cut)
	}
	for k := range u.r {
		u.mid[k] = [2]int64{start[k], start[k] + int64(len(data[k]))}
	}
	// Between them, rows equal on both sides (in any order) are skipped
	// too: only the rows of one side alone are parsed.
	var spans [2][][2]int
	if u.r[0] != nil && u.r[1] != nil {
		spans, u.same = d.unmatched(data, start, [2]bool{u.r[0].to == len(d.sides[0].chunks), u.r[1].to == len(d.sides[1].chunks)})
	}
	for k, r := range u.r {
		if r == nil {
			continue
		}
		s := d.sides[k]
		atEOF := r.to == len(s.chunks)
		sp := spans[k]
		if sp == nil {
			sp = [][2]int{{0, len(data[k])}}
		}
		for _, x := range sp {
			d.mu.Lock()
			d.stats.BytesParsed += int64(x[1] - x[0])
			d.mu.Unlock()
			rows, err := d.parse(ctx, k, s, data[k][x[0]:x[1]], start[k]+int64(x[0]), atEOF && x[1] == len(data[k]))
			if errors.Is(err, ErrMisaligned) {
				return misaligned{side: k, next: r.to, err: err}
			}
			if err != nil {
				return err
			}
			u.rows[k] = append(u.rows[k], rows...)
		}
	}
	return nil
}

// unmatched splits the two sides' bytes into rows and pairs rows equal
// byte for byte, in any order: they are the same rows on both sides. It
// returns, per side, the spans of the rows left (consecutive ones joined)
// and the file offsets of the paired rows, by the first side's. Spans are
// nil (parse all) when a side does not end at a row end, which parsing
// then reports.
func (d *differ) unmatched(data [2][]byte, start [2]int64, atEOF [2]bool) (spans [2][][2]int, same []pair) {
	var ends [2][]int
	for k := range data {
		e, ok := rowEnds(data[k], d.t.Quoted(), atEOF[k])
		if !ok {
			return [2][][2]int{}, nil
		}
		ends[k] = e
	}
	if len(ends[0]) <= 1 || len(ends[1]) <= 1 {
		// Nothing to pair that trimming the ends did not.
		return [2][][2]int{{{0, len(data[0])}}, {{0, len(data[1])}}}, nil
	}
	row := func(k, i int) []byte {
		lo := 0
		if i > 0 {
			lo = ends[k][i-1]
		}
		return data[k][lo:ends[k][i]]
	}
	seed := d.seed
	byHash := make(map[uint64][]int, len(ends[0]))
	for i := range ends[0] {
		h := maphash.Bytes(seed, row(0, i))
		byHash[h] = append(byHash[h], i)
	}
	var matched [2][]bool
	matched[0], matched[1] = make([]bool, len(ends[0])), make([]bool, len(ends[1]))
	for j := range ends[1] {
		b := row(1, j)
		cands := byHash[maphash.Bytes(seed, b)]
		for n, i := range cands {
			if bytes.Equal(row(0, i), b) {
				matched[0][i], matched[1][j] = true, true
				lo0, lo1 := 0, 0
				if i > 0 {
					lo0 = ends[0][i-1]
				}
				if j > 0 {
					lo1 = ends[1][j-1]
				}
				same = append(same, pair{start[0] + int64(lo0), start[1] + int64(lo1)})
				byHash[maphash.Bytes(seed, b)] = slices.Delete(cands, n, n+1)
				break
			}
		}
	}
	slices.SortFunc(same, func(a, b pair) int { return cmp.Compare(a.a, b.a) })
	for k := range data {
		lo := 0
		for i, e := range ends[k] {
			if !matched[k][i] {
				if n := len(spans[k]); n > 0 && spans[k][n-1][1] == lo {
					spans[k][n-1][1] = e
				} else {
					spans[k] = append(spans[k], [2]int{lo, e})
				}
			}
			lo = e
		}
		if spans[k] == nil {
			spans[k] = [][2]int{} // every row paired: nothing to parse
		}
	}
	return spans, same
}

// pair is a row equal on both sides: its file offset on each.
type pair struct{ a, b int64 }

// rowEnds lists where data's rows end: at a '\n', outside quotes when
// fields may be quoted (data starts at a row boundary). ok is false when
// data ends inside a row, unless atEOF: then the bytes after the last
// '\n' are the last row.
func rowEnds(data []byte, quoted, atEOF bool) (ends []int, ok bool) {
	ends = make([]int, 0, len(data)/64+1)
	for p, quotes := 0, 0; ; {
		if p, quotes = nextRowEnd(data, p, quotes, quoted); p < 0 {
			break
		}
		ends = append(ends, p)
	}
	last := 0
	if len(ends) > 0 {
		last = ends[len(ends)-1]
	}
	if last == len(data) {
		return ends, true
	}
	if !atEOF {
		return nil, false
	}
	return append(ends, len(data)), true
}

// parallelBytes: runs and parses bigger than this are split over cores.
const parallelBytes = 1 << 20

// readRun reads the chunks of a run into one buffer, decompressing each
// straight into its place, in parallel for long runs.
func (d *differ) readRun(ctx context.Context, s *side, r span) ([]byte, error) {
	base := s.offs[r.from]
	size := s.offs[r.to-1] + int64(s.chunks[r.to-1].Len) - base
	buf := d.getBuf(size)
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
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return buf, nil
}

// bufQuantum rounds run buffers up, so that one fits most later runs:
// a run is a chunk or a few, and a line-mode chunk at most 256 KiB.
const bufQuantum = 256 << 10

// getBuf returns a buffer of length size, recycled if one is free.
func (d *differ) getBuf(size int64) []byte {
	d.mu.Lock()
	best := -1
	for i, b := range d.bufs {
		if int64(cap(b)) >= size && (best < 0 || cap(b) < cap(d.bufs[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := d.bufs[best]
		d.bufs = slices.Delete(d.bufs, best, best+1)
		d.mu.Unlock()
		return b[:size]
	}
	d.mu.Unlock()
	return make([]byte, size, (size+bufQuantum-1)/bufQuantum*bufQuantum)
}

// putBuf gives a buffer from getBuf back.
func (d *differ) putBuf(b []byte) {
	d.mu.Lock()
	d.bufs = append(d.bufs, b[:0])
	d.mu.Unlock()
}

// parse parses data (starting at file offset off) into rows, splitting big
// runs at row boundaries and parsing the pieces in parallel.
func (d *differ) parse(ctx context.Context, k int, s *side, data []byte, off int64, atEOF bool) ([]Row, error) {
	pieces := [][]byte{data}
	if len(data) >= 2*parallelBytes {
		pieces = splitRows(data, runtime.GOMAXPROCS(0)*2, d.t.Quoted())
	}
	rows := make([][]Row, len(pieces))
	errs := make([]error, len(pieces))
	var wg sync.WaitGroup
	pieceOff := off
	for i, p := range pieces {
		wg.Add(1)
		go func(i int, p []byte, off int64) {
			defer wg.Done()
			out := make([]Row, 0, bytes.Count(p, []byte{'\n'})+1)
			err := d.t.Parse(s.header, p, atEOF && i == len(pieces)-1, func(row Row) error {
				row.Off += off
				row.End += off
				out = append(out, row)
				return nil
			})
			if err != nil && !errors.Is(err, ErrMisaligned) {
				err = sideErr(k, d.absLine(ctx, k, off, err))
			}
			rows[i], errs[i] = out, err
		}(i, p, pieceOff)
		pieceOff += int64(len(p))
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if len(rows) == 1 {
		return rows[0], nil
	}
	n := 0
	for _, r := range rows {
		n += len(r)
	}
	out := make([]Row, 0, n)
	for _, r := range rows {
		out = append(out, r...)
	}
	return out, nil
}

// nextRowEnd returns the offset just past the first '\n' at or after p that
// ends a row: outside quotes when fields may be quoted, quotes being the
// count of quotes before p since a row boundary. It returns that count up
// to the offset too, and -1 when no row ends in data[p:].
func nextRowEnd(data []byte, p, quotes int, quoted bool) (int, int) {
	for p < len(data) {
		i := bytes.IndexByte(data[p:], '\n')
		if i < 0 {
			break
		}
		if quoted {
			quotes += bytes.Count(data[p:p+i], quote)
		}
		p += i + 1
		if quotes%2 == 0 {
			return p, quotes
		}
	}
	return -1, quotes
}

// splitRows cuts data into about n pieces, each ending at a row end: a
// '\n', outside quotes when fields may be quoted (data starts at a row
// boundary, so the parity of the quotes before a point tells).
func splitRows(data []byte, n int, quoted bool) [][]byte {
	target := len(data) / n
	var out [][]byte
	start := 0
	for len(out) < n-1 {
		p := start + target
		if p >= len(data) {
			break
		}
		quotes := 0
		if quoted {
			quotes = bytes.Count(data[start:p], quote)
		}
		cut, _ := nextRowEnd(data, p, quotes, quoted)
		if cut < 0 || cut >= len(data) {
			break
		}
		out = append(out, data[start:cut])
		start = cut
	}
	return append(out, data[start:])
}

// trimCommon drops the rows the two byte runs share at their start and at
// their end. Cuts are made only at row starts: after a '\n' (outside
// quotes when fields may be quoted; both runs start and end at row
// boundaries, so the parity of the quotes before or after a point tells).
func trimCommon(a, b []byte, quoted bool) (ta, tb []byte, cut int) {
	n := min(len(a), len(b))
	p := 0
	for p < n && a[p] == b[p] {
		p++
	}
	cut = bytes.LastIndexByte(a[:p], '\n') + 1
	for quoted && cut > 0 && bytes.Count(a[:cut], quote)%2 == 1 {
		cut = bytes.LastIndexByte(a[:cut-1], '\n') + 1
	}
	a, b = a[cut:], b[cut:]
	n = min(len(a), len(b))
	q := 0
	for q < n && a[len(a)-1-q] == b[len(b)-1-q] {
		q++
	}
	rowStart := func(x []byte, q int) bool { i := len(x) - q; return i == 0 || x[i-1] == '\n' }
	for q > 0 {
		if rowStart(a, q) && rowStart(b, q) && (!quoted || bytes.Count(a[len(a)-q:], quote)%2 == 0) {
			return a[:len(a)-q], b[:len(b)-q], cut
		}
		// The next candidate starts just after the suffix's next '\n'
		// (the byte before it is then common to both sides).
		i := bytes.IndexByte(a[len(a)-q:], '\n')
		if i < 0 {
			break
		}
		q -= i + 1
	}
	return a, b, cut
}

var quote = []byte{'"'}

// compare matches the parsed rows by key.
func (d *differ) compare(us []*unit) (*RowDiff, error) {
	res := &RowDiff{OldHeader: d.sides[0].header, NewHeader: d.sides[1].header}
	keyed := d.t.Keyed()
	type ref struct{ u, i int }
	var old map[string]ref
	oldCount := map[string]int{}
	if keyed {
		n := 0
		for _, u := range us {
			n += len(u.rows[0])
		}
		old = make(map[string]ref, n)
	}
	for ui, u := range us {
		for i := range u.rows[0] {
			r := &u.rows[0][i]
			if keyed {
				if _, dup := old[r.Key]; dup {
					return nil, sideErr(0, &DuplicateKeyError{Key: r.Key})
				}
				old[r.Key] = ref{ui, i}
			} else {
				oldCount[r.Key]++
			}
		}
	}
	nNew := 0
	for _, u := range us {
		nNew += len(u.rows[1])
	}
	seenNew := make(map[string]bool, nNew)
	var changed []RowChange
	added := make([]RowChange, 0, nNew)
	for _, u := range us {
		for i := range u.rows[1] {
			r := &u.rows[1][i]
			if keyed {
				if seenNew[r.Key] {
					return nil, sideErr(1, &DuplicateKeyError{Key: r.Key})
				}
				seenNew[r.Key] = true
				o, ok := old[r.Key]
				if !ok {
					added = append(added, RowChange{Kind: RowAdded, Key: r.Key, New: r})
					continue
				}
				or := &us[o.u].rows[0][o.i]
				delete(old, r.Key)
				if cols := changedColumns(or, r); len(cols) > 0 {
					changed = append(changed, RowChange{Kind: RowChanged, Key: r.Key, Old: or, New: r, Columns: cols})
				}
				continue
			}
			if oldCount[r.Key] > 0 {
				oldCount[r.Key]--
				continue
			}
			added = append(added, RowChange{Kind: RowAdded, Key: r.Key, New: r})
		}
	}
	for _, u := range us {
		for i := range u.rows[0] {
			r := &u.rows[0][i]
			if keyed {
				if _, ok := old[r.Key]; ok {
					res.Changes = append(res.Changes, RowChange{Kind: RowRemoved, Key: r.Key, Old: r})
				}
				continue
			}
			if oldCount[r.Key] > 0 {
				oldCount[r.Key]--
				res.Changes = append(res.Changes, RowChange{Kind: RowRemoved, Key: r.Key, Old: r})
			}
		}
	}
	all := make([]RowChange, 0, len(res.Changes)+len(changed)+len(added))
	res.Changes = append(append(append(all, res.Changes...), changed...), added...)
	d.stats.BytesTotal = d.sides[0].size + d.sides[1].size
	d.stats.Chunks = len(d.sides[0].chunks) + len(d.sides[1].chunks)
	res.Stats = d.stats
	res.Stats.FullParse = !d.o.Aligned
	return res, nil
}

// changedColumns lists, in the new row's column order, the columns whose
// values differ, then the columns only the old row has.
func changedColumns(o, n *Row) []string {
	if slices.Equal(o.Cols, n.Cols) {
		var out []string
		for i := range n.Vals {
			if o.Vals[i] != n.Vals[i] {
				out = append(out, n.Cols[i])
			}
		}
		return out
	}
	var out []string
	for i, c := range n.Cols {
		if v, ok := o.Value(c); !ok || v != n.Vals[i] {
			out = append(out, c)
		}
	}
	for _, c := range o.Cols {
		if _, ok := n.Value(c); !ok {
			out = append(out, c)
		}
	}
	return out
}

func showKey(k string) string { return fmt.Sprintf("%q", ShowKey(k)) }
