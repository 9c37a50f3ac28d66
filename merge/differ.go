package merge

import (
	"context"
	"errors"
	"hash/maphash"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/dxdata/dx/dag"
)

// side is one version in a diff: its chunks, which of them the diff reads
// (dirty) and which it shares with the other version (partner).
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
	// inside marks the cuts the source says fall inside a row (the cut
	// after chunk i); nil if none.
	inside []bool
}

func newSide(src Source) *side {
	cs := src.Chunks()
	s := &side{src: src, chunks: cs, offs: make([]int64, len(cs)), dirty: make([]bool, len(cs)), partner: make([]int, len(cs)), cache: map[int][]byte{}}
	for i, c := range cs {
		s.offs[i] = s.size
		s.size += int64(c.Len)
		s.partner[i] = -1
	}
	if cuts := CutsInsideRows(src); len(cuts) > 0 {
		s.inside = make([]bool, len(cs))
		for _, i := range cuts {
			if i >= 0 && i < len(cs) {
				s.inside[i] = true
			}
		}
	}
	return s
}

// chunkAt is the index of the chunk of s holding file offset off, or -1.
func (s *side) chunkAt(off int64) int {
	if off < 0 || off >= s.size {
		return -1
	}
	return sort.Search(len(s.offs), func(i int) bool { return s.offs[i] > off }) - 1
}

// differ diffs two versions (sides) of a table by rows: it pairs their
// equal chunks, groups the others into units, reads and parses those on
// all cores and compares the rows by key.
type differ struct {
	table Table
	opts  DiffOptions
	sides [2]*side   // the old version, the new
	mu    sync.Mutex // guards stats
	stats DiffStats
	bufs  runBuffers
	seed  maphash.Seed            // of the hashes that pair equal rows
	only  func(from, to int) bool // see diffRows
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
	return d.opts.Aligned && (d.opts.MaxChunk <= 0 || int(s.chunks[i].Len) < d.opts.MaxChunk) && (s.inside == nil || !s.inside[i])
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
// until every run starts and ends at one. A clean chunk stays clean only
// if it is read alike on both sides: each of its cuts is a row boundary on
// both, or on neither with the chunks across it partners too. (Where a cut
// is a row end depends on the bytes before it, not on the chunk alone: the
// same chunk may start inside a quoted field on one side only.)
func (d *differ) widen() {
	for changed := true; changed; {
		changed = false
		for k, s := range d.sides {
			o := d.sides[1-k]
			for i := range s.dirty {
				if !s.dirty[i] {
					if j := s.partner[i]; j >= 0 && !d.alike(s, o, i, j) {
						changed = d.mark(k, i) || changed
					}
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

// alike reports whether chunk i of s and its partner j of o are read
// alike: before them the starts of both files or row boundaries on both
// sides or partners across cuts that are not, and after them likewise.
func (d *differ) alike(s, o *side, i, j int) bool {
	before := func(x *side, i int) bool { return i == 0 || d.trusted(x, i-1) }
	after := func(x *side, i int) bool { return i == len(x.chunks)-1 || d.trusted(x, i) }
	switch {
	case before(s, i) != before(o, j):
		return false
	case !before(s, i) && (i == 0 || j == 0 || s.partner[i-1] != j-1):
		return false
	case after(s, i) != after(o, j):
		return false
	case !after(s, i) && (i+1 == len(s.chunks) || j+1 == len(o.chunks) || s.partner[i+1] != j+1):
		return false
	}
	return true
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
			h, n, err := d.table.Header(buf, i == len(s.chunks)-1)
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
	r [2]*span // its run on each side; nil: none
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
func (d *differ) run(ctx context.Context) (*tableDiff, error) {
	d.stats.BytesParsed = 0
	units := d.units()
	todo := units
	if d.only != nil {
		todo = nil
		for _, u := range units {
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
	for _, u := range units {
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
	res, err := d.compare(units)
	if err != nil {
		return nil, err
	}
	return &tableDiff{RowDiff: res, differ: d, units: units}, nil
}

// misaligned: the parsed bytes of a run of side ended inside a row; the
// run must take in chunk next.
type misaligned struct {
	side, next int
	err        error
}

func (m misaligned) Error() string { return m.err.Error() }

// doUnit reads the runs of u and parses the rows that differ.
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
		defer d.bufs.put(buf)
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
		data[0], data[1], cut = trimCommon(data[0], data[1], cutterOf(d.table))
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
			rows, err := d.parse(ctx, k, data[k][x[0]:x[1]], start[k]+int64(x[0]), atEOF && x[1] == len(data[k]))
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
