package parquet

import (
	"bytes"
	"errors"
	"io"

	pq "github.com/parquet-go/parquet-go"

	"github.com/dxdata/dx/merge"
)

// Decoding parts of a version: some leaf columns over a run of rows, or
// one row whole (see inplace.go).

// keyLeaves are the leaf columns of the key fields, or nil when a key
// field is not a leaf (nested): then rows are not compared in place.
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
	// The values go in one array, each row a slice of it: a row per
	// allocation would cost more than decoding it.
	flat := make([]pq.Value, 0, n)
	starts := make([]int, 0, n)
	rowsOf := func() [][]pq.Value {
		rows := make([][]pq.Value, len(starts))
		for i, s := range starts {
			e := len(flat)
			if i+1 < len(starts) {
				e = starts[i+1]
			}
			rows[i] = flat[s:e:e]
		}
		return rows
	}
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
					if len(starts) == n {
						pq.Release(pg)
						return rowsOf(), nil
					}
					starts = append(starts, len(flat))
				}
				if len(starts) == 0 {
					return nil, invalid("row group %d, column %d: a value continues a row before row %d", g, c, from)
				}
				flat = append(flat, val.Clone())
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
	if len(starts) != n {
		return nil, invalid("row group %d, column %d: %d rows from row %d, want %d", g, c, len(starts), from, n)
	}
	return rowsOf(), nil
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
