package merge

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"hash/maphash"
	"runtime"
	"slices"
	"sync"
)

// Row boundaries in the bytes of a run: a row ends at a '\n', outside
// quoted fields when fields may be quoted (Table.Quoted), where the
// table's RowEnder says (else by the parity of the quotes since a row
// boundary). Bytes handed to these functions start at a row boundary.

var quote = []byte{'"'}

// rowCutter finds row ends in the bytes of one table.
type rowCutter struct {
	quoted bool
	// end returns the offset just past the row end after the row
	// starting at data[p], or -1.
	end func(data []byte, p int) int
}

func cutterOf(t Table) rowCutter {
	if !t.Quoted() {
		return rowCutter{end: func(data []byte, p int) int { e, _ := nextRowEnd(data, p, 0, false); return e }}
	}
	if re, ok := t.(RowEnder); ok {
		return rowCutter{quoted: true, end: re.RowEnd}
	}
	return rowCutter{quoted: true, end: func(data []byte, p int) int { e, _ := nextRowEnd(data, p, 0, true); return e }}
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

// allEnds lists the row ends in data (which starts at a row boundary).
func (c rowCutter) allEnds(data []byte) []int {
	ends := make([]int, 0, len(data)/64+1)
	for p := 0; p < len(data); {
		if p = c.end(data, p); p < 0 {
			break
		}
		ends = append(ends, p)
	}
	return ends
}

// rowEnds lists where data's rows end (data starts at a row boundary). ok
// is false when data ends inside a row, unless atEOF: then the bytes after
// the last row end are the last row.
func rowEnds(data []byte, c rowCutter, atEOF bool) (ends []int, ok bool) {
	ends = c.allEnds(data)
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

// splitRows cuts data into about n pieces, each ending at a row end (data
// starts at a row boundary).
func splitRows(data []byte, n int, c rowCutter) [][]byte {
	target := len(data) / n
	var out [][]byte
	start := 0
	if c.quoted {
		// Where a row ends depends on all the bytes since a row boundary.
		for p := 0; len(out) < n-1; {
			if p = c.end(data, p); p < 0 || p >= len(data) {
				break
			}
			if p-start >= target {
				out = append(out, data[start:p])
				start = p
			}
		}
		return append(out, data[start:])
	}
	for len(out) < n-1 {
		p := start + target
		if p >= len(data) {
			break
		}
		cut, _ := nextRowEnd(data, p, 0, false)
		if cut < 0 || cut >= len(data) {
			break
		}
		out = append(out, data[start:cut])
		start = cut
	}
	return append(out, data[start:])
}

// trimCommon drops the rows the two byte runs share at their start and at
// their end. Cuts are made only at row starts (both runs start and end at
// row boundaries).
func trimCommon(a, b []byte, c rowCutter) (ta, tb []byte, cut int) {
	n := min(len(a), len(b))
	p := 0
	for p < n && a[p] == b[p] {
		p++
	}
	if c.quoted {
		for e := 0; e < len(a); {
			if e = c.end(a, e); e < 0 || e > p {
				break
			}
			cut = e
		}
	} else {
		cut = bytes.LastIndexByte(a[:p], '\n') + 1
	}
	a, b = a[cut:], b[cut:]
	n = min(len(a), len(b))
	q := 0
	for q < n && a[len(a)-1-q] == b[len(b)-1-q] {
		q++
	}
	if c.quoted {
		// The longest common suffix that starts a row on both sides, if
		// both end at a row end (else a quoted field may be left open).
		startsA, startsB := c.allEnds(a), c.allEnds(b)
		if len(startsA) == 0 || len(startsB) == 0 || startsA[len(startsA)-1] != len(a) || startsB[len(startsB)-1] != len(b) {
			return a, b, cut
		}
		for _, i := range append([]int{0}, startsA...) {
			if s := len(a) - i; s > 0 && s <= q {
				if j := len(b) - s; j == 0 || contains(startsB, j) {
					return a[:i], b[:j], cut
				}
			}
		}
		return a, b, cut
	}
	rowStart := func(x []byte, q int) bool { i := len(x) - q; return i == 0 || x[i-1] == '\n' }
	for q > 0 {
		if rowStart(a, q) && rowStart(b, q) {
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

// pair is a row equal on both sides: its file offset on each.
type pair struct{ a, b int64 }

// unmatched splits the two sides' bytes into rows and pairs rows equal
// byte for byte, in any order: they are the same rows on both sides. It
// returns, per side, the spans of the rows left (consecutive ones joined)
// and the file offsets of the paired rows, by the first side's. Spans are
// nil (parse all) when a side does not end at a row end, which parsing
// then reports.
func (d *differ) unmatched(data [2][]byte, start [2]int64, atEOF [2]bool) (spans [2][][2]int, same []pair) {
	var ends [2][]int
	for k := range data {
		e, ok := rowEnds(data[k], cutterOf(d.table), atEOF[k])
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

// parse parses data of side k (starting at file offset off) into rows,
// splitting big runs at row boundaries and parsing the pieces in parallel.
func (d *differ) parse(ctx context.Context, k int, data []byte, off int64, atEOF bool) ([]Row, error) {
	s := d.sides[k]
	pieces := [][]byte{data}
	if len(data) >= 2*parallelBytes {
		pieces = splitRows(data, runtime.GOMAXPROCS(0)*2, cutterOf(d.table))
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
			err := d.table.Parse(s.header, p, atEOF && i == len(pieces)-1, func(row Row) error {
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

// contains reports whether the sorted ends hold e.
func contains(ends []int, e int) bool {
	_, ok := slices.BinarySearch(ends, e)
	return ok
}
