package parquet

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	pq "github.com/parquet-go/parquet-go"

	"github.com/dxdata/dx/merge"
)

// Two segments left unpaired, one of each version, are aligned when
// their key columns' bytes are the same (so are their rows' keys, in
// order) and they hold as many rows: an update in place. Of an aligned
// pair only the columns whose bytes differ are decoded, to find the rows
// that changed, and then those rows whole; the pages of the other
// columns, which both versions share, are not decoded.

// keyLeaves are the leaf columns of the key fields, or nil when a key
// field is not a leaf (nested) and segments are not aligned.
func (v *version) keyLeaves(keyIdx []int) []int {
	at := make([]int, len(v.fields))
	n := 0
	for i, f := range v.fields {
		at[i] = n
		n += leaves(f)
	}
	var out []int
	for _, k := range keyIdx {
		if !v.fields[k].Leaf() {
			return nil
		}
		out = append(out, at[k])
	}
	return out
}

// align pairs the aligned segments of pending, comparing their key
// columns by ids (per leaf column; nil: not known), and returns the pairs
// and the segments left.
func align(pending [2][]segment, keyLeaves []int, ids func(*segment) [][32]byte) (pairs [][2]segment, left [2][]segment) {
	if len(keyLeaves) == 0 {
		return nil, pending
	}
	keyOf := func(s *segment) [32]byte {
		h := sha256.New()
		fmt.Fprintf(h, "%d;", s.to-s.from)
		for _, c := range keyLeaves {
			h.Write(ids(s)[c][:])
		}
		var id [32]byte
		h.Sum(id[:0])
		return id
	}
	old := map[[32]byte]int{}
	for i := range pending[0] {
		if s := &pending[0][i]; s.to > s.from && len(ids(s)) == len(s.cols) {
			old[keyOf(s)] = i
		}
	}
	used := make([]bool, len(pending[0]))
	for i := range pending[1] {
		s := &pending[1][i]
		if s.to > s.from && len(ids(s)) == len(s.cols) {
			if j, ok := old[keyOf(s)]; ok && !used[j] && len(pending[0][j].cols) == len(s.cols) {
				used[j] = true
				pairs = append(pairs, [2]segment{pending[0][j], *s})
				continue
			}
		}
		left[1] = append(left[1], *s)
	}
	for i := range pending[0] {
		if !used[i] {
			left[0] = append(left[0], pending[0][i])
		}
	}
	return pairs, left
}

// diffAligned lists the rows that changed in an aligned pair: the columns
// whose bytes differ are decoded on both sides and compared row by row,
// and the rows that differ are decoded whole.
func diffAligned(vs [2]*version, p [2]segment, keyIdx []int, seen [2]map[page]bool, st *merge.DiffStats) ([]merge.RowChange, error) {
	n := int(p[0].to - p[0].from)
	changed := make([]bool, n)
	old := map[int][][]pq.Value{} // the old version's values of the leaf columns that differ
	for c := range p[0].cols {
		if p[0].colChunk[c] == p[1].colChunk[c] {
			continue // the same chunks: the same bytes, unread
		}
		if p[0].colIDs != nil && p[1].colIDs != nil {
			if p[0].colIDs[c] == p[1].colIDs[c] {
				continue
			}
		} else if vs[0].colContent(&p[0], c) == vs[1].colContent(&p[1], c) {
			continue // the same bytes in chunks that differ
		}
		var rows [2][][]pq.Value
		for k, v := range vs {
			v.countPages(p[k], []int{c}, seen[k], st)
			r, err := v.leafRows(p[k].group, c, p[k].from, p[k].to)
			if err != nil {
				return nil, &merge.SideError{Side: k, Err: err}
			}
			rows[k] = r
		}
		old[c] = rows[0]
		for i := range n {
			if !equalValues(rows[0][i], rows[1][i]) {
				changed[i] = true
			}
		}
	}
	// A changed row is decoded whole in the new version; in the old one
	// it has the same values but in the columns that differ, decoded
	// already.
	all := make([]int, len(p[0].cols))
	for i := range all {
		all[i] = i
	}
	var out []merge.RowChange
	for i, ch := range changed {
		if !ch {
			continue
		}
		vs[1].countPages(p[1], all, seen[1], st)
		nr, err := vs[1].readRow(p[1].group, p[1].from+int64(i))
		if err != nil {
			return nil, &merge.SideError{Side: 1, Err: err}
		}
		or := make(pq.Row, 0, len(nr))
		for _, val := range nr {
			if _, ok := old[val.Column()]; !ok {
				or = append(or, val)
			}
		}
		for _, c := range slices.Sorted(maps.Keys(old)) {
			or = append(or, old[c][i]...)
		}
		var rows [2]merge.Row
		for k, r := range []pq.Row{or, nr} {
			row, err := vs[k].convert(r, keyIdx)
			if err != nil {
				return nil, &merge.SideError{Side: k, Err: invalid("row group %d: row %d: %v", p[k].group, p[k].from+int64(i), err)}
			}
			rows[k] = row
		}
		st.RowsDecoded++
		o, nw := rows[0], rows[1]
		if cols := changedColumns(&o, &nw); len(cols) > 0 {
			out = append(out, merge.RowChange{Kind: merge.RowChanged, Key: nw.Key, Old: &o, New: &nw, Columns: cols})
		}
	}
	return out, nil
}

// leafRows decodes leaf column c of row group g for rows [from, to): the
// values of each row.
func (v *version) leafRows(g, c int, from, to int64) (rows [][]pq.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			rows, err = nil, invalid("not valid Parquet: %v", p)
		}
	}()
	pages := v.f.RowGroups()[g].ColumnChunks()[c].Pages()
	defer pages.Close()
	if err := pages.SeekToRow(from); err != nil {
		return nil, invalid("row group %d, column %d: seek to row %d: %v", g, c, from, err)
	}
	n := int(to - from)
	buf := make([]pq.Value, 512)
	for {
		pg, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, invalid("row group %d, column %d: %v", g, c, err)
		}
		vr := pg.Values()
		for done := false; !done; {
			k, err := vr.ReadValues(buf)
			for _, val := range buf[:k] {
				if val.RepetitionLevel() == 0 {
					if len(rows) == n {
						pq.Release(pg)
						return rows, nil
					}
					rows = append(rows, nil)
				}
				if len(rows) == 0 {
					return nil, invalid("row group %d, column %d: a value continues a row before row %d", g, c, from)
				}
				rows[len(rows)-1] = append(rows[len(rows)-1], val.Clone())
			}
			switch {
			case errors.Is(err, io.EOF):
				done = true
			case err != nil:
				return nil, invalid("row group %d, column %d: %v", g, c, err)
			}
		}
		pq.Release(pg)
	}
	if len(rows) != n {
		return nil, invalid("row group %d, column %d: %d rows from row %d, want %d", g, c, len(rows), from, n)
	}
	return rows, nil
}

// equalValues: two rows' values of one leaf column are the same.
func equalValues(a, b []pq.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Kind() != y.Kind() || x.IsNull() != y.IsNull() || x.RepetitionLevel() != y.RepetitionLevel() ||
			x.DefinitionLevel() != y.DefinitionLevel() || !bytes.Equal(x.Bytes(), y.Bytes()) {
			return false
		}
	}
	return true
}

// readRow decodes row r of row group g whole (its values its own).
func (v *version) readRow(g int, r int64) (row pq.Row, err error) {
	defer func() {
		if p := recover(); p != nil {
			row, err = nil, invalid("not valid Parquet: %v", p)
		}
	}()
	rows := v.f.RowGroups()[g].Rows()
	defer rows.Close()
	if err := rows.SeekToRow(r); err != nil {
		return nil, invalid("row group %d: seek to row %d: %v", g, r, err)
	}
	buf := make([]pq.Row, 1)
	if n, err := rows.ReadRows(buf); n != 1 {
		return nil, invalid("row group %d: row %d: %v", g, r, err)
	}
	return buf[0].Clone(), nil
}

// convert turns a decoded row into a merge.Row.
func (v *version) convert(r pq.Row, keyIdx []int) (merge.Row, error) {
	leafCounts := make([]int, len(v.fields))
	nLeaves := 0
	for i, f := range v.fields {
		leafCounts[i] = leaves(f)
		nLeaves += leafCounts[i]
	}
	return v.row(r, &assembler{}, make([][]pq.Value, nLeaves), leafCounts, keyIdx, true)
}
