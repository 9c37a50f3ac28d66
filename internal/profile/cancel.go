package profile

import (
	"bytes"
	"sync"

	"github.com/dxdata/dx/internal/table"
	"github.com/zeebo/xxh3"
)

// spanRows are a span's rows (its data past the header), for the rows
// both versions hold to cancel out.
type spanRows struct {
	data []byte
	rows [][]byte // each without its line end
	keep []bool   // the rows that do not cancel (see cancelRows)
	gap  int      // the spans both versions hold before it
}

// splitRows splits a span's rows where the table reader ends them: at
// each line end, if no field is quoted.
func splitRows(rd *table.Reader, data []byte) spanRows {
	sr := spanRows{data: data, rows: make([][]byte, 0, bytes.Count(data, []byte{'\n'})+1)}
	lineEnds := !rd.Quoted() || bytes.IndexByte(data, rd.Spec().CSVDialect().Quote) < 0
	for p := 0; p < len(data); {
		var e int
		if lineEnds {
			if e = bytes.IndexByte(data[p:], '\n'); e >= 0 {
				e += p + 1
			}
		} else {
			e = rd.RowEnd(data, p)
		}
		if e < 0 {
			e = len(data)
		}
		row := bytes.TrimSuffix(data[p:e], []byte{'\n'})
		sr.rows = append(sr.rows, row)
		p = e
	}
	return sr
}

// cancelRows drops the rows that both out (the removed spans') and in
// (the added spans') hold, as many times as both hold them, and returns
// the rest of each, a line end after every row, but for the spans of in
// of which no row was dropped (whole: their indices); false if two rows
// of one hash differ (never seen: then the spans are profiled).
//
// Both are walked in file order side by side, as a diff would: a row
// equal to the other side's cancels, and past a mismatch the walk looks
// a few rows ahead on either side for the rows to meet again (an update,
// an insert, a delete). The rows it passes (and those of edits it cannot
// line up, a row moved say) are then matched by hash.
func cancelRows(out, in []spanRows) (outRows, inRows []byte, whole []int, ok bool) {
	// The refs of each gap's rows, in file order.
	byGap := map[int]*[2][]ref{}
	flat := func(ss []spanRows, side int) {
		for s := range ss {
			ss[s].keep = make([]bool, len(ss[s].rows))
			g := byGap[ss[s].gap]
			if g == nil {
				g = &[2][]ref{}
				byGap[ss[s].gap] = g
			}
			for i := range ss[s].rows {
				g[side] = append(g[side], ref{int32(s), int32(i)})
			}
		}
	}
	flat(out, 0)
	flat(in, 1)
	gaps := make([]*[2][]ref, 0, len(byGap))
	for _, g := range byGap {
		gaps = append(gaps, g)
	}
	// Each gap walked on its own, the gaps on all cores.
	var mu sync.Mutex
	var restO, restN []ref
	onCores(len(gaps), func(_, k int) bool {
		ro, rn := walkGap(out, in, gaps[k][0], gaps[k][1])
		mu.Lock()
		restO, restN = append(restO, ro...), append(restN, rn...)
		mu.Unlock()
		return true
	})
	row := func(ss []spanRows, r ref) []byte { return ss[r.span].rows[r.row] }
	// The rows passed, matched by hash.
	type held struct {
		at ref
		n  int
	}
	byHash := make(map[uint64]*held, len(restO))
	heldO := make([]*held, len(restO)) // each row's entry
	for i, r := range restO {
		h := xxh3.Hash(row(out, r))
		e, ok := byHash[h]
		switch {
		case !ok:
			e = &held{r, 0}
			byHash[h] = e
		case !bytes.Equal(row(out, e.at), row(out, r)):
			return nil, nil, nil, false
		}
		e.n++
		heldO[i] = e
	}
	for _, r := range restN {
		e, ok := byHash[xxh3.Hash(row(in, r))]
		switch {
		case ok && !bytes.Equal(row(out, e.at), row(in, r)):
			return nil, nil, nil, false
		case ok && e.n > 0:
			e.n--
		default:
			in[r.span].keep[r.row] = true
		}
	}
	for i, r := range restO {
		if e := heldO[i]; e.n > 0 {
			e.n--
			out[r.span].keep[r.row] = true
		}
	}
	appendRow := func(dst, row []byte) []byte { return append(append(dst, row...), '\n') }
	for s, sr := range in {
		kept := 0
		for _, k := range sr.keep {
			if k {
				kept++
			}
		}
		if kept == len(sr.rows) && kept > 0 {
			whole = append(whole, s)
			continue
		}
		for i, row := range sr.rows {
			if sr.keep[i] {
				inRows = appendRow(inRows, row)
			}
		}
	}
	for _, sr := range out {
		for i, row := range sr.rows {
			if sr.keep[i] {
				outRows = appendRow(outRows, row)
			}
		}
	}
	return outRows, inRows, whole, true
}

// ref is a row of a span of cancelRows' out or in.
type ref struct{ span, row int32 }

// walkGap walks the rows o of out and n of in side by side (see
// cancelRows), returning those it passes.
func walkGap(out, in []spanRows, o, n []ref) (restO, restN []ref) {
	eq := func(i, j int) bool { return bytes.Equal(out[o[i].span].rows[o[i].row], in[n[j].span].rows[n[j].row]) }
	i, j := 0, 0
	for i < len(o) && j < len(n) {
		if eq(i, j) {
			i, j = i+1, j+1
			continue
		}
		di, dj := resync(len(o)-i, len(n)-j, func(a, b int) bool { return eq(i+a, j+b) })
		restO, restN = append(restO, o[i:i+di]...), append(restN, n[j:j+dj]...)
		i, j = i+di, j+dj
	}
	return append(restO, o[i:]...), append(restN, n[j:]...)
}

// lookAhead is how many rows past a mismatch the walk of cancelRows
// looks on either side.
const lookAhead = 16

// resync finds where two walks that just disagreed (at a = b = 0; eq
// compares the rows a and b past that, of no and nn left) meet again:
// the fewest rows to pass on each side, di and dj, to rows that are
// equal, looking up to lookAhead ahead; or one row each.
func resync(no, nn int, eq func(a, b int) bool) (di, dj int) {
	for d := 1; d <= lookAhead; d++ {
		// Rows passed in all: d, as evenly as they fall.
		for a := 0; a <= d; a++ {
			b := d - a
			if a < no && b < nn && eq(a, b) {
				return a, b
			}
		}
	}
	return min(1, no), min(1, nn)
}
